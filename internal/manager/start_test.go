package manager

import (
	"context"
	"os"
	"strings"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"berth.dev/berth/client/clientset/versioned"
)

// testOptions are a manager on its own data dir with free ports.
func testOptions(t *testing.T) Options {
	o := DefaultOptions()
	o.DataDir = t.TempDir()
	o.APIListen = "127.0.0.1:0"
	o.DashboardListen = "127.0.0.1:0"
	return o
}

// TestStartServesAPIAndStops starts a manager in this process (real
// embedded etcd and API server; the Docker Engine is only pinged), lists
// Environments through its kubeconfig, stops it and checks the data dir
// is free again.
func TestStartServesAPIAndStops(t *testing.T) {
	o := testOptions(t)
	var out strings.Builder
	o.Out = &out
	m, err := Start(context.Background(), o)
	if err != nil {
		t.Fatalf("Start: %v", err)
	}
	if _, err := os.Stat(m.Kubeconfig()); err != nil {
		t.Fatalf("kubeconfig: %v", err)
	}
	cs, err := versioned.NewForConfig(m.RESTConfig())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := cs.BerthV1alpha1().Environments().List(context.Background(), metav1.ListOptions{}); err != nil {
		t.Fatalf("list Environments: %v", err)
	}
	if !strings.Contains(out.String(), "kubeconfig: "+m.Kubeconfig()+"\n") {
		t.Errorf("ready lines %q do not name the kubeconfig %s", out.String(), m.Kubeconfig())
	}
	if err := m.Stop(); err != nil {
		t.Fatalf("Stop: %v", err)
	}
	select {
	case <-m.Done():
	default:
		t.Fatal("Done not closed after Stop")
	}
	l, err := lockDataDir(o.DataDir)
	if err != nil {
		t.Fatalf("data dir still locked after Stop: %v", err)
	}
	l.Release()
}

// TestStartRefusesLockedDataDir: a second manager on the same data dir
// fails with the lock's message instead of sharing the store.
func TestStartRefusesLockedDataDir(t *testing.T) {
	o := testOptions(t)
	l, err := lockDataDir(o.DataDir)
	if err != nil {
		t.Fatal(err)
	}
	defer l.Release()
	m, err := Start(context.Background(), o)
	if err == nil {
		m.Stop()
		t.Fatal("Start on a locked data dir succeeded")
	}
	if !strings.Contains(err.Error(), "already using data dir") {
		t.Fatalf("error %q does not say the data dir is in use", err)
	}
}

// TestRunRejectsBadQuantity: a flag value error names the flag and
// nothing is created.
func TestRunRejectsBadQuantity(t *testing.T) {
	o := testOptions(t)
	o.DefaultMemoryLimit = "lots"
	err := Run(context.Background(), o)
	if err == nil || !strings.Contains(err.Error(), "--default-memory-limit") {
		t.Fatalf("Run with a bad memory limit: %v", err)
	}
	if entries, _ := os.ReadDir(o.DataDir); len(entries) != 0 {
		t.Fatalf("data dir not empty after a refused start: %v", entries)
	}
}

// TestStartCancelledBeforeReady: a context that ends during start-up
// makes Start return its error, and the data dir is free again.
func TestStartCancelledBeforeReady(t *testing.T) {
	o := testOptions(t)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	m, err := Start(ctx, o)
	if err == nil {
		m.Stop()
		t.Fatal("Start with a cancelled context succeeded")
	}
	if !strings.Contains(err.Error(), "context canceled") {
		t.Errorf("error %q does not say the context ended", err)
	}
	l, err := lockDataDir(o.DataDir)
	if err != nil {
		t.Fatalf("data dir still locked: %v", err)
	}
	l.Release()
}
