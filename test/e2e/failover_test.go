package e2e

import (
	"context"
	"fmt"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/moby/moby/api/types/container"
	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"

	"berth.dev/berth/apis/v1alpha1"
	"berth.dev/berth/internal/docker/faultproxy"
	"berth.dev/berth/internal/kubetest"
)

// Failover timings: short, so the spec takes seconds, and valid by
// client-go's rules (lease > renew > 1.2 × retry).
var failoverTimings = []string{
	"--leader-elect-lease-duration", "4s",
	"--leader-elect-renew-deadline", "3s",
	"--leader-elect-retry-period", "1s",
}

// Two managers of one Docker host (--host the same, --leader-elect) on a
// real kube-apiserver: the leader is killed with SIGKILL in the middle of
// a converge, a create in flight, some containers made and not started,
// others not made; the standby takes the Lease, adopts what the leader
// made (same container IDs) and finishes, duplicating nothing, and tears
// it all down on delete.
var _ = Describe("Failover", Ordered, func() {
	var (
		cluster           *kubetest.Cluster
		dir               string
		managerKubeconfig string
		kube              *kubernetes.Clientset
		failover          func(crashPoint)
	)

	BeforeAll(func() {
		dir = GinkgoT().TempDir()
		cluster = startTestCluster(dir)
		var err error
		berthOn(cluster.Kubeconfig, "install")
		// Both managers run as config/rbac's berth-manager identity: the
		// role must cover the Lease too.
		managerKubeconfig, err = cluster.KubeconfigFor("berth-manager")
		Expect(err).NotTo(HaveOccurred())
		kubectl(cluster.Kubeconfig, "apply", "-f", "../../config/rbac/manager-role.yaml")
		kubectl(cluster.Kubeconfig, "create", "clusterrolebinding", "berth-manager", "--clusterrole=berth-manager", "--user=berth-manager")
		kube, err = kubernetes.NewForConfig(cluster.RESTConfig())
		Expect(err).NotTo(HaveOccurred())
	})

	// Where the leader dies: its proxy holds one of its Docker calls (the
	// 6th container create, or the 4th start) and the test kills it while
	// the call is held, so the kill lands mid-converge every time.
	It("has the standby take over from a leader killed mid-create, adopt, duplicate nothing, and tear down", func() {
		failover(crashPoint{call: "create", after: 5, made: 5})
	})
	It("has the standby take over from a leader killed between a create and its start, adopt, duplicate nothing, and tear down", func() {
		failover(crashPoint{call: "start", after: 3, made: 8})
	})

	failover = func(cp crashPoint) {
		GinkgoHelper()
		host := uniqueName("failover-host")
		owner := "berth-host-" + host // README: the managed-by label of a host's managers
		name := uniqueName("failover")
		DeferCleanup(func() { sweepLeftovers([]string{name}) })
		d := createDecoys(name)
		DeferCleanup(d.cleanup)
		decoyStarts := d.startTimes()

		// Each manager reaches Docker through a recording proxy of its
		// own: the leader's holds the crash point's call; the standby's
		// shows it makes no Docker write while it stands by.
		proxyA, proxyB := startProxy(), startProxy()
		var callsMu sync.Mutex
		calls := 0
		proxyA.SetFaults(faultproxy.Faults{Latency: time.Hour, Match: func(method, path string) bool {
			if method != "POST" || !cp.matches(path) {
				return false
			}
			callsMu.Lock()
			defer callsMu.Unlock()
			calls++
			return calls > cp.after
		}})
		start := func(sub string, proxy *faultproxy.Proxy) *managerProcess {
			GinkgoHelper()
			dataDir := filepath.Join(dir, name+"-"+sub)
			return execManager(binDir, dataDir, append([]string{
				"--kubeconfig", managerKubeconfig,
				"--data-dir", dataDir,
				"--dashboard-listen", "127.0.0.1:0",
				"--docker-address-pool", e2eAddressPool,
				"--docker-host", proxy.Host(),
				"--default-memory-limit", "32Mi", "--default-memory-reservation", "16Mi",
				"--host", host, "--leader-elect",
			}, failoverTimings...))
		}
		holder := func() string {
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			l, err := kube.CoordinationV1().Leases("default").Get(ctx, "berth-manager-"+host, metav1.GetOptions{})
			if err != nil || l.Spec.HolderIdentity == nil {
				return ""
			}
			return *l.Spec.HolderIdentity
		}
		leads := func(m *managerProcess) func() float64 {
			return func() float64 { return sum(samples(m.metrics(), "berth_manager_leader")) }
		}

		// A starts alone, so it leads; B joins as the standby.
		a := start("a", proxyA)
		Eventually(holder).WithTimeout(time.Minute).WithPolling(100 * time.Millisecond).Should(Equal(a.identity()))
		Eventually(leads(a)).WithTimeout(30 * time.Second).Should(Equal(1.0))
		b := start("b", proxyB)
		Expect(b.identity()).NotTo(Equal(a.identity()))
		Consistently(leads(b)).WithTimeout(3 * time.Second).WithPolling(500 * time.Millisecond).Should(BeZero())
		Expect(holder()).To(Equal(a.identity()))

		// Eight services, a chain (each waits for the previous one to
		// start), the first with a volume.
		services := []string{"s0"}
		svcs := []M{volumeService("s0", "data", "s0-started")}
		for i := 1; i < 8; i++ {
			s := fmt.Sprintf("s%d", i)
			services = append(services, s)
			svcs = append(svcs, withDeps(service(s), services[i-1]))
		}
		creates := recordEvents("type=container", "event=create", "label="+v1alpha1.LabelEnvironment+"="+name)
		destroys := recordEvents("type=container", "event=destroy", "label="+v1alpha1.LabelEnvironment+"="+name)
		// Pinned to this spec's host: the cluster outlives the spec, and
		// an earlier spec's host, stopped a moment ago, must not be a
		// candidate (this spec is about failover, not placement).
		env := withVolumes(environment(name, svcs...), "data")
		env["spec"].(M)["host"] = host
		kubectl(cluster.Kubeconfig, "apply", "-f", writeFile(dir, name+".yaml", render(env)))

		// Wait for the held call, with what it follows made.
		Eventually(func(g Gomega) {
			callsMu.Lock()
			n := calls
			callsMu.Unlock()
			g.Expect(n).To(BeNumerically(">", cp.after), "the held %s has not reached the proxy", cp.call)
			g.Expect(ownedContainers(name, owner)).To(HaveLen(cp.made))
		}).WithTimeout(3 * time.Minute).WithPolling(20 * time.Millisecond).Should(Succeed())
		a.kill()
		killedAt := time.Now()
		proxyA.SetFaults(faultproxy.Faults{})
		made := ownedContainers(name, owner)
		var states []string
		created, running := 0, 0
		for _, s := range services {
			if c, ok := made[s]; ok {
				states = append(states, s+"="+string(c.State))
				switch c.State {
				case "created":
					created++
				case "running":
					running++
				}
			} else {
				states = append(states, s+"=missing")
			}
		}
		fmt.Fprintf(GinkgoWriter, "killed the leader during a held %s with %d of %d containers made: %s\n", cp.call, len(made), len(svcs), strings.Join(states, " "))
		Expect(made).To(HaveLen(cp.made))
		Expect(running).To(BeNumerically("<", len(svcs)), "the kill must land mid-converge")
		Expect(created).To(BeNumerically(">", 0), "the kill must leave a container created and never started")
		if cp.call == "start" {
			Expect(running).To(Equal(cp.after), "the starts before the held one")
		}
		Expect(a.exitErr).To(HaveOccurred(), "kill -9 is not a clean exit")
		Expect(writes(proxyB.Requests())).To(BeEmpty(), "the standby wrote to Docker")

		// The standby takes the Lease once it runs out, and converges.
		Eventually(holder).WithTimeout(2*time.Minute).WithPolling(50*time.Millisecond).Should(Equal(b.identity()),
			"the standby did not take the Lease:\n%s", b.tail())
		tookOver := time.Since(killedAt)
		Eventually(leads(b)).WithTimeout(30 * time.Second).Should(Equal(1.0))
		b.waitReady(5*time.Minute, name)
		ready := time.Since(killedAt)
		fmt.Fprintf(GinkgoWriter, "failover at a held "+cp.call+" (lease 4s, renew 3s, retry 1s): new leader %s after kill -9, Environment Ready %s after\n",
			tookOver.Round(time.Millisecond), ready.Round(time.Millisecond))

		// Exactly one container per service, under its own name, running;
		// those the killed leader made are adopted (created ones started).
		final := ownedContainers(name, owner)
		Expect(final).To(HaveLen(len(svcs)))
		for _, s := range services {
			c := final[s]
			Expect(c.Names).To(Equal([]string{"/" + v1alpha1.ContainerName(name, s)}), "service %s", s)
			Expect(string(c.State)).To(Equal("running"), "service %s", s)
		}
		for s, c := range made {
			Expect(final[s].ID).To(Equal(c.ID), "the new leader replaced %s", s)
		}
		// Nothing else of the Environment: by label or berth's name prefix,
		// only those and the foreign decoy.
		var others []string
		for _, c := range envContainers(name, "") {
			if c.Labels[v1alpha1.LabelManagedBy] != owner && !isDecoy(d, c) {
				others = append(others, strings.Join(c.Names, ","))
			}
		}
		Expect(others).To(BeEmpty(), "containers of %s berth does not account for", name)
		Expect(creates.events()).To(HaveLen(len(svcs)), "a container was created twice")
		Expect(destroys.events()).To(BeEmpty(), "a container was removed and made again")
		Expect(envNetworks(name)).To(HaveLen(1))
		Expect(envVolumes(name)).To(HaveLen(1))
		Expect(forcedRemovals(append(proxyA.Requests(), proxyB.Requests()...))).To(BeEmpty())

		// Delete through the API: the finalizer holds the object until
		// the new leader has removed everything.
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		Expect(b.clientset().BerthV1alpha1().Environments().Delete(ctx, name, metav1.DeleteOptions{})).To(Succeed())
		b.waitGone(3*time.Minute, name)
		// Any manager's containers count, the decoys' aside.
		expectNoneLeft(b, func(env string) []container.Summary {
			return slices.DeleteFunc(envContainers(env, ""), func(c container.Summary) bool { return isDecoy(d, c) })
		}, name)
		d.expectUntouched(decoyStarts)
		Expect(forcedRemovals(proxyB.Requests())).To(BeEmpty())

		// The survivor stops cleanly and hands the Lease back.
		b.stop()
		Eventually(holder).WithTimeout(30 * time.Second).Should(BeEmpty())
	}
})

// crashPoint is the leader's Docker call its proxy holds: the first after
// `after` such calls passed; made containers exist by then.
type crashPoint struct {
	call  string // "create" or "start"
	after int
	made  int
}

func (cp crashPoint) matches(path string) bool {
	if cp.call == "create" {
		return path == "/containers/create"
	}
	return strings.HasPrefix(path, "/containers/") && strings.HasSuffix(path, "/start")
}

// ownedContainers maps service → container for env's containers that
// carry owner's managed-by label, failing on two for one service.
func ownedContainers(env, owner string) map[string]container.Summary {
	GinkgoHelper()
	out := map[string]container.Summary{}
	for _, c := range containersLabelled(v1alpha1.LabelEnvironment+"="+env, v1alpha1.LabelManagedBy+"="+owner) {
		svc := c.Labels[v1alpha1.LabelService]
		Expect(out).NotTo(HaveKey(svc), "two containers for service %s of %s", svc, env)
		out[svc] = c
	}
	return out
}

func isDecoy(d *decoys, c container.Summary) bool {
	for _, n := range c.Names {
		for _, f := range d.foreign {
			if strings.TrimPrefix(n, "/") == f {
				return true
			}
		}
	}
	return false
}

// writes are the requests of rec that change something in Docker (all
// but reads: GET, HEAD and the version ping), as "METHOD path", sorted.
func writes(rec []faultproxy.Request) []string {
	var out []string
	for _, r := range rec {
		if r.Method != "GET" && r.Method != "HEAD" {
			out = append(out, r.Method+" "+r.URI)
		}
	}
	sort.Strings(out)
	return out
}
