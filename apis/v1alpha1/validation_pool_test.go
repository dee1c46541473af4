package v1alpha1

import (
	"strings"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

func validPool() *EnvironmentPool {
	p := &EnvironmentPool{ObjectMeta: metav1.ObjectMeta{Name: "warm"},
		Spec: EnvironmentPoolSpec{Size: 2, Template: validEnv().Spec}}
	p.Spec.Template.TTLSecondsAfterReady = nil
	SetPoolDefaults(p)
	return p
}

func claimantEnv() *Environment {
	return &Environment{ObjectMeta: metav1.ObjectMeta{Name: "claim", ResourceVersion: "1"},
		Spec: EnvironmentSpec{PoolRef: &PoolRef{Name: "warm"}}}
}

func expectOneError(t *testing.T, errs []error, path, msg string) {
	t.Helper()
	if len(errs) != 1 || !strings.Contains(errs[0].Error(), path) || !strings.Contains(errs[0].Error(), msg) {
		t.Fatalf("want one error at %s containing %q, got %v", path, msg, errs)
	}
}

func toErrors[T error](in []T) []error {
	out := make([]error, len(in))
	for i := range in {
		out[i] = in[i]
	}
	return out
}

func TestValidateEnvironmentPool(t *testing.T) {
	if errs := ValidateEnvironmentPool(validPool()); len(errs) != 0 {
		t.Fatalf("valid pool refused: %v", errs)
	}
	if p := validPool(); p.Spec.Standby != StandbyPaused {
		t.Fatalf("standby defaults to %q, want Paused", p.Spec.Standby)
	}
	cases := []struct {
		name   string
		mutate func(*EnvironmentPool)
		path   string
		msg    string
	}{
		{"negative size", func(p *EnvironmentPool) { p.Spec.Size = -1 }, "spec.size", "between 0 and 50"},
		{"huge size", func(p *EnvironmentPool) { p.Spec.Size = 51 }, "spec.size", "between 0 and 50"},
		{"bad mode", func(p *EnvironmentPool) { p.Spec.Standby = "Frozen" }, "spec.standby", "Unsupported value"},
		{"template without services", func(p *EnvironmentPool) { p.Spec.Template.Services = nil }, "spec.template.services", "at least one service"},
		{"bad template service", func(p *EnvironmentPool) { p.Spec.Template.Services[0].Image = "" }, "spec.template.services[0].image", "Required"},
		{"template claims", func(p *EnvironmentPool) { p.Spec.Template.PoolRef = &PoolRef{Name: "x"} }, "spec.template.poolRef", "Forbidden"},
		{"template with a lease", func(p *EnvironmentPool) {
			p.Spec.Template.Lease = &LeaseBinding{HolderIdentity: "h", DurationSeconds: 30}
		}, "spec.template.lease", "Forbidden"},
		{"name too long", func(p *EnvironmentPool) { p.Name = strings.Repeat("a", MaxPoolNameLength+1) }, "metadata.name", "must be no more than"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			p := validPool()
			tc.mutate(p)
			expectOneError(t, toErrors(ValidateEnvironmentPool(p)), tc.path, tc.msg)
		})
	}
}

func TestValidateClaimant(t *testing.T) {
	if errs := ValidateEnvironment(claimantEnv()); len(errs) != 0 {
		t.Fatalf("valid claimant refused: %v", errs)
	}
	cases := []struct {
		name   string
		mutate func(*Environment)
		path   string
		msg    string
	}{
		{"own services", func(e *Environment) { e.Spec.Services = validEnv().Spec.Services[:1] }, "spec.services", "the pool's template supplies it"},
		{"own volumes", func(e *Environment) { e.Spec.Volumes = []Volume{{Name: "data"}} }, "spec.volumes", "the pool's template supplies it"},
		{"standby named on create", func(e *Environment) { e.Spec.PoolRef.Standby = "warm-abcde" }, "spec.poolRef.standby", "berth binds"},
		{"no pool name", func(e *Environment) { e.Spec.PoolRef.Name = "" }, "spec.poolRef.name", "Required"},
		{"both claimant and standby", func(e *Environment) {
			e.Spec.Standby = &StandbySpec{Pool: "warm", Mode: StandbyPaused}
		}, "spec.standby", "together with spec.poolRef"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			e := claimantEnv()
			tc.mutate(e)
			expectOneError(t, toErrors(ValidateEnvironment(e)), tc.path, tc.msg)
		})
	}
}

func TestValidateClaimantUpdate(t *testing.T) {
	old := claimantEnv()
	bound := old.DeepCopy()
	bound.Spec.PoolRef.Standby = "warm-abcde"
	if errs := ValidateEnvironmentUpdate(bound, old); len(errs) != 0 {
		t.Fatalf("binding refused: %v", errs)
	}
	fallback := old.DeepCopy()
	fallback.Spec.Services = validEnv().Spec.Services[:1]
	if errs := ValidateEnvironmentUpdate(fallback, old); len(errs) != 0 {
		t.Fatalf("copying the template refused: %v", errs)
	}
	both := bound.DeepCopy()
	both.Spec.Services = validEnv().Spec.Services[:1]
	expectOneError(t, toErrors(ValidateEnvironmentUpdate(both, bound)), "spec.services", "claimant's containers are its standby's")
	moved := old.DeepCopy()
	moved.Spec.PoolRef.Name = "other"
	expectOneError(t, toErrors(ValidateEnvironmentUpdate(moved, old)), "spec.poolRef.name", "may not change")

	sb := validEnv()
	sb.ResourceVersion = "1"
	sb.Spec.Standby = &StandbySpec{Pool: "warm", Mode: StandbyPaused}
	if errs := ValidateEnvironment(sb); len(errs) != 0 {
		t.Fatalf("valid standby refused: %v", errs)
	}
	claimed := sb.DeepCopy()
	claimed.Spec.Standby.ClaimRef = &ClaimRef{Name: "claim", UID: "u"}
	if errs := ValidateEnvironmentUpdate(claimed, sb); len(errs) != 0 {
		t.Fatalf("claim refused: %v", errs)
	}
	remode := sb.DeepCopy()
	remode.Spec.Standby.Mode = StandbyRunning
	expectOneError(t, toErrors(ValidateEnvironmentUpdate(remode, sb)), "spec.standby", "may not change")
	bad := sb.DeepCopy()
	bad.Spec.Standby.Mode = "Sleeping"
	expectOneError(t, toErrors(ValidateEnvironment(bad)), "spec.standby.mode", "Unsupported value")
}
