package v1alpha1

import (
	"strings"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

func TestValidateLeaseBinding(t *testing.T) {
	cases := []struct {
		name     string
		lease    *LeaseBinding
		wantPath string // "" = valid
		wantMsg  string
	}{
		{"none", nil, "", ""},
		{"minimum", &LeaseBinding{HolderIdentity: "berth-run/host/1", DurationSeconds: 5}, "", ""},
		{"maximum", &LeaseBinding{HolderIdentity: "h", DurationSeconds: 86400}, "", ""},
		{"too short", &LeaseBinding{HolderIdentity: "h", DurationSeconds: 4}, "spec.lease.durationSeconds", "between 5 and 86400"},
		{"zero", &LeaseBinding{HolderIdentity: "h"}, "spec.lease.durationSeconds", "between 5 and 86400"},
		{"too long", &LeaseBinding{HolderIdentity: "h", DurationSeconds: 86401}, "spec.lease.durationSeconds", "between 5 and 86400"},
		{"no holder", &LeaseBinding{DurationSeconds: 30}, "spec.lease.holderIdentity", "Required"},
		{"holder too long", &LeaseBinding{HolderIdentity: strings.Repeat("h", 257), DurationSeconds: 30}, "spec.lease.holderIdentity", "256"},
		{"holder with a newline", &LeaseBinding{HolderIdentity: "a\nb", DurationSeconds: 30}, "spec.lease.holderIdentity", "printable"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			env := validEnv()
			env.Spec.Lease = tc.lease
			errs := ValidateEnvironment(env)
			if tc.wantPath == "" {
				if len(errs) != 0 {
					t.Fatalf("want valid, got %v", errs)
				}
				return
			}
			if len(errs) != 1 || errs[0].Field != tc.wantPath || !strings.Contains(errs[0].Error(), tc.wantMsg) {
				t.Fatalf("want one error at %s containing %q, got %v", tc.wantPath, tc.wantMsg, errs)
			}
		})
	}
}

func TestValidateEnvironmentLease(t *testing.T) {
	now := metav1.NewMicroTime(time.Unix(1700000000, 0))
	valid := func() *EnvironmentLease {
		return &EnvironmentLease{
			ObjectMeta: metav1.ObjectMeta{Name: "demo"},
			Spec:       EnvironmentLeaseSpec{HolderIdentity: "berth-run/host/1", RenewTime: &now, AcquireTime: &now},
		}
	}
	if errs := ValidateEnvironmentLease(valid()); len(errs) != 0 {
		t.Fatalf("valid lease refused: %v", errs)
	}
	cases := []struct {
		name     string
		mutate   func(*EnvironmentLease)
		wantPath string
	}{
		{"no renew time", func(l *EnvironmentLease) { l.Spec.RenewTime = nil }, "spec.renewTime"},
		{"no holder", func(l *EnvironmentLease) { l.Spec.HolderIdentity = "" }, "spec.holderIdentity"},
		{"bad name", func(l *EnvironmentLease) { l.Name = "Demo_1" }, "metadata.name"},
		{"generateName", func(l *EnvironmentLease) { l.Name = ""; l.GenerateName = "demo-" }, "metadata.generateName"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			l := valid()
			tc.mutate(l)
			errs := ValidateEnvironmentLease(l)
			found := false
			for _, e := range errs {
				found = found || e.Field == tc.wantPath
			}
			if !found {
				t.Fatalf("want an error at %s, got %v", tc.wantPath, errs)
			}
		})
	}
	old := valid()
	old.ResourceVersion = "1"
	renewed := old.DeepCopy()
	later := metav1.NewMicroTime(now.Add(10 * time.Second))
	renewed.Spec.RenewTime = &later
	if errs := ValidateEnvironmentLeaseUpdate(renewed, old); len(errs) != 0 {
		t.Fatalf("renewal refused: %v", errs)
	}
	renewed.Spec.RenewTime = nil
	if errs := ValidateEnvironmentLeaseUpdate(renewed, old); len(errs) != 1 || errs[0].Field != "spec.renewTime" {
		t.Fatalf("renewal without renewTime: got %v", errs)
	}
}
