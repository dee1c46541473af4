package manager

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	v1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"

	"berth.dev/berth/internal/docker"
)

// TestLeaderHandsOverOnStop runs two managers of one host with
// --leader-elect on a real kube-apiserver: one holds the Lease; stopping it
// releases the Lease and the other takes it.
func TestLeaderHandsOverOnStop(t *testing.T) {
	ctx := context.Background()
	c := startCluster(t)
	start := func(dir string) *Manager {
		o := DefaultOptions()
		o.DataDir, o.Kubeconfig, o.DashboardListen, o.Host = dir, c.Kubeconfig, "127.0.0.1:0", "leader-test-host"
		o.LeaderElection.Enabled = true
		o.LeaderElection.LeaseDuration, o.LeaderElection.RenewDeadline, o.LeaderElection.RetryPeriod = 4*time.Second, 3*time.Second, 500*time.Millisecond
		m, err := Start(ctx, o)
		if err != nil {
			t.Fatal(err)
		}
		return m
	}
	dirA, dirB := filepath.Join(t.TempDir(), "a"), filepath.Join(t.TempDir(), "b")
	a := start(dirA)
	b := start(dirB)
	defer b.Stop()
	idA, _ := docker.LoadOrCreateIdentity(dirA)
	idB, _ := docker.LoadOrCreateIdentity(dirB)
	cs := kubernetes.NewForConfigOrDie(c.RESTConfig())
	holder := func() string {
		l, err := cs.CoordinationV1().Leases("default").Get(ctx, LeaseName("leader-test-host"), v1.GetOptions{})
		if err != nil || l.Spec.HolderIdentity == nil {
			return ""
		}
		return *l.Spec.HolderIdentity
	}
	waitFor := func(want string) {
		for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); time.Sleep(200 * time.Millisecond) {
			if holder() == want {
				return
			}
		}
		t.Fatalf("lease holder %q, want %q", holder(), want)
	}
	first, other := idA, idB
	for deadline := time.Now().Add(30 * time.Second); holder() == "" && time.Now().Before(deadline); {
		time.Sleep(200 * time.Millisecond)
	}
	if holder() == idB {
		first, other = idB, idA
		a, b = b, a
	}
	waitFor(first)
	if err := a.Stop(); err != nil {
		t.Fatalf("graceful stop of the leader: %v", err)
	}
	waitFor(other)
}
