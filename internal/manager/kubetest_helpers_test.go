package manager

import (
	"context"
	"testing"

	"berth.dev/berth/internal/kubetest"
)

// startCluster starts a real kube-apiserver and etcd for t (skipping t when
// their binaries are not there) and stops them when t and its cleanups are
// done, so the managers a test stops in its own cleanups still reach it.
func startCluster(t *testing.T) *kubetest.Cluster {
	t.Helper()
	if ok, _ := kubetest.Available(); !ok {
		t.Skip("no kube-apiserver binaries (hack/ensure-kube-apiserver.sh)")
	}
	c, err := kubetest.Start(context.Background(), kubetest.Options{Dir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = c.Stop() })
	return c
}
