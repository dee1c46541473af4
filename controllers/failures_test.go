package controllers

import (
	"errors"
	"fmt"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"berth.dev/berth/apis/v1alpha1"
	"berth.dev/berth/controllers/plan"
	"berth.dev/berth/internal/docker"
)

func TestFailureMemoryStreaks(t *testing.T) {
	m := newFailureMemory()
	env := &v1alpha1.Environment{ObjectMeta: metav1.ObjectMeta{Name: "demo", UID: "uid-1"}}
	netOp := plan.Op{Kind: plan.OpEnsureNetwork, Reason: "create network berth_demo"}
	fail := []outcome{{op: plan.Op{Kind: plan.OpEnsureVolume}}, {op: netOp, err: errors.New("no free /24")}}

	if f := m.record(env, fail); f == nil || f.Reason != plan.ReasonNetworkCreateFailed || f.Count != 1 {
		t.Fatalf("first failure %+v", f)
	}
	if f := m.record(env, fail); f.Count != 2 || m.get(env) != f {
		t.Fatalf("second failure %+v, get %+v", f, m.get(env))
	}
	// A new incarnation under the same name starts from nothing.
	again := env.DeepCopy()
	again.UID = "uid-2"
	if m.get(again) != nil {
		t.Fatal("a new incarnation inherited the failure")
	}
	if f := m.record(again, fail); f.Count != 1 {
		t.Fatalf("new incarnation's first failure %+v", f)
	}
	if f := m.record(again, []outcome{{op: netOp}}); f != nil || m.get(again) != nil {
		t.Fatalf("a reconcile whose ops succeeded left %+v", f)
	}
}

func TestFailureMemoryImageNotFound(t *testing.T) {
	m := newFailureMemory()
	env := &v1alpha1.Environment{ObjectMeta: metav1.ObjectMeta{Name: "demo", UID: "uid-1"}}
	noImage := &docker.Error{Op: "container_create", Kind: docker.ErrNotFound, Err: errors.New("No such image: app:dev")}
	create := plan.Op{Kind: plan.OpCreateContainer, Reason: "create app"}
	if f := m.record(env, []outcome{{op: create, err: fmt.Errorf("create: %w", noImage)}}); f.Reason != plan.ReasonImageNotFound {
		t.Fatalf("reason %s, want %s", f.Reason, plan.ReasonImageNotFound)
	}
	other := &docker.Error{Op: "container_create", Kind: docker.ErrNotFound, Err: errors.New("network berth_demo not found")}
	if f := m.record(env, []outcome{{op: create, err: other}}); f.Reason != plan.ReasonCreateFailed {
		t.Fatalf("reason %s, want %s", f.Reason, plan.ReasonCreateFailed)
	}
}
