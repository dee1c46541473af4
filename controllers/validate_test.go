package controllers

import (
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"berth.dev/berth/apis/v1alpha1"
)

func TestValidateRemembersValidGenerations(t *testing.T) {
	c := &Controller{valid: newValidMemory()}
	env := &v1alpha1.Environment{
		ObjectMeta: metav1.ObjectMeta{Name: "ok", UID: "u1", Generation: 1},
		Spec:       v1alpha1.EnvironmentSpec{Services: []v1alpha1.Service{{Name: "api", Image: "berth-testapp:dev"}}},
	}
	v1alpha1.SetDefaults(env)
	if errs := c.validate(env); len(errs) != 0 {
		t.Fatalf("valid spec refused: %v", errs)
	}
	if !c.valid.has(env) {
		t.Fatal("a valid generation was not remembered")
	}
	// A new generation is validated again, and refused with the field.
	bad := env.DeepCopy()
	bad.Generation = 2
	bad.Spec.Services[0].Privileged = true
	errs := c.validate(bad)
	if len(errs) != 1 || errs[0].Field != "spec.services[0].privileged" {
		t.Fatalf("errors = %v, want spec.services[0].privileged refused by the policy", errs)
	}
	// Same name, new UID (deleted and re-created): not the remembered one.
	again := env.DeepCopy()
	again.UID = "u2"
	if c.valid.has(again) {
		t.Error("a re-created Environment counted as validated")
	}
	c.valid.forget("ok")
	if c.valid.has(env) {
		t.Error("forget kept the generation")
	}

	// After a restart the status says which generation was accepted.
	restarted := &Controller{valid: newValidMemory()}
	accepted := bad.DeepCopy()
	accepted.Status.ObservedGeneration = 2
	accepted.Status.Conditions = []metav1.Condition{{Type: v1alpha1.ConditionReady, Status: metav1.ConditionTrue, Reason: "AllServicesReady"}}
	if errs := restarted.validate(accepted); len(errs) != 0 {
		t.Errorf("a generation the status shows converged was validated again: %v", errs)
	}
	refused := accepted.DeepCopy()
	refused.Status.Conditions[0].Reason = "InvalidSpec"
	if errs := restarted.validate(refused); len(errs) == 0 {
		t.Error("a generation the status shows refused was let through")
	}
	newer := accepted.DeepCopy()
	newer.Generation = 3
	if errs := restarted.validate(newer); len(errs) == 0 {
		t.Error("a generation the status does not describe was let through")
	}
}

// TestValidateAcceptsABoundClaimant: a claimant's generations berth
// writes (naming its standby, the pool's template copied in) are not
// refused by the create rules, whatever the cache shows of its status;
// the spec is still validated.
func TestValidateAcceptsABoundClaimant(t *testing.T) {
	c := &Controller{valid: newValidMemory()}
	bound := &v1alpha1.Environment{
		ObjectMeta: metav1.ObjectMeta{Name: "claim", UID: "u1", Generation: 2},
		Spec:       v1alpha1.EnvironmentSpec{PoolRef: &v1alpha1.PoolRef{Name: "p", Standby: "p-x1"}},
	}
	if errs := c.validate(bound); len(errs) != 0 {
		t.Fatalf("bound claimant refused: %v", errs)
	}
	if bound.Spec.PoolRef.Standby != "p-x1" {
		t.Fatal("validate changed the Environment")
	}
	// The template copied in (the fallback) is validated as a spec.
	copied := bound.DeepCopy()
	copied.Generation = 3
	copied.Spec.PoolRef.Standby = ""
	copied.Spec.Services = []v1alpha1.Service{{Name: "api", Image: "berth-testapp:dev"}}
	v1alpha1.SetDefaults(copied)
	if errs := c.validate(copied); len(errs) != 0 {
		t.Fatalf("claimant with the pool's template refused: %v", errs)
	}
	copied.Generation = 4
	copied.Spec.Services[0].Privileged = true
	if errs := c.validate(copied); len(errs) == 0 {
		t.Fatal("a privileged service was accepted")
	}
}
