package plan

import (
	"strings"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"

	"berth.dev/berth/apis/v1alpha1"
)

func TestDecideLease(t *testing.T) {
	t0 := time.Date(2026, 12, 2, 3, 0, 0, 0, time.UTC)
	d := 30 * time.Second
	cases := []struct {
		name        string
		clock       LeaseClock
		wantExpired bool
		wantWait    time.Duration
	}{
		{"just renewed", LeaseClock{Renew: t0, Duration: d, Now: t0, Unchanged: 0, Uptime: time.Hour}, false, d},
		{"renewed 20s ago, seen since", LeaseClock{Renew: t0, Duration: d, Now: t0.Add(20 * time.Second), Unchanged: 20 * time.Second, Uptime: time.Hour}, false, 10 * time.Second},
		{"not renewed for the duration", LeaseClock{Renew: t0, Duration: d, Now: t0.Add(d), Unchanged: d, Uptime: time.Hour}, true, 0},
		{"long gone", LeaseClock{Renew: t0, Duration: d, Now: t0.Add(time.Hour), Unchanged: time.Hour, Uptime: 2 * time.Hour}, true, 0},
		// The manager was down for an hour and has just started: the
		// stored renewal is an hour old, but the holder gets the whole
		// duration to renew again (grace after start).
		{"manager just restarted", LeaseClock{Renew: t0, Duration: d, Now: t0.Add(time.Hour), Unchanged: 0, Uptime: 0}, false, d},
		{"restarted 29s ago", LeaseClock{Renew: t0, Duration: d, Now: t0.Add(time.Hour), Unchanged: 29 * time.Second, Uptime: 29 * time.Second}, false, time.Second},
		{"restarted a duration ago, never renewed since", LeaseClock{Renew: t0, Duration: d, Now: t0.Add(time.Hour), Unchanged: d, Uptime: d}, true, 0},
		// A holder whose clock is an hour behind: the stored renewal looks
		// old, but the manager saw it change 5s ago.
		{"holder clock behind", LeaseClock{Renew: t0.Add(-time.Hour), Duration: d, Now: t0, Unchanged: 5 * time.Second, Uptime: time.Hour}, false, 25 * time.Second},
		// A holder whose clock is ahead delays expiry by the skew, never
		// hastens it.
		{"holder clock ahead", LeaseClock{Renew: t0.Add(time.Minute), Duration: d, Now: t0.Add(d), Unchanged: d, Uptime: time.Hour}, false, time.Minute},
		// Uptime is checked on its own too (an observation can never be
		// older than the process, but the rule does not rely on it).
		{"uptime short", LeaseClock{Renew: t0, Duration: d, Now: t0.Add(time.Hour), Unchanged: time.Hour, Uptime: 10 * time.Second}, false, 20 * time.Second},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got := DecideLease(tc.clock)
			if got.Expired != tc.wantExpired || got.Wait != tc.wantWait {
				t.Errorf("got expired=%v wait=%s, want expired=%v wait=%s", got.Expired, got.Wait, tc.wantExpired, tc.wantWait)
			}
		})
	}
}

func TestLeaseRenewal(t *testing.T) {
	created := time.Date(2026, 12, 2, 3, 0, 0, 0, time.UTC)
	renewed := metav1.NewMicroTime(created.Add(time.Minute))
	env := &v1alpha1.Environment{ObjectMeta: metav1.ObjectMeta{Name: "demo", UID: "u1", CreationTimestamp: metav1.NewTime(created)},
		Spec: v1alpha1.EnvironmentSpec{Lease: &v1alpha1.LeaseBinding{HolderIdentity: "a", DurationSeconds: 30}}}
	// rec is a record renewed by holder and owned by the Environment of
	// UID owner ("" = no owner).
	rec := func(holder string, owner types.UID) *v1alpha1.EnvironmentLease {
		r := &v1alpha1.EnvironmentLease{ObjectMeta: metav1.ObjectMeta{Name: "demo"},
			Spec: v1alpha1.EnvironmentLeaseSpec{HolderIdentity: holder, RenewTime: &renewed}}
		if owner != "" {
			r.OwnerReferences = []metav1.OwnerReference{{Kind: "Environment", Name: "demo", UID: owner}}
		}
		return r
	}
	cases := []struct {
		name string
		rec  *v1alpha1.EnvironmentLease
		want time.Time
	}{
		{"no record yet: the creation counts", nil, created},
		{"the holder's record", rec("a", "u1"), renewed.Time},
		{"a record without owner", rec("a", ""), renewed.Time},
		{"another holder's record does not count", rec("b", "u1"), created},
		{"a record of an earlier Environment of that name does not count", rec("a", "other"), created},
	}
	for _, tc := range cases {
		got, ok := LeaseRenewal(env, tc.rec)
		if !ok || !got.Equal(tc.want) {
			t.Errorf("%s: got %v %v, want %v", tc.name, got, ok, tc.want)
		}
	}
	env.Spec.Lease = nil
	if _, ok := LeaseRenewal(env, rec("a", "u1")); ok {
		t.Error("an Environment without spec.lease holds no lease")
	}
}

func TestLeaseExpiredEvent(t *testing.T) {
	env := &v1alpha1.Environment{Spec: v1alpha1.EnvironmentSpec{Lease: &v1alpha1.LeaseBinding{HolderIdentity: "berth-run/ci/42", DurationSeconds: 30}}}
	now := time.Date(2026, 12, 2, 3, 0, 30, 500, time.UTC)
	ev := LeaseExpiredEvent(env, now.Add(-30*time.Second-400*time.Millisecond), now)
	if ev.Type != EventWarning || ev.Reason != EventLeaseExpired || !strings.HasPrefix(ev.Message, "lease held by berth-run/ci/42 expired: not renewed for 30s") {
		t.Errorf("got %+v", ev)
	}
}
