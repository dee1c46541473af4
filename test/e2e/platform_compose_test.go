package e2e

import (
	"net/http"
	"os/exec"
	"path/filepath"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"berth.dev/berth/apis/v1alpha1"
)

// The platform sample's compose files, applied as a team that already has
// them would: `berth apply -f docker-compose.yml -f
// docker-compose.test.yml`. The same stack as platform.yaml (a unit test
// in internal/cli keeps the two equal); here it runs, with the compose
// healthchecks deciding readiness and depends_on: service_healthy the
// order.

const healthyEvent = "health_status: healthy"

var _ = Describe("Platform sample from compose files", Ordered, func() {
	var envs []string
	BeforeAll(func() {
		ensurePlatformImages()
		DeferCleanup(func() { sweepLeftovers(envs) })
	})

	It("applies docker-compose.yml + docker-compose.test.yml: Ready on real Postgres and Redis, healthchecks gate the order, the seed's memory table, graceful delete", func() {
		dir := copySample()
		m := startManager(GinkgoT().TempDir(), "--allow-host-path", dir)
		name := uniqueName("platform-compose")
		envs = append(envs, name)
		files := []string{
			"-f", filepath.Join(dir, "docker-compose.yml"),
			"-f", filepath.Join(dir, "docker-compose.test.yml"),
			"--name", name,
		}
		DeferCleanup(func() {
			if !m.exited() {
				_, _, _ = m.berth("", "delete", "environment", name, "--ignore-not-found", "--timeout=5m")
			}
		})

		rec := recordEvents("type=container", "label="+v1alpha1.LabelEnvironment+"="+name)
		m.mustBerth(append([]string{"apply"}, files...)...)
		m.waitReady(10*time.Minute, name)

		ids := containerIDs(name, m.identity())
		Expect(ids).To(HaveLen(5))
		By("the backend answers a Postgres query through the frontend's published port; its /healthz is 200; Redis answers PING")
		Eventually(func(g Gomega) { platformServes(g, ids["frontend"], "first item, from the init SQL") }).
			WithTimeout(time.Minute).WithPolling(250 * time.Millisecond).Should(Succeed())
		code, body, err := platformGet(ids["frontend"], "/api/info")
		Expect(err).NotTo(HaveOccurred())
		Expect(code).To(Equal(http.StatusOK))
		Expect(body).To(ContainSubstring("hello from config/samples/platform/conf/platform.json"), "the bind-mounted conf/")
		// -healthcheck exits 0 only on a 200 from /healthz (a Postgres
		// query and a Redis PING); the image has no shell nor curl.
		mustDocker("exec", ids["backend"], "/backend", "-healthcheck")
		Expect(mustDocker("exec", ids["redis"], "redis-cli", "ping")).To(Equal("PONG"))
		Expect(mustDocker("exec", ids["postgres"], "psql", "-U", "platform", "-d", "platform", "-tAc",
			"SELECT value FROM platform_meta WHERE key = 'schema'")).To(Equal("1"), "the init SQL, from the compose configs entry")

		By("docker inspect shows the seed's memory limits and reservations, from deploy.resources")
		for svc, mem := range platformMemory {
			hc := mustInspect(ids[svc]).HostConfig
			Expect(hc.Memory).To(Equal(mem[0]), "%s memory limit", svc)
			Expect(hc.MemoryReservation).To(Equal(mem[1]), "%s memory reservation", svc)
		}
		By("the compose healthchecks are the containers' healthchecks")
		Expect(mustInspect(ids["postgres"]).Config.Healthcheck.Test).To(Equal(
			[]string{"CMD", "pg_isready", "--host=127.0.0.1", "--username=platform", "--dbname=platform"}))
		Expect(mustInspect(ids["redis"]).Config.Healthcheck.Test).To(Equal([]string{"CMD", "redis-cli", "ping"}))
		Expect(mustInspect(ids["backend"]).Config.Healthcheck.Test).To(Equal([]string{"CMD", "/backend", "-healthcheck"}))
		By("the tmpfs and the networks of the compose files")
		Expect(mustInspect(ids["postgres"]).HostConfig.Mounts).To(ContainElement(HaveField("Target", "/var/lib/postgresql/data")))
		Expect(mustInspect(ids["frontend"]).NetworkSettings.Networks).To(HaveLen(1))
		Expect(mustInspect(ids["backend"]).NetworkSettings.Networks).To(HaveLen(2))
		Expect(mustInspect(ids["postgres"]).NetworkSettings.Networks).To(HaveLen(1))

		By("depends_on: service_healthy: each service started only after its dependencies were healthy")
		msgs := rec.events()
		// platformDeps is docker-compose.yml's depends_on too, every one
		// with condition: service_healthy.
		for svc, deps := range platformDeps {
			starts := eventsOf(msgs, ids[svc], "start")
			Expect(starts).NotTo(BeEmpty(), "no start event for %s", svc)
			for _, dep := range deps {
				healthy := eventsOf(msgs, ids[dep], healthyEvent)
				Expect(healthy).NotTo(BeEmpty(), "%s never reported healthy", dep)
				Expect(eventTime(starts[0]).Before(eventTime(healthy[0]))).To(BeFalse(),
					"%s started at %s, before %s was healthy at %s", svc, eventTime(starts[0]), dep, eventTime(healthy[0]))
			}
		}
		for _, svc := range []string{"postgres", "redis", "auth", "backend", "frontend"} {
			Expect(mustInspect(ids[svc]).State.Health.Status).To(BeEquivalentTo("healthy"), "%s health once Ready", svc)
		}

		By("platform.yaml applied over it is the same Environment: no new generation, no container recreated")
		gen := m.getEnv(name).Generation
		m.mustBerth("apply", "-f", writeFile(dir, "platform-e2e.yaml", render(loadPlatform(dir, name))))
		Consistently(func(g Gomega) {
			env := m.getEnv(name)
			g.Expect(env.Generation).To(Equal(gen), "platform.yaml changed the spec the compose files made")
			g.Expect(isReady(env)).To(BeTrue(), describeStatus(env))
			g.Expect(containerIDs(name, m.identity())).To(Equal(ids))
		}).WithTimeout(5 * time.Second).WithPolling(500 * time.Millisecond).Should(Succeed())

		builtImages := map[string]string{}
		for _, svc := range []string{"backend", "auth", "frontend"} {
			builtImages[svc] = mustInspect(ids[svc]).Image
		}

		By("berth delete -f with the same files: reverse order, each by its own signal, nobody killed, nothing left")
		down := recordEvents("type=container", "label="+v1alpha1.LabelEnvironment+"="+name)
		m.mustBerth(append([]string{"delete", "--timeout=5m"}, files...)...)
		m.waitGone(5*time.Minute, name)
		expectNothingLeft(m, name)
		stops := down.events()
		for svc, sig := range platformStopSignal {
			for _, k := range eventsOf(stops, ids[svc], "kill") {
				Expect(k.Actor.Attributes["signal"]).To(Equal(sig), "%s was sent signal %s", svc, k.Actor.Attributes["signal"])
			}
			dies := eventsOf(stops, ids[svc], "die")
			Expect(dies).NotTo(BeEmpty(), "no die event for %s", svc)
			Expect(dies[0].Actor.Attributes["exitCode"]).To(Equal("0"), "%s exit code (137: killed after the grace period)", svc)
		}
		for svc, deps := range platformDeps {
			for _, dep := range deps {
				kills := eventsOf(stops, ids[dep], "kill")
				Expect(kills).NotTo(BeEmpty(), "no kill event for %s", dep)
				Expect(eventTime(eventsOf(stops, ids[svc], "die")[0]).After(eventTime(kills[0]))).To(BeFalse(),
					"%s was stopped before %s, which depends on it", dep, svc)
			}
		}
		Eventually(func(g Gomega) {
			for svc, img := range builtImages {
				g.Expect(exec.Command("docker", "image", "inspect", img).Run()).To(HaveOccurred(), "image of %s (%s) left", svc, img)
			}
		}).WithTimeout(2 * time.Minute).WithPolling(time.Second).Should(Succeed())
	})
})
