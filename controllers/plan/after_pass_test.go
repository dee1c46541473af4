package plan

import (
	"testing"

	apimeta "k8s.io/apimachinery/pkg/api/meta"

	"berth.dev/berth/apis/v1alpha1"
)

// TestStatusAfterPassThatStartsLastService is the decision the reconciler
// makes after executing a pass (reconcile.go): observed again once the
// ops ran, and planned again from that, the status says Ready in the pass
// that started the last service. Computed from the observation the pass
// started with, as before, it still said not Ready and waited for an
// event's pass.
func TestStatusAfterPassThatStartsLastService(t *testing.T) {
	env := simpleEnv("a", "b", "c")
	s := newSim(env, Observed{Images: map[string]ObservedImage{testImage: {Present: true}}})
	opts := testOptions()
	p := Compute(env, s.obs, opts, t0)
	if p.Empty() {
		t.Fatal("setup: nothing planned for a fresh Environment")
	}
	before := ComputeStatus(env, s.obs, opts, p, v1alpha1.EnvironmentStatus{}, t0)
	if apimeta.IsStatusConditionTrue(before.Conditions, v1alpha1.ConditionReady) {
		t.Fatal("setup: Ready before anything ran")
	}
	for _, op := range p.Ops {
		s.apply(t, op)
	}
	after := Compute(env, s.obs, opts, t0)
	if !after.Empty() {
		t.Fatalf("ops left after the pass: %v", after.Strings())
	}
	st := ComputeStatus(env, s.obs, opts, after, before, t0)
	if !apimeta.IsStatusConditionTrue(st.Conditions, v1alpha1.ConditionReady) || st.Ready != "3/3" {
		t.Fatalf("status after the pass that started the last service: ready %s, conditions %+v; want Ready", st.Ready, st.Conditions)
	}
}

// TestTeardownEmptyInThePassThatRemovesEverything: the teardown plan of
// what is left once a pass's removals are in the cache is empty, so that
// same pass releases the finalizer (reconcile.go) instead of a requeue.
func TestTeardownEmptyInThePassThatRemovesEverything(t *testing.T) {
	env := simpleEnv("a", "b")
	obs := Observed{
		Network:    ownedNetwork(env),
		Containers: []ObservedContainer{container(t, env, "a", "c-a", StateRunning), container(t, env, "b", "c-b", StateExited)},
		Images:     map[string]ObservedImage{},
	}
	s := newSim(env, obs)
	opts := testOptions()
	p := Teardown(env, s.obs, opts)
	if p.Empty() {
		t.Fatal("setup: nothing to tear down")
	}
	for _, op := range p.Ops {
		s.apply(t, op)
	}
	if left := Teardown(env, s.obs, opts); !left.Empty() {
		t.Fatalf("teardown after its own removals still plans %v", left.Strings())
	}
}
