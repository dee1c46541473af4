package controllers

import (
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"berth.dev/berth/apis/v1alpha1"
	"berth.dev/berth/controllers/plan"
)

func TestNeedsReconcile(t *testing.T) {
	base := func() *v1alpha1.Environment {
		e := &v1alpha1.Environment{}
		e.Name, e.ResourceVersion, e.Generation = "demo", "10", 1
		e.Finalizers = []string{v1alpha1.Finalizer}
		return e
	}
	now := metav1.Now()
	tests := []struct {
		name string
		edit func(*v1alpha1.Environment)
		want bool
	}{
		{"resync (same resourceVersion)", func(e *v1alpha1.Environment) {}, true},
		{"own status write", func(e *v1alpha1.Environment) {
			e.ResourceVersion = "11"
			e.Status.Phase = v1alpha1.PhaseReady
		}, false},
		{"spec change", func(e *v1alpha1.Environment) { e.ResourceVersion, e.Generation = "11", 2 }, true},
		{"delete", func(e *v1alpha1.Environment) { e.ResourceVersion, e.DeletionTimestamp = "11", &now }, true},
		{"finalizer removed", func(e *v1alpha1.Environment) { e.ResourceVersion, e.Finalizers = "11", nil }, true},
		{"restart request annotation", func(e *v1alpha1.Environment) {
			e.ResourceVersion = "11"
			e.Annotations = map[string]string{"berth.dev/restart.api": "2026-11-26T08:00:00Z"}
		}, true},
		{"label", func(e *v1alpha1.Environment) { e.ResourceVersion, e.Labels = "11", map[string]string{"team": "x"} }, true},
		{"bound to a host by the placement", func(e *v1alpha1.Environment) { e.ResourceVersion, e.Status.Host = "11", "web-1" }, true},
		{"marked HostUnreachable by the placement", func(e *v1alpha1.Environment) {
			e.ResourceVersion = "11"
			e.Status.Conditions = []metav1.Condition{{Type: v1alpha1.ConditionReady, Status: metav1.ConditionUnknown, Reason: v1alpha1.ReasonHostUnreachable}}
		}, true},
	}
	for _, tt := range tests {
		oldEnv, newEnv := base(), base()
		tt.edit(newEnv)
		if got := needsReconcile(oldEnv, newEnv); got != tt.want {
			t.Errorf("%s: needsReconcile = %v, want %v", tt.name, got, tt.want)
		}
	}
}

func TestStaleGuard(t *testing.T) {
	g := newStaleGuard()
	start := plan.Plan{Ops: []plan.Op{{Kind: plan.OpStartContainer, Service: "a", ContainerID: "c1"}}}
	if g.repeated("env", start) {
		t.Fatal("first plan reported as repeated")
	}
	if !g.repeated("env", start) {
		t.Fatal("the same plan right after it ran is a repeat")
	}
	if g.repeated("other", start) {
		t.Fatal("plans of different Environments are independent")
	}
	if g.repeated("env", plan.Plan{}) || g.repeated("env", start) {
		t.Fatal("an empty plan in between resets the guard")
	}
}
