package e2e

import (
	"strings"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"berth.dev/berth/apis/v1alpha1"
)

// reaches reports whether container connects to addr (name:port), with
// testapp's own check (the image has no shell), and its answer.
func reaches(container, addr string) (bool, string) {
	out, err := dockerCLI("exec", container, "/testapp", "check", "--tcp", addr, "--timeout", "3s")
	return err == nil, strings.TrimSpace(out)
}

var _ = Describe("Several networks", Ordered, ContinueOnFailure, func() {
	var tmp string
	var envs []string
	BeforeAll(func() {
		ensureTestImage()
		tmp = GinkgoT().TempDir()
		DeferCleanup(func() { sweepLeftovers(envs) })
	})

	It("keeps a frontend/backend network split, answers aliases, repairs a disconnect, and tears every network down", func() {
		m := startControllerManager()
		name := uniqueName("nets")
		envs = append(envs, name)
		DeferCleanup(func() {
			if !m.exited() {
				_, _, _ = m.berth("", "delete", "environment", name, "--ignore-not-found", "--timeout=3m")
			}
		})
		db := service("db", "--http-port=8080")
		db["networks"] = []M{{"name": "back", "aliases": []string{"postgres"}}}
		frontend := service("frontend", "--http-port=8080")
		frontend["networks"] = []M{{"name": "front"}}
		// Probed on its address on back or front: it is on no default network.
		backend := withHTTPProbe(service("backend", "--http-port=8080"), 30)
		doc := environment(name, db, backend, frontend)
		doc["spec"].(M)["networks"] = []M{{"name": "front"}, {"name": "back"}}
		apply(m, tmp, name+".yaml", doc)
		m.waitReady(3*time.Minute, name)

		front, back := v1alpha1.SpecNetworkName(name, "front"), v1alpha1.SpecNetworkName(name, "back")
		Expect(envNetworks(name)).To(ConsistOf(front, back), "the default network is not created when spec.networks leaves it out")
		c := func(svc string) string { return v1alpha1.ContainerName(name, svc) }
		for _, tc := range []struct {
			from, to string
			want     bool
		}{
			{"backend", "db:8080", true},
			{"backend", "postgres:8080", true},
			{"frontend", "backend:8080", true},
			{"frontend", "db:8080", false},
			{"frontend", "postgres:8080", false},
		} {
			ok, out := reaches(c(tc.from), tc.to)
			Expect(ok).To(Equal(tc.want), "%s → %s: %s", tc.from, tc.to, out)
			if !tc.want {
				Expect(out).To(ContainSubstring("no such host"), "%s → %s", tc.from, tc.to)
			}
		}

		By("a container disconnected behind berth's back is connected again, from the informer's events")
		backendID := containerIDs(name, m.identity())["backend"]
		mustDocker("network", "disconnect", front, c("backend"))
		Eventually(func() bool {
			ok, _ := reaches(c("frontend"), "backend:8080")
			return ok
		}).WithTimeout(time.Minute).WithPolling(time.Second).Should(BeTrue())
		Expect(containerIDs(name, m.identity())["backend"]).To(Equal(backendID), "repaired, not recreated")

		By("delete removes every network after the containers")
		m.mustBerth("delete", "environment", name, "--timeout=2m")
		m.waitGone(time.Minute, name)
		expectNothingLeft(m, name)
	})
})
