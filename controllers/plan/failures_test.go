package plan

import (
	"strings"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"berth.dev/berth/apis/v1alpha1"
)

func TestFailureReason(t *testing.T) {
	for _, tc := range []struct {
		kind         OpKind
		imageMissing bool
		want         string
	}{
		{OpEnsureNetwork, false, "NetworkCreateFailed"},
		{OpCreateContainer, false, "CreateFailed"},
		{OpCreateContainer, true, "ImageNotFound"},
		{OpStartContainer, false, "StartFailed"},
		{OpPullImage, false, "ImagePullFailed"},
		{OpRemoveContainer, false, "RemoveFailed"},
		{OpKind("Frobnicate"), false, "FrobnicateFailed"},
	} {
		if got := FailureReason(tc.kind, tc.imageMissing); got != tc.want {
			t.Errorf("FailureReason(%s, %v) = %s, want %s", tc.kind, tc.imageMissing, got, tc.want)
		}
	}
}

func TestNextFailureCountsAStreak(t *testing.T) {
	op := &Op{Kind: OpEnsureNetwork, Reason: "create network berth_demo"}
	f := NextFailure(nil, op, "no free /24", false)
	if f.Reason != ReasonNetworkCreateFailed || f.Count != 1 {
		t.Fatalf("first failure %+v", f)
	}
	f = NextFailure(f, op, "no free /24", false)
	if f.Count != 2 {
		t.Fatalf("second failure %+v, want count 2", f)
	}
	if !strings.Contains(f.Message(), "create network berth_demo failed 2 times in a row") || !strings.Contains(f.Message(), "no free /24") {
		t.Errorf("message %q", f.Message())
	}
	start := &Op{Kind: OpStartContainer, Reason: "start api"}
	if f = NextFailure(f, start, "port busy", false); f.Count != 1 || f.Reason != ReasonStartFailed {
		t.Fatalf("a new reason starts a new streak: %+v", f)
	}
	if NextFailure(f, nil, "", false) != nil {
		t.Fatal("a reconcile without a failed op ends the streak")
	}
	long := NextFailure(nil, op, strings.Repeat("é", 2000), false)
	if len(long.Error) > maxFailureText+len("…") || !strings.HasSuffix(long.Error, "…") {
		t.Fatalf("error not bounded: %d bytes", len(long.Error))
	}
}

// An op that keeps failing names Ready's and Progressing's reason, with its
// error, instead of a bare "operations pending"; when it stops failing the
// conditions go back to what observation says.
func TestStatusShowsAFailingOp(t *testing.T) {
	env := demoEnv()
	obs := Observed{} // nothing exists yet: the network comes first
	p := Compute(env, obs, testOptions(), t0)
	var netOp *Op
	for i := range p.Ops {
		if p.Ops[i].Kind == OpEnsureNetwork {
			netOp = &p.Ops[i]
		}
	}
	if netOp == nil {
		t.Fatalf("no network op in %v", opsSummary(p))
	}
	obs.Failure = NextFailure(nil, netOp, "address pool 10.0.0.0/16 has no free /24 left", false)
	st := ComputeStatus(env, obs, testOptions(), p, env.Status, t0)
	ready, progressing := cond(t, st, v1alpha1.ConditionReady), cond(t, st, v1alpha1.ConditionProgressing)
	if ready.Status != metav1.ConditionFalse || ready.Reason != ReasonNetworkCreateFailed || !strings.Contains(ready.Message, "no free /24 left") {
		t.Errorf("Ready %s/%s %q, want False/NetworkCreateFailed with the error", ready.Status, ready.Reason, ready.Message)
	}
	if progressing.Status != metav1.ConditionTrue || progressing.Reason != ReasonNetworkCreateFailed || !strings.Contains(progressing.Message, "no free /24 left") {
		t.Errorf("Progressing %s/%s %q, want True/NetworkCreateFailed with the error", progressing.Status, progressing.Reason, progressing.Message)
	}
	if st.Phase != v1alpha1.PhasePending {
		t.Errorf("phase %s, want Pending", st.Phase)
	}

	obs.Failure = nil
	st = ComputeStatus(env, obs, testOptions(), p, st, t0.Add(time.Second))
	if r := cond(t, st, v1alpha1.ConditionReady).Reason; r == ReasonNetworkCreateFailed {
		t.Errorf("Ready reason %s after the op stopped failing", r)
	}
}

func TestStatusShowsAFailingTeardownOp(t *testing.T) {
	env := demoEnv()
	env.DeletionTimestamp = &metav1.Time{Time: t0}
	obs := converged(t, env)
	p := Teardown(env, obs, testOptions())
	if p.Empty() {
		t.Fatal("nothing to tear down")
	}
	obs.Failure = NextFailure(nil, &Op{Kind: OpEnsureNetwork, Reason: "create network"}, "no free /24", false)
	st := ComputeStatus(env, obs, testOptions(), p, env.Status, t0)
	if pr := cond(t, st, v1alpha1.ConditionProgressing); pr.Reason != ReasonTearingDown {
		t.Errorf("Progressing %s %q: a converge failure from before the delete shown during teardown", pr.Reason, pr.Message)
	}
	obs.Failure = NextFailure(nil, &p.Ops[0], "daemon said no", false)
	if obs.Failure.Reason != ReasonRemoveFailed {
		t.Fatalf("teardown's first op %s fails as %s", p.Ops[0].Kind, obs.Failure.Reason)
	}
	st = ComputeStatus(env, obs, testOptions(), p, env.Status, t0)
	pr := cond(t, st, v1alpha1.ConditionProgressing)
	if pr.Status != metav1.ConditionTrue || pr.Reason != obs.Failure.Reason || !strings.Contains(pr.Message, "daemon said no") {
		t.Errorf("Progressing %s/%s %q during a failing teardown", pr.Status, pr.Reason, pr.Message)
	}
	if r := cond(t, st, v1alpha1.ConditionReady).Reason; r != ReasonTearingDown {
		t.Errorf("Ready reason %s, want %s", r, ReasonTearingDown)
	}
}

// A service held in a pull back-off says which image and why in Ready.
func TestStatusImagePullFailureSaysWhy(t *testing.T) {
	env := demoEnv()
	obs := Observed{Network: ownedNetwork(env), Volumes: ownedVolumes(env), Images: map[string]ObservedImage{
		testImage: {PullFailures: 2, LastPullFailure: t0, PullError: "lookup registry: no such host"}}}
	st := status(t, env, obs, t0)
	ready := cond(t, st, v1alpha1.ConditionReady)
	if ready.Reason != string(WaitImagePullFailed) || !strings.Contains(ready.Message, "no such host") || !strings.Contains(ready.Message, testImage) {
		t.Errorf("Ready %s %q, want the image and the pull error", ready.Reason, ready.Message)
	}
}
