package apiserver

import (
	"context"
	"testing"

	"k8s.io/apimachinery/pkg/util/validation/field"

	"berth.dev/berth/apis/v1alpha1"
)

// TestStrategyRunsTheCapacityCheck: the manager's capacity check runs on
// create and on spec updates, never on metadata-only updates (a stored
// Environment must keep its finalizer removable under a smaller budget),
// and never on a spec the API's own validation already refused.
func TestStrategyRunsTheCapacityCheck(t *testing.T) {
	ctx := context.Background()
	calls := 0
	s := newStrategy(v1alpha1.Policy{AllowPrivileged: true})
	s.admission = func(*v1alpha1.EnvironmentSpec) field.ErrorList {
		calls++
		return field.ErrorList{field.Forbidden(field.NewPath("spec", "services").Key("*").Child("resources"), "too big")}
	}
	if errs := s.Validate(ctx, privilegedEnv()); len(errs) != 1 || calls != 1 {
		t.Fatalf("create: %v after %d calls", errs, calls)
	}
	old, changed := privilegedEnv(), privilegedEnv()
	changed.Spec.Services[0].Args = []string{"x"}
	if errs := s.ValidateUpdate(ctx, changed, old); len(errs) != 1 || calls != 2 {
		t.Fatalf("spec update: %v after %d calls", errs, calls)
	}
	meta := privilegedEnv()
	meta.Finalizers = nil
	if errs := s.ValidateUpdate(ctx, meta, old); len(errs) != 0 || calls != 2 {
		t.Fatalf("metadata-only update: %v after %d calls", errs, calls)
	}
	bad := privilegedEnv()
	bad.Spec.Services[0].Name = "Not_A_Name"
	if errs := s.Validate(ctx, bad); len(errs) == 0 || calls != 2 {
		t.Fatalf("invalid spec: %v after %d calls", errs, calls)
	}
}
