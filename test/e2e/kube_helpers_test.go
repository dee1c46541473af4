package e2e

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"berth.dev/berth/internal/kubetest"
)

// startTestCluster starts a real kube-apiserver and etcd under dir/cluster
// without berth's CRDs (the specs install them with `berth install`) and
// with the berth-manager user of config/rbac, stopped when the container
// of the calling node ends. It skips the specs when no kube-apiserver has
// been built.
func startTestCluster(dir string) *kubetest.Cluster {
	GinkgoHelper()
	if _, _, err := kubetest.Binaries(); errors.Is(err, kubetest.ErrNoBinaries) {
		Skip("no kube-apiserver built: run hack/ensure-kube-apiserver.sh (CI does) or set " + kubetest.EnvAPIServer)
	} else {
		Expect(err).NotTo(HaveOccurred())
	}
	ensureTestImage()
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	cluster, err := kubetest.Start(ctx, kubetest.Options{Dir: filepath.Join(dir, "cluster"), SkipCRDs: true, Users: []string{"berth-manager"}})
	Expect(err).NotTo(HaveOccurred())
	DeferCleanup(func() { Expect(cluster.Stop()).To(Succeed()) })
	fmt.Fprintf(GinkgoWriter, "etcd + kube-apiserver ready in %s\n", cluster.Started.Round(time.Millisecond))
	return cluster
}
