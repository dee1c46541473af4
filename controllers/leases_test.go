package controllers

import (
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"berth.dev/berth/apis/v1alpha1"
)

func TestLeaseMemoryObserve(t *testing.T) {
	start := time.Now()
	m := newLeaseMemory(start)
	env := &v1alpha1.Environment{ObjectMeta: metav1.ObjectMeta{Name: "demo", UID: "u1"},
		Spec: v1alpha1.EnvironmentSpec{Lease: &v1alpha1.LeaseBinding{HolderIdentity: "a", DurationSeconds: 30}}}
	r1 := time.Date(2026, 12, 2, 3, 0, 0, 0, time.UTC)
	if got := m.observe(env, r1, start); got != 0 {
		t.Errorf("first sight: unchanged %s, want 0", got)
	}
	if got := m.observe(env, r1, start.Add(20*time.Second)); got != 20*time.Second {
		t.Errorf("same renewal 20s later: unchanged %s, want 20s", got)
	}
	if got := m.observe(env, r1.Add(10*time.Second), start.Add(25*time.Second)); got != 0 {
		t.Errorf("a renewal resets: unchanged %s, want 0", got)
	}
	if got := m.observe(env, r1.Add(10*time.Second), start.Add(30*time.Second)); got != 5*time.Second {
		t.Errorf("5s after the renewal was seen: unchanged %s, want 5s", got)
	}
	// Another holder or another Environment of that name starts over.
	other := env.DeepCopy()
	other.Spec.Lease.HolderIdentity = "b"
	if got := m.observe(other, r1.Add(10*time.Second), start.Add(40*time.Second)); got != 0 {
		t.Errorf("new holder: unchanged %s, want 0", got)
	}
	other.UID = "u2"
	if got := m.observe(other, r1.Add(10*time.Second), start.Add(50*time.Second)); got != 0 {
		t.Errorf("new Environment: unchanged %s, want 0", got)
	}
	m.forget("demo")
	if got := m.observe(other, r1.Add(10*time.Second), start.Add(60*time.Second)); got != 0 {
		t.Errorf("after forget: unchanged %s, want 0", got)
	}
}

func TestLeaseChanged(t *testing.T) {
	held := &v1alpha1.Environment{ObjectMeta: metav1.ObjectMeta{Name: "demo", ResourceVersion: "1", Generation: 1},
		Spec: v1alpha1.EnvironmentSpec{Lease: &v1alpha1.LeaseBinding{HolderIdentity: "a", DurationSeconds: 30}}}
	statusWrite := held.DeepCopy()
	statusWrite.ResourceVersion = "2"
	if leaseChanged(held, statusWrite) {
		t.Error("a status write does not concern the lease check")
	}
	if !leaseChanged(held, held.DeepCopy()) {
		t.Error("a resync does")
	}
	rebound := statusWrite.DeepCopy()
	rebound.Generation = 2
	if !leaseChanged(held, rebound) {
		t.Error("a spec change does")
	}
	deleting := statusWrite.DeepCopy()
	deleting.DeletionTimestamp = &metav1.Time{Time: time.Now()}
	if !leaseChanged(held, deleting) {
		t.Error("a deletion does")
	}
	plain, plain2 := held.DeepCopy(), rebound.DeepCopy()
	plain.Spec.Lease, plain2.Spec.Lease = nil, nil
	if leaseChanged(plain, plain2) {
		t.Error("an Environment without a lease never concerns it")
	}
}
