package e2e

import (
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"berth.dev/berth/apis/v1alpha1"
)

// Hosts on the embedded server: its only manager binds what is not
// pinned to its own --host, shows the binding in `get -o wide` and on
// /metrics, and leaves an Environment pinned to another host unconverged
// and Ready=Unknown, HostUnreachable. Several hosts on a cluster are
// internal/manager's TestPlacementAcrossHosts.
var _ = Describe("Hosts", func() {
	It("binds unpinned Environments to its own host and reports another host's as unreachable", func() {
		ensureTestImage()
		dataDir, dir := GinkgoT().TempDir(), GinkgoT().TempDir()
		m := startManager(dataDir, "--host", "e2e-host-1")
		base := uniqueName("hosts")
		here, there := base+"-here", base+"-there"
		DeferCleanup(func() {
			_, _, _ = m.berth("", "delete", "env", here, there, "--ignore-not-found")
		})
		pinned := environment(there, service("app"))
		pinned["spec"].(M)["host"] = "e2e-host-2"
		apply(m, dir, "here.yaml", environment(here, service("app")))
		apply(m, dir, "there.yaml", pinned)
		m.waitReady(2*time.Minute, here)
		Expect(m.getEnv(here).Status.Host).To(Equal("e2e-host-1"))
		Expect(m.mustBerth("get", "env", here, "-o", "wide")).To(MatchRegexp(`HOST[\s\S]*` + here + `\s.*\se2e-host-1\s*$`))

		By("the one pinned to another host is never converged here")
		Eventually(func(g Gomega) {
			env := m.getEnv(there)
			c := condition(env, v1alpha1.ConditionReady)
			g.Expect(c).NotTo(BeNil(), describeStatus(env))
			g.Expect(c.Status).To(Equal(metav1.ConditionUnknown))
			g.Expect(c.Reason).To(Equal(v1alpha1.ReasonHostUnreachable))
			g.Expect(c.Message).To(ContainSubstring("no manager serves host e2e-host-2"))
		}).WithTimeout(time.Minute).WithPolling(250 * time.Millisecond).Should(Succeed())
		Expect(envContainers(there, m.identity())).To(BeEmpty())
		Expect(m.mustBerth("get", "env", there, "-o", "wide")).To(ContainSubstring("<none>"))

		By("/metrics names the host and the manager")
		Expect(samples(m.metrics(), "berth_manager_info")).To(Equal(map[string]float64{
			"host=e2e-host-1,identity=" + m.identity(): 1,
		}))

		By("an editor may not move it: spec.host is create-only")
		pinned["spec"].(M)["host"] = "e2e-host-1"
		_, errOut, err := m.berth("", "apply", "-f", writeFile(dir, "moved.yaml", render(pinned)))
		Expect(err).To(HaveOccurred())
		Expect(errOut).To(ContainSubstring("spec.host"))
		Expect(errOut).To(ContainSubstring("after create"))

		By("both delete: the unbound one has nothing to tear down")
		m.mustBerth("delete", "env", here, there)
		m.waitGone(time.Minute, here, there)
		expectNothingLeft(m, here, there)
	})
})
