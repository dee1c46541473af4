package controllers

import (
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"berth.dev/berth/apis/v1alpha1"
)

// TestPoolExpectations: a standby created but not yet in the cache counts
// (no second create), is forgotten once seen, and expires if never seen.
func TestPoolExpectations(t *testing.T) {
	e := &poolExpectations{created: map[string]map[string]time.Time{}}
	now := time.Now()
	e.add("p", "p-1", now)
	e.add("p", "p-2", now)
	if n := e.pending("p", map[string]bool{}, now); n != 2 {
		t.Fatalf("pending %d, want 2", n)
	}
	if n := e.pending("p", map[string]bool{"p-1": true}, now); n != 1 {
		t.Fatalf("pending %d after p-1 was seen, want 1", n)
	}
	if n := e.pending("p", map[string]bool{}, now.Add(createdExpiry+time.Second)); n != 0 {
		t.Fatalf("pending %d after expiry, want 0", n)
	}
	if n := e.pending("other", nil, now); n != 0 {
		t.Fatalf("another pool has %d pending", n)
	}
}

func TestBackgroundSlotIsExclusive(t *testing.T) {
	b := make(backgroundSlot, 1)
	release, ok := b.tryAcquire()
	if !ok {
		t.Fatal("free slot refused")
	}
	if _, ok := b.tryAcquire(); ok {
		t.Fatal("taken slot granted twice")
	}
	release()
	if _, ok := b.tryAcquire(); !ok {
		t.Fatal("released slot refused")
	}
}

// TestStandbyRequeue: an unbound Paused standby that just became Ready
// comes back at once to be paused; others keep their result.
func TestStandbyRequeue(t *testing.T) {
	sb := &v1alpha1.Environment{ObjectMeta: metav1.ObjectMeta{Name: "p-1"},
		Spec: v1alpha1.EnvironmentSpec{Standby: &v1alpha1.StandbySpec{Pool: "p", Mode: v1alpha1.StandbyPaused}}}
	ready := v1alpha1.EnvironmentStatus{Phase: v1alpha1.PhaseReady}
	if got := standbyRequeue(sb, ready, Result{}); got.RequeueAfter == 0 || got.RequeueAfter > 50*time.Millisecond {
		t.Fatalf("ready standby: %+v, want a prompt requeue", got)
	}
	if got := standbyRequeue(sb, v1alpha1.EnvironmentStatus{Phase: v1alpha1.PhaseProgressing}, Result{RequeueAfter: time.Second}); got.RequeueAfter != time.Second {
		t.Fatalf("converging standby: %+v", got)
	}
	claimed := sb.DeepCopy()
	claimed.Spec.Standby.ClaimRef = &v1alpha1.ClaimRef{Name: "c"}
	if got := standbyRequeue(claimed, ready, Result{}); got.RequeueAfter != 0 {
		t.Fatalf("claimed standby requeued: %+v", got)
	}
	plain := &v1alpha1.Environment{}
	if got := standbyRequeue(plain, ready, Result{}); got.RequeueAfter != 0 {
		t.Fatalf("ordinary Environment requeued: %+v", got)
	}
}
