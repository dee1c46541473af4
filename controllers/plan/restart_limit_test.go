package plan

import (
	"strings"
	"testing"
	"time"

	"berth.dev/berth/apis/v1alpha1"
)

// TestRestartLimitThroughStatus: OnFailure with restartLimit 2 (compose's
// on-failure:2) restarts the first two failures, with the usual back-off,
// and leaves the third: the service is Failed and nothing is planned for it
// however long the plan waits.
func TestRestartLimitThroughStatus(t *testing.T) {
	env := simpleEnv("s")
	svc := service(env, "s")
	svc.RestartPolicy = v1alpha1.RestartOnFailure
	svc.RestartLimit = ptr(int32(2))
	opts := testOptions()
	obs := Observed{
		Network:    ownedNetwork(env),
		Containers: []ObservedContainer{container(t, env, "s", "c-s", StateRunning)},
	}
	c := &obs.Containers[0]
	c.StartedAt = t0
	observe := func(now time.Time) {
		p := Compute(env, obs, opts, now)
		env.Status = ComputeStatus(env, obs, opts, p, env.Status, now)
	}
	observe(t0)
	for i := range 2 {
		c.State, c.ExitCode, c.FinishedAt = StateExited, 3, c.StartedAt.Add(time.Second)
		observe(c.FinishedAt)
		due := c.FinishedAt.Add(10 * time.Minute) // past any back-off
		p := Compute(env, obs, opts, due)
		if len(p.Ops) != 1 || p.Ops[0].Kind != OpStartContainer || !p.Ops[0].Restart {
			t.Fatalf("failure %d of a limit of 2: %v, want one restart", i+1, p.Strings())
		}
		c.State, c.StartedAt = StateRunning, due
		observe(due)
		if got := env.Status.Services[0].RestartCount; got != int32(i+1) {
			t.Fatalf("after restart %d: restartCount %d", i+1, got)
		}
	}
	c.State, c.ExitCode, c.FinishedAt = StateExited, 3, c.StartedAt.Add(time.Second)
	observe(c.FinishedAt)
	for _, later := range []time.Duration{0, time.Minute, time.Hour} {
		if p := Compute(env, obs, opts, c.FinishedAt.Add(later)); !p.Empty() {
			t.Errorf("%s after the third failure: %v, want nothing (restartLimit used up)", later, p.Strings())
		}
	}
	st := env.Status.Services[0]
	if env.Status.Phase != v1alpha1.PhaseFailed || st.Ready ||
		!strings.Contains(st.Message, "failed with exit code 3 after 2 restarts (restartLimit 2)") {
		t.Errorf("phase %s, service %+v: want Failed with the limit in the message", env.Status.Phase, st)
	}
}

// TestRestartLimitOnlyCountsFailures: a limit leaves a clean exit alone
// (OnFailure completes it) and without a limit every failure restarts.
func TestRestartLimitOnlyCountsFailures(t *testing.T) {
	for _, tc := range []struct {
		name     string
		limit    *int32
		exitCode int32
		restarts int32
		want     bool
	}{
		{"no limit", nil, 1, 100, false},
		{"below the limit", ptr(int32(3)), 1, 2, false},
		{"at the limit", ptr(int32(3)), 1, 3, true},
		{"clean exit", ptr(int32(1)), 0, 5, false},
	} {
		svc := &v1alpha1.Service{RestartPolicy: v1alpha1.RestartOnFailure, RestartLimit: tc.limit}
		if got := retriesExhausted(svc, tc.exitCode, tc.restarts); got != tc.want {
			t.Errorf("%s: retriesExhausted = %v, want %v", tc.name, got, tc.want)
		}
	}
}
