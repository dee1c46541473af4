package e2e

import (
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"berth.dev/berth/apis/v1alpha1"
)

// Admission: a manager with a 2Gi memory budget admits two Environments of
// 1Gi requests, queues the third with the numbers, and admits it once one
// of the first two is gone; one of 3Gi is refused at apply.
var _ = Describe("Admission", func() {
	It("admits what fits the memory budget, queues the rest and admits it when room frees", func() {
		ensureTestImage()
		dataDir, dir := GinkgoT().TempDir(), GinkgoT().TempDir()
		args := []string{"--default-memory-limit", "32Mi", "--default-memory-reservation", "16Mi", "--memory-budget", "2Gi"}
		m := startManager(dataDir, args...)
		// Docker is told a 1Gi reservation; testapp uses a few MiB of it.
		gig := func() M {
			s := service("app")
			s["resources"] = M{"limits": M{"memory": "1Gi"}, "requests": M{"memory": "1Gi"}}
			return s
		}
		base := uniqueName("admit")
		first, second, third := base+"-1", base+"-2", base+"-3"
		// After each manager start: cleanups run last first, so this
		// one runs while that manager still serves (a restarted
		// manager's stop would otherwise come first and leave the
		// containers behind).
		deleteAll := func() { _, _, _ = m.berth("", "delete", "env", first, second, third, "--ignore-not-found") }
		DeferCleanup(deleteAll)

		apply(m, dir, "first.yaml", environment(first, gig()))
		apply(m, dir, "second.yaml", environment(second, gig()))
		m.waitReady(2*time.Minute, first, second)
		apply(m, dir, "third.yaml", environment(third, gig()))

		By("the third waits in phase Queued with what it needs, what is free and its place")
		Eventually(func(g Gomega) {
			env := m.getEnv(third)
			c := condition(env, v1alpha1.ConditionAdmitted)
			g.Expect(env.Status.Phase).To(Equal(v1alpha1.PhaseQueued), describeStatus(env))
			g.Expect(c).NotTo(BeNil())
			g.Expect(c.Status).To(Equal(metav1.ConditionFalse))
			g.Expect(c.Reason).To(Equal("InsufficientMemory"))
			g.Expect(c.Message).To(Equal("needs 1Gi, free 0 of budget 2Gi, position 1 of 1"))
		}).WithTimeout(time.Minute).WithPolling(250 * time.Millisecond).Should(Succeed())
		// Queued means no Docker object: nothing was created for it.
		Consistently(func() []v1alpha1.ServiceStatus {
			return m.getEnv(third).Status.Services
		}).WithTimeout(3 * time.Second).WithPolling(500 * time.Millisecond).Should(BeEmpty())
		Expect(m.mustBerth("get", "env", third)).To(MatchRegexp(third + `\s+Queued\s+0/1`))
		Expect(m.mustBerth("get", "env", third, "-o", "wide")).To(ContainSubstring("InsufficientMemory: needs 1Gi, free 0 of budget 2Gi, position 1 of 1"))

		By("/metrics shows the budget, the admitted requests, the daemon's memory and the queue")
		Eventually(func(g Gomega) {
			fams := m.metrics()
			g.Expect(sum(samples(fams, "berth_memory_budget_bytes"))).To(BeEquivalentTo(2 << 30))
			g.Expect(sum(samples(fams, "berth_memory_admitted_bytes"))).To(BeEquivalentTo(2 << 30))
			g.Expect(sum(samples(fams, "berth_admission_queue_length"))).To(BeEquivalentTo(1))
			g.Expect(sum(samples(fams, "berth_memory_total_bytes"))).To(BeNumerically(">", 0))
			g.Expect(sum(samples(fams, "berth_memory_used_bytes"))).To(BeNumerically(">", 0))
		}).WithTimeout(30 * time.Second).WithPolling(time.Second).Should(Succeed())
		// The Engine page shows the same figures (sampled every few seconds).
		Eventually(func(g Gomega) {
			code, body, _ := dashGet(m, "/engine")
			g.Expect(code).To(Equal(200))
			g.Expect(body).To(And(ContainSubstring(`id="admission-budget">2 GiB`), ContainSubstring("(100% of the budget)"),
				ContainSubstring(`id="admission-queue">1 `)))
		}).WithTimeout(30 * time.Second).WithPolling(time.Second).Should(Succeed())

		By("a manager killed and started again keeps exactly these admissions")
		ids := map[string]string{}
		for _, n := range []string{first, second} {
			ids[n] = serviceStatus(m.getEnv(n), "app").ContainerID
		}
		m.kill()
		m = startManager(dataDir, args...)
		DeferCleanup(deleteAll)
		Consistently(func(g Gomega) {
			env := m.getEnv(third)
			g.Expect(env.Status.Phase).To(Equal(v1alpha1.PhaseQueued), describeStatus(env))
			g.Expect(env.Status.Services).To(BeEmpty())
		}).WithTimeout(5 * time.Second).WithPolling(500 * time.Millisecond).Should(Succeed())
		m.waitReady(time.Minute, first, second)
		for _, n := range []string{first, second} {
			Expect(serviceStatus(m.getEnv(n), "app").ContainerID).To(Equal(ids[n]), "%s's container was replaced", n)
		}

		By("deleting one admits the third")
		m.mustBerth("delete", "env", first)
		m.waitReady(2*time.Minute, third)
		c := condition(m.getEnv(third), v1alpha1.ConditionAdmitted)
		Expect(c.Status).To(Equal(metav1.ConditionTrue), "%+v", c)

		By("requests beyond the whole budget are refused at apply, with the numbers")
		big := service("app")
		big["resources"] = M{"limits": M{"memory": "3Gi"}, "requests": M{"memory": "3Gi"}}
		path := writeFile(dir, "huge.yaml", render(environment(base+"-huge", big)))
		_, errOut, err := m.berth("", "apply", "-f", path)
		Expect(err).To(HaveOccurred())
		Expect(errOut).To(And(ContainSubstring("spec.services[*].resources"), ContainSubstring("3Gi"), ContainSubstring("budget 2Gi")))
		_, _, err = m.berth("", "get", "env", base+"-huge")
		Expect(err).To(HaveOccurred(), "a refused Environment was stored")
	})

	It("admits nothing new while the daemon's memory use is above --memory-pressure", func() {
		ensureTestImage()
		dataDir, dir := GinkgoT().TempDir(), GinkgoT().TempDir()
		args := []string{"--default-memory-limit", "32Mi", "--default-memory-reservation", "16Mi"}
		// Any live host uses more than 0.5 % of its memory.
		m := startManager(dataDir, append(args, "--memory-pressure", "0.5%")...)
		name := uniqueName("pressure")
		deleteIt := func() { _, _, _ = m.berth("", "delete", "env", name, "--ignore-not-found") }
		DeferCleanup(deleteIt) // again after the restart below: cleanups run last first
		apply(m, dir, "env.yaml", environment(name, service("app")))
		Eventually(func(g Gomega) {
			env := m.getEnv(name)
			c := condition(env, v1alpha1.ConditionAdmitted)
			g.Expect(env.Status.Phase).To(Equal(v1alpha1.PhaseQueued), describeStatus(env))
			g.Expect(c).NotTo(BeNil())
			g.Expect(c.Reason).To(Equal("MemoryPressure"))
			g.Expect(c.Message).To(And(ContainSubstring("is above 0.5 % (--memory-pressure)"), ContainSubstring("position 1 of 1")))
		}).WithTimeout(time.Minute).WithPolling(250 * time.Millisecond).Should(Succeed())

		By("started again with the default threshold, the manager admits it")
		m.stop()
		m = startManager(dataDir, args...)
		DeferCleanup(deleteIt)
		m.waitReady(2*time.Minute, name)
	})
})
