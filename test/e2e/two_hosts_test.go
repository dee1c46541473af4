package e2e

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"sort"
	"time"

	"github.com/moby/moby/client"
	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"

	"berth.dev/berth/apis/v1alpha1"
	"berth.dev/berth/client/clientset/versioned"
	"berth.dev/berth/internal/dockertest"
	"berth.dev/berth/internal/kubetest"
)

// Two Docker hosts on one machine, one manager each, on a real
// kube-apiserver: host-a is the main daemon, host-b a second dockerd of
// the spec's own (internal/dockertest). Pinned Environments land on their
// host's daemon, unpinned ones on the host with the most free budget (the
// choice changes as the budgets fill), and no container of one host's
// Environments is ever on the other daemon. kill -9 of host-b's manager
// turns its Environments Ready=Unknown (HostUnreachable) without moving
// them; restarted, it converges them again, adopting its containers.
// Deletes are torn down by each host's own manager.
var _ = Describe("Two Docker hosts", Ordered, func() {
	const (
		hostA, hostB     = "host-a", "host-b"
		budgetA, budgetB = 1024 * mebi, 3072 * mebi // --memory-budget 1Gi and 3Gi
		grace            = 6 * time.Second
	)
	var (
		cluster  *kubetest.Cluster
		d        *dockertest.Daemon
		dir      string
		kc       string // the managers' kubeconfig: config/rbac's berth-manager
		cs       versioned.Interface
		kube     kubernetes.Interface
		a, b     *managerProcess
		idA, idB string
		// The Environments: pinned to each host, and two unpinned.
		pinA, pinB, free1, free2 string
		// want is the host each Environment must be bound to.
		want   map[string]string
		decoy  string
		decoyT string
	)
	startOn := func(host, budget string, extra ...string) *managerProcess {
		GinkgoHelper()
		dataDir := filepath.Join(dir, host)
		args := append([]string{
			"--kubeconfig", kc,
			"--data-dir", dataDir,
			"--dashboard-listen", "127.0.0.1:0",
			"--host", host,
			"--memory-budget", budget,
			"--host-grace", grace.String(),
			"--default-memory-limit", "32Mi", "--default-memory-reservation", "16Mi",
		}, failoverTimings...)
		return execManager(binDir, dataDir, append(args, extra...))
	}
	startB := func() *managerProcess {
		GinkgoHelper()
		return startOn(hostB, "3Gi", "--docker-host", d.Host, "--docker-address-pool", d.AddressPool.String())
	}
	// mix checks the hosts' containers never mix: each daemon has only
	// its own manager's containers, of its own host's Environments.
	mix := func() {
		GinkgoHelper()
		for _, on := range []struct {
			daemon      string
			c           *client.Client
			own, others string
		}{{"main", dockerc(), idA, idB}, {"second", d.Client, idB, idA}} {
			for _, c := range containersOn(on.c) {
				by, env := c.Labels[v1alpha1.LabelManagedBy], c.Labels[v1alpha1.LabelEnvironment]
				Expect(by).NotTo(Equal(on.others), "the other host's manager made %v on the %s daemon", c.Names, on.daemon)
				if by != on.own {
					continue // another spec's, or the decoy
				}
				Expect(want).To(HaveKey(env), "%v of an unknown Environment on the %s daemon", c.Names, on.daemon)
				Expect(want[env]).To(Equal(map[string]string{idA: hostA, idB: hostB}[on.own]),
					"%v of %s (bound to %s) on the %s daemon", c.Names, env, want[env], on.daemon)
			}
		}
		// The second daemon is the spec's own: nothing else is on it.
		for _, c := range containersOn(d.Client) {
			Expect(c.Labels[v1alpha1.LabelManagedBy]).To(Equal(idB), "%v on the second daemon", c.Names)
		}
	}
	// containersOfB maps host-b's Environments' containers on the second
	// daemon, env → container ID, expecting them running.
	containersOfB := func() map[string]string {
		GinkgoHelper()
		out := map[string]string{}
		for _, c := range containersOn(d.Client) {
			Expect(string(c.State)).To(Equal("running"), "%v on the second daemon", c.Names)
			out[c.Labels[v1alpha1.LabelEnvironment]] = c.ID
		}
		return out
	}
	// expectBound waits for name to be Ready, bound to want[name], with its
	// one container on that host's daemon only.
	expectBound := func(name string) {
		GinkgoHelper()
		m := map[string]*managerProcess{hostA: a, hostB: b}[want[name]]
		m.waitReady(3*time.Minute, name)
		Expect(m.getEnv(name).Status.Host).To(Equal(want[name]), "%s's binding", name)
		where := map[string]string{hostA: "main " + idA + " running", hostB: "second " + idB + " running"}[want[name]]
		Expect(observePlacement(dockerc(), d.Client)[name]).To(Equal([]string{where}), "%s's containers", name)
		onMain, onSecond := networkOn(dockerc(), v1alpha1.NetworkName(name)), networkOn(d.Client, v1alpha1.NetworkName(name))
		Expect([]bool{onMain, onSecond}).To(Equal([]bool{want[name] == hostA, want[name] == hostB}),
			"%s's network on the main, second daemon", name)
	}
	// admitted waits until host's heartbeat publishes exactly mib MiB
	// admitted: the placement reads that figure, so the next unpinned
	// Environment's choice is decided by known numbers.
	admitted := func(host string, mib int64) {
		GinkgoHelper()
		Eventually(func() int64 { _, got := heartbeat(kube, host); return got }).
			WithTimeout(time.Minute).WithPolling(100*time.Millisecond).Should(Equal(mib*mebi), "%s's heartbeat", host)
	}
	// mostFree is the placement's rule on the two budgets: the most free,
	// the first by name on a tie.
	mostFree := func(usedA, usedB int64) string {
		if budgetB-usedB*mebi > budgetA-usedA*mebi {
			return hostB
		}
		return hostA
	}

	BeforeAll(func() {
		if _, _, err := kubetest.Binaries(); errors.Is(err, kubetest.ErrNoBinaries) {
			Skip("no kube-apiserver built: run hack/ensure-kube-apiserver.sh (CI does) or set " + kubetest.EnvAPIServer)
		} else {
			Expect(err).NotTo(HaveOccurred())
		}
		ensureTestImage()
		dir = GinkgoT().TempDir()
		ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
		defer cancel()

		var err error
		d, err = dockertest.Start(ctx, dockertest.Options{Logf: func(f string, a ...any) { fmt.Fprintf(GinkgoWriter, f+"\n", a...) }})
		if errors.Is(err, dockertest.ErrUnavailable) {
			Skip(err.Error())
		}
		Expect(err).NotTo(HaveOccurred())
		DeferCleanup(func() { Expect(d.Stop()).To(Succeed()) })
		begin := time.Now()
		Expect(d.LoadImages(ctx, testImage)).To(Succeed())
		fmt.Fprintf(GinkgoWriter, "two hosts: second daemon %s answering after %s (%s), %s loaded in %s\n",
			d.Host, d.Started.Round(time.Millisecond), d.StorageDriver, testImage, time.Since(begin).Round(time.Millisecond))

		cluster, err = kubetest.Start(ctx, kubetest.Options{Dir: filepath.Join(dir, "cluster"), SkipCRDs: true, Users: []string{"berth-manager"}})
		Expect(err).NotTo(HaveOccurred())
		DeferCleanup(func() { Expect(cluster.Stop()).To(Succeed()) })
		fmt.Fprintf(GinkgoWriter, "two hosts: etcd + kube-apiserver ready in %s\n", cluster.Started.Round(time.Millisecond))
		berthOn(cluster.Kubeconfig, "install")
		kc, err = cluster.KubeconfigFor("berth-manager")
		Expect(err).NotTo(HaveOccurred())
		kubectl(cluster.Kubeconfig, "apply", "-f", "../../config/rbac/manager-role.yaml")
		kubectl(cluster.Kubeconfig, "create", "clusterrolebinding", "berth-manager", "--clusterrole=berth-manager", "--user=berth-manager")
		cs, err = versioned.NewForConfig(cluster.RESTConfig())
		Expect(err).NotTo(HaveOccurred())
		kube, err = kubernetes.NewForConfig(cluster.RESTConfig())
		Expect(err).NotTo(HaveOccurred())

		pinA, pinB, free1, free2 = uniqueName("2h-pin-a"), uniqueName("2h-pin-b"), uniqueName("2h-free1"), uniqueName("2h-free2")
		want = map[string]string{pinA: hostA, pinB: hostB}
		// A failed spec leaves host-a's objects on the shared main daemon
		// (the second one goes with its Stop).
		DeferCleanup(func() { sweepLeftovers([]string{pinA, pinB, free1, free2}) })

		// The decoy, on the main daemon, has the very name and labels
		// host-b's manager gives pinB's container, by another manager.
		decoy = v1alpha1.ContainerName(pinB, "web")
		runForeignDecoy(decoy, pinB)
		DeferCleanup(func() {
			_, _ = dockerCLI("stop", "--timeout", "5", decoy)
			_, _ = dockerCLI("rm", decoy)
		})
		decoyT = mustInspect(decoy).State.StartedAt

		begin = time.Now()
		a = startOn(hostA, "1Gi", "--docker-address-pool", e2eAddressPool)
		b = startB()
		idA, idB = a.identity(), b.identity()
		Expect(idA).NotTo(Equal(idB))
		// Both heartbeats publish their budget (the daemon answered).
		for host, budget := range map[string]int64{hostA: budgetA, hostB: budgetB} {
			Eventually(func() int64 { got, _ := heartbeat(kube, host); return got }).
				WithTimeout(time.Minute).WithPolling(100*time.Millisecond).Should(Equal(budget), "%s's heartbeat", host)
		}
		fmt.Fprintf(GinkgoWriter, "two hosts: both managers started and heartbeating in %s\n", time.Since(begin).Round(time.Millisecond))
	})

	It("lands a pinned Environment on its host's daemon only", func() {
		begin := time.Now()
		createEnv(cs, withHost(environment(pinA, sizedService("web", 256)), hostA))
		createEnv(cs, withHost(environment(pinB, sizedService("web", 256)), hostB))
		expectBound(pinA)
		expectBound(pinB)
		fmt.Fprintf(GinkgoWriter, "two hosts: both pinned Environments Ready in %s\n", time.Since(begin).Round(time.Millisecond))
		admitted(hostA, 256)
		admitted(hostB, 256)
		mix()
	})

	It("places unpinned Environments on the host with the most free budget, as the budgets fill", func() {
		// host-a: 1Gi − 256Mi = 768Mi free; host-b: 3Gi − 256Mi = 2816Mi.
		// free1 (2304Mi) fits host-b only and goes there, leaving it 512Mi:
		// then free2 (256Mi) goes to host-a, which has 768Mi.
		want[free1] = mostFree(256, 256)
		Expect(want[free1]).To(Equal(hostB))
		begin := time.Now()
		createEnv(cs, environment(free1, sizedService("web", 2304)))
		expectBound(free1)
		fmt.Fprintf(GinkgoWriter, "two hosts: %s placed on %s and Ready in %s\n", free1, want[free1], time.Since(begin).Round(time.Millisecond))
		admitted(hostB, 256+2304)

		want[free2] = mostFree(256, 256+2304)
		Expect(want[free2]).To(Equal(hostA), "the choice changes as host-b fills")
		begin = time.Now()
		createEnv(cs, environment(free2, sizedService("web", 256)))
		expectBound(free2)
		fmt.Fprintf(GinkgoWriter, "two hosts: %s placed on %s and Ready in %s\n", free2, want[free2], time.Since(begin).Round(time.Millisecond))
		admitted(hostA, 256+256)
		mix()
		c := mustInspect(decoy)
		Expect(c.State.Running).To(BeTrue(), "decoy %s was stopped", decoy)
		Expect(c.State.StartedAt).To(Equal(decoyT), "decoy %s was restarted", decoy)
	})

	It("shows a host whose manager is killed as HostUnreachable, never rebinding it", func() {
		onB := containersOfB()
		Expect(onB).To(HaveLen(2))
		Expect(onB).To(HaveKey(pinB))
		Expect(onB).To(HaveKey(free1))
		b.kill()
		killed := time.Now()
		ofB := []string{pinB, free1}
		for _, name := range ofB {
			Eventually(func(g Gomega) {
				env := a.getEnv(name)
				c := condition(env, v1alpha1.ConditionReady)
				g.Expect(c).NotTo(BeNil(), describeStatus(env))
				g.Expect(c.Status).To(Equal(metav1.ConditionUnknown), describeStatus(env))
				g.Expect(c.Reason).To(Equal(v1alpha1.ReasonHostUnreachable))
				g.Expect(c.Message).To(ContainSubstring("host host-b was last seen"))
				g.Expect(env.Status.Host).To(Equal(hostB))
			}).WithTimeout(2*time.Minute).WithPolling(100*time.Millisecond).Should(Succeed(), "host-a's manager:\n%s", a.tail())
		}
		fmt.Fprintf(GinkgoWriter, "two hosts: host-b's Environments HostUnreachable %s after kill -9 (--host-grace %s)\n",
			time.Since(killed).Round(time.Millisecond), grace)

		By("they stay bound to host-b, their containers running there, host-a's unaffected")
		Consistently(func(g Gomega) {
			for _, name := range ofB {
				env := a.getEnv(name)
				g.Expect(env.Status.Host).To(Equal(hostB), "%s was rebound", name)
				g.Expect(condition(env, v1alpha1.ConditionReady).Reason).To(Equal(v1alpha1.ReasonHostUnreachable))
			}
			g.Expect(containersOfB()).To(Equal(onB))
		}).WithTimeout(3 * time.Second).WithPolling(500 * time.Millisecond).Should(Succeed())
		for _, name := range []string{pinA, free2} {
			Expect(isReady(a.getEnv(name))).To(BeTrue(), describeStatus(a.getEnv(name)))
		}
		mix()
	})

	// One spec: execManager's cleanup stops a manager started in an It
	// when that It ends, and the deletes need the restarted one.
	It("has host-b's restarted manager converge its own again, each host's manager tear down its own on delete, and claims take standbys of their own host", func() {
		onB := containersOfB()
		begin := time.Now()
		b = startB()
		Expect(b.identity()).To(Equal(idB))
		expectBound(pinB)
		expectBound(free1)
		fmt.Fprintf(GinkgoWriter, "two hosts: host-b's Environments Ready again %s after its manager was started again\n", time.Since(begin).Round(time.Millisecond))
		Expect(containersOfB()).To(Equal(onB), "host-b's manager replaced containers")
		mix()

		By("deleted through the API, each host's manager tears down its own, leaving nothing on either daemon")
		begin = time.Now()
		names := make([]string, 0, len(want))
		for name := range want {
			names = append(names, name)
		}
		sort.Strings(names)
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		for _, name := range names {
			Expect(cs.BerthV1alpha1().Environments().Delete(ctx, name, metav1.DeleteOptions{})).To(Succeed())
		}
		a.waitGone(3*time.Minute, names...)
		fmt.Fprintf(GinkgoWriter, "two hosts: all %d Environments gone %s after the deletes\n", len(names), time.Since(begin).Round(time.Millisecond))
		Eventually(func(g Gomega) {
			seen := observePlacement(dockerc(), d.Client)
			for _, name := range names {
				g.Expect(seen[name]).To(BeEmpty(), "containers of %s left", name)
				g.Expect(networkOn(d.Client, v1alpha1.NetworkName(name))).To(BeFalse(), "network of %s left on the second daemon", name)
				var nets []string
				for _, n := range envNetworks(name) {
					if !daemonKeeps(a, n) {
						nets = append(nets, n)
					}
				}
				g.Expect(nets).To(BeEmpty(), "network of %s left on the main daemon", name)
			}
			g.Expect(containersOn(d.Client)).To(BeEmpty(), "containers left on the second daemon")
		}).WithTimeout(time.Minute).WithPolling(500 * time.Millisecond).Should(Succeed())
		c := mustInspect(decoy)
		Expect(c.State.Running).To(BeTrue(), "decoy %s was stopped", decoy)
		Expect(c.State.StartedAt).To(Equal(decoyT), "decoy %s was restarted", decoy)

		twoHostsPools(twoHostsRig{cs: cs, kube: kube, a: a, b: b, d: d, idA: idA, idB: idB})

		By("both managers stop cleanly, then the second daemon, docker0 untouched")
		a.stop()
		b.stop()
		stopSecondDaemon(d)
		Expect(mustInspect(decoy).State.Running).To(BeTrue())
	})
})

// withHost pins the Environment document env to host (spec.host).
func withHost(env M, host string) M {
	env["spec"].(M)["host"] = host
	return env
}
