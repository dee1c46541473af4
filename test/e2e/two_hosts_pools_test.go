package e2e

import (
	"context"
	"sync"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/client-go/kubernetes"

	"berth.dev/berth/apis/v1alpha1"
	"berth.dev/berth/client/clientset/versioned"
	"berth.dev/berth/internal/dockertest"
)

// twoHostsRig is what the "Two Docker hosts" spec has running: the
// cluster's admin clients, both managers and the second daemon.
type twoHostsRig struct {
	cs       versioned.Interface
	kube     kubernetes.Interface
	a, b     *managerProcess
	d        *dockertest.Daemon
	idA, idB string
}

// twoHostsPools: a warm pool across the two hosts, both empty at the
// start. One refiller makes exactly the standbys needed; an unpinned
// claimant goes to the host of a free standby even when the other host
// has more free budget; a pinned claimant never takes a standby of
// another host (it falls back to the template on its own).
func twoHostsPools(r twoHostsRig) {
	GinkgoHelper()
	pool := uniqueName("2h-pool")
	filler, claim, pinned := uniqueName("2h-fill"), uniqueName("2h-claim"), uniqueName("2h-claim-b")
	envs := r.cs.BerthV1alpha1().Environments()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()

	// Every standby the pool ever gets, listed every 100 ms (a standby
	// is torn down gracefully, for seconds, so none goes unseen): two
	// refillers would create more than are needed and delete the surplus.
	var mu sync.Mutex
	created := map[string]bool{}
	selector := labels.Set{v1alpha1.LabelPool: pool}.String()
	go func() {
		defer GinkgoRecover()
		t := time.NewTicker(100 * time.Millisecond)
		defer t.Stop()
		for ctx.Err() == nil {
			if list, err := envs.List(ctx, metav1.ListOptions{LabelSelector: selector}); err == nil {
				mu.Lock()
				for _, e := range list.Items {
					created[e.Name] = true
				}
				mu.Unlock()
			}
			select {
			case <-ctx.Done():
			case <-t.C:
			}
		}
	}()
	standbysCreated := func() int {
		mu.Lock()
		defer mu.Unlock()
		return len(created)
	}
	// free is the pool's one unclaimed standby, once Available says so.
	free := func() *v1alpha1.Environment {
		GinkgoHelper()
		var out *v1alpha1.Environment
		Eventually(func(g Gomega) {
			p, err := r.cs.BerthV1alpha1().EnvironmentPools().Get(ctx, pool, metav1.GetOptions{})
			g.Expect(err).NotTo(HaveOccurred())
			g.Expect(p.Status.Available).To(Equal(int32(1)))
			list, err := envs.List(ctx, metav1.ListOptions{LabelSelector: labels.Set{v1alpha1.LabelPool: pool}.String()})
			g.Expect(err).NotTo(HaveOccurred())
			out = nil
			for i := range list.Items {
				if sb := list.Items[i].Spec.Standby; sb != nil && sb.ClaimRef == nil && list.Items[i].DeletionTimestamp == nil {
					g.Expect(out).To(BeNil(), "two unclaimed standbys")
					out = &list.Items[i]
				}
			}
			g.Expect(out).NotTo(BeNil())
		}).WithTimeout(3 * time.Minute).WithPolling(250 * time.Millisecond).Should(Succeed())
		return out
	}
	// on lists the containers of env as "<daemon> <managed-by> <state>".
	on := func(env string) []string {
		GinkgoHelper()
		return observePlacement(dockerc(), r.d.Client)[env]
	}

	By("the pool's standby goes to host-b, which has the most free budget")
	// Both empty, as their heartbeats say (what the placement reads).
	for _, host := range []string{"host-a", "host-b"} {
		Eventually(func() int64 { _, got := heartbeat(r.kube, host); return got }).
			WithTimeout(time.Minute).WithPolling(100*time.Millisecond).Should(BeZero(), "%s's heartbeat", host)
	}
	createPool(r.cs, M{"apiVersion": "berth.dev/v1alpha1", "kind": "EnvironmentPool", "metadata": M{"name": pool},
		"spec": M{"size": 1, "template": M{"services": []M{service("web")}}}})
	first := free()
	Expect(first.Status.Host).To(Equal("host-b"))
	Expect(on(first.Name)).To(Equal([]string{"second " + r.idB + " paused"}))

	By("an unpinned claimant goes to the host of the free standby, though the other has more room")
	createEnv(r.cs, withHost(environment(filler, sizedService("web", 2304)), "host-b"))
	r.b.waitReady(3*time.Minute, filler)
	// host-b: 3Gi − 16Mi − 2304Mi = 752Mi free; host-a: 1Gi.
	Eventually(func() int64 { _, got := heartbeat(r.kube, "host-b"); return got }).
		WithTimeout(time.Minute).WithPolling(100 * time.Millisecond).Should(Equal((2304 + 16) * mebi))
	createEnv(r.cs, M{"apiVersion": "berth.dev/v1alpha1", "kind": "Environment", "metadata": M{"name": claim},
		"spec": M{"poolRef": M{"name": pool}}})
	r.b.waitReady(3*time.Minute, claim)
	got := r.b.getEnv(claim)
	Expect(got.Status.Host).To(Equal("host-b"))
	Expect(got.Spec.PoolRef.Standby).To(Equal(first.Name), "the claimant took another standby or fell back")
	Expect(on(first.Name)).To(Equal([]string{"second " + r.idB + " running"}))
	Expect(on(claim)).To(BeEmpty(), "the claimant made containers of its own")

	By("the one refiller makes exactly one more standby, placed on host-a (now the most free)")
	second := free()
	Expect(second.Status.Host).To(Equal("host-a"))
	Expect(on(second.Name)).To(Equal([]string{"main " + r.idA + " paused"}))
	Consistently(standbysCreated).WithTimeout(3 * time.Second).WithPolling(250 * time.Millisecond).Should(Equal(2))

	By("a claimant pinned to host-b does not take host-a's standby: it falls back to the template there")
	createEnv(r.cs, M{"apiVersion": "berth.dev/v1alpha1", "kind": "Environment", "metadata": M{"name": pinned},
		"spec": M{"poolRef": M{"name": pool}, "host": "host-b"}})
	r.b.waitReady(3*time.Minute, pinned)
	got = r.b.getEnv(pinned)
	Expect(got.Status.Host).To(Equal("host-b"))
	Expect(got.Spec.PoolRef.Standby).To(BeEmpty(), "it bound a standby of another host")
	Expect(on(pinned)).To(Equal([]string{"second " + r.idB + " running"}))
	Expect(free().Name).To(Equal(second.Name))
	Expect(on(second.Name)).To(Equal([]string{"main " + r.idA + " paused"}))
	Expect(standbysCreated()).To(Equal(2))

	By("deleting the claimants, the filler and the pool leaves nothing on either daemon")
	for _, name := range []string{claim, pinned, filler} {
		Expect(envs.Delete(ctx, name, metav1.DeleteOptions{})).To(Succeed())
	}
	Expect(r.cs.BerthV1alpha1().EnvironmentPools().Delete(ctx, pool, metav1.DeleteOptions{})).To(Succeed())
	Eventually(func(g Gomega) {
		list, err := envs.List(ctx, metav1.ListOptions{})
		g.Expect(err).NotTo(HaveOccurred())
		var left []string
		for _, e := range list.Items {
			left = append(left, e.Name)
		}
		g.Expect(left).To(BeEmpty(), "Environments left")
		g.Expect(containersOn(r.d.Client)).To(BeEmpty(), "containers left on the second daemon")
		for _, c := range containersOn(dockerc()) {
			g.Expect(c.Labels[v1alpha1.LabelManagedBy]).NotTo(BeElementOf(r.idA, r.idB), "%v left on the main daemon", c.Names)
		}
	}).WithTimeout(3 * time.Minute).WithPolling(500 * time.Millisecond).Should(Succeed())
}

// createPool creates the EnvironmentPool document doc through the
// cluster's API (config/rbac's manager role may not).
func createPool(cs versioned.Interface, doc M) {
	GinkgoHelper()
	var p v1alpha1.EnvironmentPool
	Expect(yamlInto(render(doc), &p)).To(Succeed())
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	_, err := cs.BerthV1alpha1().EnvironmentPools().Create(ctx, &p, metav1.CreateOptions{})
	Expect(err).NotTo(HaveOccurred(), "create pool %s", p.Name)
}
