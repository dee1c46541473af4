package e2e

import (
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"berth.dev/berth/apis/v1alpha1"
)

// Compose files in: `berth apply -f docker-compose.yml -f
// docker-compose.test.yml` converts the project with compose-go and applies
// it as one Environment.

// composeBase is a two-service project: web waits for db to be healthy,
// and db's compose healthcheck (Docker's own) is its only readiness signal.
const composeBase = `
services:
  db:
    image: berth-testapp:dev
    pull_policy: missing
    stop_grace_period: 1s
    ports: ["8080"]
    healthcheck:
      test: ["CMD", "/testapp", "check", "--http", "http://127.0.0.1:8080/healthz"]
      interval: 3s
      timeout: 2s
      retries: 1
  web:
    image: berth-testapp:dev
    pull_policy: missing
    stop_grace_period: 1s
    environment:
      TESTAPP_NAME: web
    depends_on:
      db:
        condition: service_healthy
`

// composeTest overlays composeBase, as a team's docker-compose.test.yml
// does: a variable and a memory limit for web.
const composeTest = `
services:
  web:
    environment:
      TESTAPP_NAME: ${WEB_NAME:-web-test}
      MODE: test
    mem_limit: 24m
`

// healthcheckInterval is db's interval above: Docker runs the first check
// that long after the container started.
const healthcheckInterval = 3 * time.Second

var _ = Describe("compose files", func() {
	var m *managerProcess
	BeforeEach(func() { m = startControllerManager() })

	It("applies a two-file project as one Environment: the healthcheck decides readiness, depends_on service_healthy the order, convert's output gives the same spec hashes", func() {
		dir := GinkgoT().TempDir()
		base := writeFile(dir, "docker-compose.yml", composeBase)
		test := writeFile(dir, "docker-compose.test.yml", composeTest)
		name := uniqueName("compose")
		DeferCleanup(func() { _, _, _ = m.berth("", "delete", "env", name, "--ignore-not-found", "--timeout=2m") })

		By("berth apply -f docker-compose.yml -f docker-compose.test.yml")
		out := m.mustBerth("apply", "-f", base, "-f", test, "--name", name)
		Expect(out).To(ContainSubstring("environment.berth.dev/" + name + " created"))
		m.waitReady(3*time.Minute, name)

		By("the overlay is merged and interpolated")
		id := m.identity()
		ids := containerIDs(name, id)
		Expect(ids).To(HaveKey("db"))
		Expect(ids).To(HaveKey("web"))
		web, db := mustInspect(ids["web"]), mustInspect(ids["db"])
		Expect(web.HostConfig.Memory).To(Equal(int64(24<<20)), "mem_limit of the test overlay")
		Expect(web.Config.Env).To(ContainElements("TESTAPP_NAME=web-test", "MODE=test"))

		By("web started only once db's healthcheck passed")
		Expect(db.State.Health).NotTo(BeNil(), "db runs the compose healthcheck")
		Expect(string(db.State.Health.Status)).To(Equal("healthy"))
		// Docker's first check runs an interval after the start, and db
		// is healthy no sooner: web cannot have started before that.
		Expect(dockerTime(web.State.StartedAt)).To(BeTemporally(">=",
			dockerTime(db.State.StartedAt).Add(healthcheckInterval-50*time.Millisecond)))

		By("db failing its healthcheck takes the Environment out of Ready, passing it again brings it back")
		st := serviceStatus(m.getEnv(name), "db")
		Expect(st.Ports).NotTo(BeEmpty(), "db publishes 8080 on a free port")
		hostPort := st.Ports[0].HostPort
		// testapp answers with its new health: 503 once failed, 200 once ok.
		post := func(path string, status int) {
			GinkgoHelper()
			resp, err := http.Post(fmt.Sprintf("http://127.0.0.1:%d%s", hostPort, path), "text/plain", nil)
			Expect(err).NotTo(HaveOccurred())
			resp.Body.Close()
			Expect(resp.StatusCode).To(Equal(status))
		}
		post("/healthz/fail", http.StatusServiceUnavailable)
		Eventually(func(g Gomega) {
			env := m.getEnv(name)
			g.Expect(serviceStatus(env, "db").Ready).To(BeFalse(), describeStatus(env))
			g.Expect(isReady(env)).To(BeFalse())
		}).WithTimeout(time.Minute).WithPolling(500 * time.Millisecond).Should(Succeed())
		post("/healthz/ok", http.StatusOK)
		m.waitReady(time.Minute, name)

		hashes := specHashes(name, id)
		Expect(hashes).To(HaveLen(2))

		By("berth convert prints what apply sent; applied after a delete -f, it gives the same spec hashes")
		converted := m.mustBerth("convert", "-f", base, "-f", test, "--name", name)
		Expect(converted).To(ContainSubstring("name: " + name))
		m.mustBerth("delete", "-f", base, "-f", test, "--name", name, "--timeout=2m")
		m.waitGone(2*time.Minute, name)
		expectNothingLeft(m, name)

		manifest := writeFile(dir, "converted.yaml", converted)
		m.mustBerth("apply", "-f", manifest)
		m.waitReady(3*time.Minute, name)
		Expect(specHashes(name, id)).To(Equal(hashes))
	})

	It("refuses a file with network_mode: host, naming the field, and stores nothing", func() {
		dir := GinkgoT().TempDir()
		bad := writeFile(dir, "docker-compose.yml", `
services:
  web:
    image: berth-testapp:dev
    network_mode: host
    tty: true
`)
		name := uniqueName("compose-host")
		_, errOut, err := m.berth("", "apply", "-f", bad, "--name", name)
		Expect(err).To(HaveOccurred())
		Expect(errOut).To(ContainSubstring("services.web.network_mode: not supported: an Environment never shares the host's or another container's network"))
		Expect(errOut).To(ContainSubstring("services.web.tty: not supported:"), "every refused field is listed, not just the first")

		out := m.mustBerth("get", "env", "-o", "name")
		Expect(out).NotTo(ContainSubstring(name))
		Expect(envContainers(name, "")).To(BeEmpty())
		_, err = os.Stat(filepath.Join(dir, "docker-compose.yml"))
		Expect(err).NotTo(HaveOccurred(), "the user's file is left as it was")
	})
})

// specHashes maps service → spec-hash label of env's containers.
func specHashes(env, id string) map[string]string {
	GinkgoHelper()
	out := map[string]string{}
	for svc, cid := range containerIDs(env, id) {
		h := mustInspect(cid).Config.Labels[v1alpha1.LabelSpecHash]
		Expect(strings.TrimSpace(h)).NotTo(BeEmpty(), "container of %s has no spec hash", svc)
		out[svc] = h
	}
	return out
}
