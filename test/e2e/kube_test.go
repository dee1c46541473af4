package e2e

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/yaml"

	"berth.dev/berth/apis/v1alpha1"
	"berth.dev/berth/internal/kubetest"
)

// The manager on a real kube-apiserver (etcd + kube-apiserver from
// hack/ensure-kube-apiserver.sh, no kubelet): the CRDs installed with
// `berth install`, Environments applied with kubectl, converged on Docker
// by `manager --kubeconfig`.
var _ = Describe("Kubernetes API", Ordered, func() {
	var (
		cluster *kubetest.Cluster
		m       *managerProcess
		dir     string
		// managerKubeconfig is the manager's own identity, bound to
		// config/rbac's berth-manager ClusterRole only.
		managerKubeconfig string
	)
	startKubeManager := func() *managerProcess {
		GinkgoHelper()
		return execManager(binDir, filepath.Join(dir, "manager"), []string{
			"--kubeconfig", managerKubeconfig,
			"--data-dir", filepath.Join(dir, "manager"),
			"--dashboard-listen", "127.0.0.1:0",
			"--docker-address-pool", e2eAddressPool,
		})
	}

	BeforeAll(func() {
		dir = GinkgoT().TempDir()
		cluster = startTestCluster(dir)

		// berth install, as a user would run it against their cluster;
		// the second run replaces what the first stored (an upgrade).
		for range 2 {
			out := berthOn(cluster.Kubeconfig, "install")
			Expect(out).To(ContainSubstring("environments.berth.dev installed"))
			Expect(out).To(ContainSubstring("environmentleases.berth.dev installed"))
		}

		// RBAC as usual: the manager runs as an identity of its own with
		// config/rbac's ClusterRole and nothing else.
		var err error
		managerKubeconfig, err = cluster.KubeconfigFor("berth-manager")
		Expect(err).NotTo(HaveOccurred())
		kubectl(cluster.Kubeconfig, "apply", "-f", "../../config/rbac/manager-role.yaml")
		kubectl(cluster.Kubeconfig, "create", "clusterrolebinding", "berth-manager", "--clusterrole=berth-manager", "--user=berth-manager")

		m = startKubeManager()
		Expect(m.apiHost).To(Equal(cluster.Host))
		// The role lets the manager converge (and create a pool's
		// standbys), not create pools.
		forbidden := M{"apiVersion": "berth.dev/v1alpha1", "kind": "EnvironmentPool", "metadata": M{"name": "e2e-kube-forbidden"},
			"spec": M{"size": 1, "template": M{"services": []M{service("api")}}}}
		_, errOut, err := m.berth(render(forbidden), "apply", "-f", "-")
		Expect(err).To(HaveOccurred())
		Expect(errOut).To(ContainSubstring("forbidden"))
		// The dashboard's token is the manager's own, not the cluster's.
		Expect(m.token).NotTo(BeEmpty())
		Expect(m.token).NotTo(Equal(cluster.Token))
		// The last spec replaces m by a restarted manager, which its own
		// cleanup stops; this one stops the first while it still runs.
		DeferCleanup(func() {
			if !m.exited() {
				m.stop()
			}
		})
	})

	It("converges the demo applied with kubectl, waits Ready, and deletes it through the finalizer", func() {
		name := uniqueName("kube-demo")
		path := writeFile(dir, name+".yaml", renamedSample("../../config/samples/demo.yaml", name))
		DeferCleanup(func() { sweepLeftovers([]string{name}) })

		kubectl(cluster.Kubeconfig, "apply", "-f", path)
		kubectl(cluster.Kubeconfig, "wait", "--for=condition=Ready", "environment/"+name, "--timeout=300s")

		env := m.getEnv(name)
		Expect(env.Finalizers).To(ContainElement(v1alpha1.Finalizer), "the controller adds the finalizer on a real cluster")
		Expect(env.Status.ObservedGeneration).To(Equal(env.Generation))
		Expect(env.Status.Phase).To(Equal(v1alpha1.PhaseReady))
		// The cluster keeps the spec as applied; berth's defaults are the
		// controller's, not written back.
		Expect(env.Spec.Services[1].RestartPolicy).To(BeEmpty())
		api := serviceStatus(env, "api")
		Expect(api).NotTo(BeNil())
		Expect(api.Ports).NotTo(BeEmpty())
		Expect(api.Ports[0].HostPort).To(BeNumerically(">", 0))
		Expect(envContainers(name, m.identity())).To(HaveLen(3))

		// berth --kubeconfig works against the cluster too.
		Expect(m.mustBerth("get", "env", name)).To(ContainSubstring("Ready"))
		m.mustBerth("wait", "--for=condition=Ready", "env/"+name, "--timeout=30s")
		// logs, exec and cp are subresources of berth's own API server,
		// which a CRD cannot have: they say so, not "not found".
		for _, args := range [][]string{{"logs", name, "api"}, {"exec", name, "api", "--", "/testapp", "print", "--stdout", "x"}} {
			_, errOut, err := m.berth("", args...)
			Expect(err).To(HaveOccurred(), "berth %v on a cluster", args)
			Expect(errOut).To(ContainSubstring("not served by this API server"), "berth %v", args)
			Expect(errOut).To(ContainSubstring("--kubeconfig"), "berth %v names the way out", args)
		}

		// The dashboard lists it, opened by the manager's own token only.
		code, body, _ := dashGet(m, "/")
		Expect(code).To(Equal(http.StatusOK))
		Expect(body).To(ContainSubstring(name))
		code, _, _ = dashGet(m, "/", "Authorization", "Bearer "+cluster.Token)
		Expect(code).To(Equal(http.StatusUnauthorized))
		code, _, _ = dashGet(m, "/metrics", "Authorization", "")
		Expect(code).To(Equal(http.StatusUnauthorized))

		// kubectl delete waits for the finalizer, which the controller
		// removes once every Docker object is gone.
		kubectl(cluster.Kubeconfig, "delete", "environment", name, "--timeout=180s")
		expectNothingLeft(m, name)
		_, err := m.clientset().BerthV1alpha1().Environments().Get(context.Background(), name, metav1.GetOptions{})
		Expect(apierrors.IsNotFound(err)).To(BeTrue(), "still there after delete: %v", err)
	})

	It("refuses a spec only berth's validation catches with InvalidSpec, makes nothing, and converges once it is fixed", func() {
		name := uniqueName("kube-invalid")
		DeferCleanup(func() { sweepLeftovers([]string{name}) })
		bad := environment(name, withDeps(service("api"), "nope"))
		kubectl(cluster.Kubeconfig, "apply", "-f", writeFile(dir, name+".yaml", render(bad)))

		Eventually(func(g Gomega) {
			env := m.getEnv(name)
			c := condition(env, v1alpha1.ConditionReady)
			g.Expect(c).NotTo(BeNil())
			g.Expect(c.Reason).To(Equal("InvalidSpec"))
			g.Expect(c.Message).To(ContainSubstring("spec.services[0].dependsOn[0].service"))
			g.Expect(env.Status.ObservedGeneration).To(Equal(env.Generation))
			g.Expect(env.Status.Phase).To(Equal(v1alpha1.PhaseFailed))
		}).WithTimeout(time.Minute).WithPolling(250 * time.Millisecond).Should(Succeed())
		Consistently(func() int { return len(envContainers(name, m.identity())) + len(envNetworks(name)) }).
			WithTimeout(3 * time.Second).WithPolling(500 * time.Millisecond).Should(BeZero())

		// The policy (--allow-privileged off) is the controller's too.
		priv := service("api")
		priv["privileged"] = true
		kubectl(cluster.Kubeconfig, "apply", "-f", writeFile(dir, name+".yaml", render(environment(name, priv))))
		Eventually(func(g Gomega) {
			c := condition(m.getEnv(name), v1alpha1.ConditionReady)
			g.Expect(c.Reason).To(Equal("InvalidSpec"))
			g.Expect(c.Message).To(ContainSubstring("spec.services[0].privileged"))
		}).WithTimeout(time.Minute).WithPolling(250 * time.Millisecond).Should(Succeed())
		Expect(envContainers(name, m.identity())).To(BeEmpty())

		kubectl(cluster.Kubeconfig, "apply", "-f", writeFile(dir, name+".yaml", render(environment(name, service("api")))))
		kubectl(cluster.Kubeconfig, "wait", "--for=condition=Ready", "environment/"+name, "--timeout=300s")
		Expect(envContainers(name, m.identity())).To(HaveLen(1))

		kubectl(cluster.Kubeconfig, "delete", "environment", name, "--timeout=180s")
		expectNothingLeft(m, name)
	})

	It("has the server refuse what the CRD's schema expresses, storing nothing", func() {
		enum := uniqueName("kube-enum")
		s := service("api")
		s["restartPolicy"] = "Sometimes"
		out, err := kubectlErr(cluster.Kubeconfig, "apply", "-f", writeFile(dir, enum+".yaml", render(environment(enum, s))))
		Expect(err).To(HaveOccurred())
		Expect(out).To(ContainSubstring("spec.services[0].restartPolicy"))
		Expect(out).To(ContainSubstring("Unsupported value"))

		// A CEL rule of the CRD: berth's Docker names need short names.
		long := "e2e-kube-" + strings.Repeat("x", 40)
		out, err = kubectlErr(cluster.Kubeconfig, "apply", "-f", writeFile(dir, "long.yaml", render(environment(long, service("api")))))
		Expect(err).To(HaveOccurred())
		Expect(out).To(ContainSubstring("may not be more than 40 characters"))

		for _, name := range []string{enum, long} {
			_, err := m.clientset().BerthV1alpha1().Environments().Get(context.Background(), name, metav1.GetOptions{})
			Expect(apierrors.IsNotFound(err)).To(BeTrue(), "%s was stored: %v", name, err)
		}
	})

	It("has the CRD accept a pool claimant without services and refuse an Environment with neither, naming the field", func() {
		none := uniqueName("kube-none")
		out, err := kubectlErr(cluster.Kubeconfig, "apply", "-f", writeFile(dir, none+".yaml", render(environment(none))))
		Expect(err).To(HaveOccurred())
		Expect(out).To(ContainSubstring("spec.services: at least one service is required unless spec.poolRef is set"))

		// The standby/pool fields validate as the embedded server's do.
		both := uniqueName("kube-both")
		out, err = kubectlErr(cluster.Kubeconfig, "apply", "-f", writeFile(dir, both+".yaml", render(M{
			"apiVersion": "berth.dev/v1alpha1", "kind": "Environment", "metadata": M{"name": both},
			"spec": M{"poolRef": M{"name": "e2e-pool"}, "standby": M{"pool": "e2e-pool", "mode": "Paused"}},
		})))
		Expect(err).To(HaveOccurred())
		Expect(out).To(ContainSubstring("spec.standby may not be set together with spec.poolRef"))
		mode := uniqueName("kube-mode")
		out, err = kubectlErr(cluster.Kubeconfig, "apply", "-f", writeFile(dir, mode+".yaml", render(M{
			"apiVersion": "berth.dev/v1alpha1", "kind": "Environment", "metadata": M{"name": mode},
			"spec": M{"services": []M{service("api")}, "standby": M{"pool": "E2E_pool", "mode": "Sometimes"}},
		})))
		Expect(err).To(HaveOccurred())
		Expect(out).To(ContainSubstring(`spec.standby.mode: Unsupported value: "Sometimes"`))
		Expect(out).To(ContainSubstring("spec.standby.pool"))
		for _, name := range []string{none, both, mode} {
			_, err := m.clientset().BerthV1alpha1().Environments().Get(context.Background(), name, metav1.GetOptions{})
			Expect(apierrors.IsNotFound(err)).To(BeTrue(), "%s was stored: %v", name, err)
		}

		// A claimant: poolRef, no services; the real kube-apiserver stores it.
		claim := uniqueName("kube-claim")
		kubectl(cluster.Kubeconfig, "apply", "-f", writeFile(dir, claim+".yaml", render(M{
			"apiVersion": "berth.dev/v1alpha1", "kind": "Environment", "metadata": M{"name": claim},
			"spec": M{"poolRef": M{"name": "e2e-no-such-pool"}},
		})))
		got, err := m.clientset().BerthV1alpha1().Environments().Get(context.Background(), claim, metav1.GetOptions{})
		Expect(err).NotTo(HaveOccurred())
		Expect(got.Spec.PoolRef).NotTo(BeNil())
		Expect(got.Spec.Services).To(BeEmpty())
		out, err = kubectlErr(cluster.Kubeconfig, "patch", "environment", claim, "--type=merge", "-p", `{"spec":{"poolRef":{"name":"e2e-other-pool"}}}`)
		Expect(err).To(HaveOccurred())
		Expect(out).To(ContainSubstring("spec.poolRef.name may not change after create"))
		kubectl(cluster.Kubeconfig, "delete", "environment", claim, "--wait=false")
		Eventually(func() bool {
			_, err := m.clientset().BerthV1alpha1().Environments().Get(context.Background(), claim, metav1.GetOptions{})
			return apierrors.IsNotFound(err)
		}, 2*time.Minute, 500*time.Millisecond).Should(BeTrue(), "the claimant was not deleted (finalizer)")
	})

	// Last: it replaces m, and the restarted manager stops with this spec.
	It("survives kill -9 of the manager mid-converge: a new one adopts, duplicates nothing, and tears down", func() {
		name := uniqueName("kube-crash")
		DeferCleanup(func() { sweepLeftovers([]string{name}) })
		// A chain (each service waits for the previous one to start), so
		// the converge takes several passes and the kill lands inside it.
		svcs := []M{service("s0")}
		for i := 1; i < 6; i++ {
			svcs = append(svcs, withDeps(service(fmt.Sprintf("s%d", i)), fmt.Sprintf("s%d", i-1)))
		}
		kubectl(cluster.Kubeconfig, "apply", "-f", writeFile(dir, name+".yaml", render(environment(name, svcs...))))
		id := m.identity()
		Eventually(func() int { return len(envContainers(name, id)) }).
			WithTimeout(2 * time.Minute).WithPolling(50 * time.Millisecond).Should(BeNumerically(">=", 1))
		m.kill()
		running := 0
		made := envContainers(name, id)
		for _, c := range made {
			if c.State == "running" {
				running++
			}
		}
		fmt.Fprintf(GinkgoWriter, "killed the manager with %d of 6 containers made, %d running\n", len(made), running)

		// The same data dir: the same identity, so the new manager adopts
		// what the killed one made.
		m = startKubeManager()
		kubectl(cluster.Kubeconfig, "wait", "--for=condition=Ready", "environment/"+name, "--timeout=300s")
		Expect(m.identity()).To(Equal(id))
		cs := envContainers(name, id)
		Expect(cs).To(HaveLen(6), "one container per service, none duplicated")
		Expect(envNetworks(name)).To(HaveLen(1))

		kubectl(cluster.Kubeconfig, "delete", "environment", name, "--timeout=180s")
		expectNothingLeft(m, name)
	})
})

// renamedSample is a sample's YAML with metadata.name replaced, so that
// its Docker names are this run's own.
func renamedSample(path, name string) string {
	GinkgoHelper()
	b, err := os.ReadFile(path)
	Expect(err).NotTo(HaveOccurred())
	var doc M
	Expect(yaml.Unmarshal(b, &doc)).To(Succeed())
	doc["metadata"].(M)["name"] = name
	return render(doc)
}

// kubectlBin is kubectl when one runs here, else bin/berth (whose apply,
// get, wait and delete are kubectl's own commands).
func kubectlBin() string {
	if p, err := exec.LookPath("kubectl"); err == nil {
		if exec.Command(p, "version", "--client").Run() == nil {
			return p
		}
	}
	return filepath.Join(binDir, "berth")
}

func kubectlErr(kubeconfig string, args ...string) (string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 6*time.Minute)
	defer cancel()
	bin := kubectlBin()
	cmd := exec.CommandContext(ctx, bin, append([]string{"--kubeconfig", kubeconfig}, args...)...)
	// kubectl must not find the user's cluster, whatever happens.
	cmd.Env = append(os.Environ(), "KUBECONFIG=/nonexistent")
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	err := cmd.Run()
	fmt.Fprintf(GinkgoWriter, "$ %s %s\n%s", filepath.Base(bin), strings.Join(args, " "), out.String())
	return out.String(), err
}

func kubectl(kubeconfig string, args ...string) string {
	GinkgoHelper()
	out, err := kubectlErr(kubeconfig, args...)
	Expect(err).NotTo(HaveOccurred(), "kubectl %v: %s", args, out)
	return out
}

// berthOn runs bin/berth --kubeconfig kubeconfig and expects success.
func berthOn(kubeconfig string, args ...string) string {
	GinkgoHelper()
	cmd := exec.Command(filepath.Join(binDir, "berth"), append([]string{"--kubeconfig", kubeconfig}, args...)...)
	out, err := cmd.CombinedOutput()
	fmt.Fprintf(GinkgoWriter, "$ berth %s\n%s", strings.Join(args, " "), out)
	Expect(err).NotTo(HaveOccurred(), "berth %v: %s", args, out)
	return string(out)
}
