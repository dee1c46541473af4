package e2e

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"time"

	"github.com/moby/moby/api/types/container"
	"github.com/moby/moby/api/types/events"
	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"

	"berth.dev/berth/apis/v1alpha1"
	"berth.dev/berth/internal/docker/faultproxy"
)

// The Environment controller against the real manager and the real Docker
// Engine. One ordered container, so that the decoys created first are
// checked after every other spec has run (ContinueOnFailure keeps one
// failing spec from hiding the rest). Each spec starts its own manager.
var _ = Describe("Environment controller", Ordered, ContinueOnFailure, func() {
	var (
		tmp         string
		d           *decoys
		decoyStarts map[string]string
		// Every Environment the specs create, for the final leftover check.
		allEnvs []string

		driftEnv = uniqueName("drift")
		wipeEnv  = uniqueName("wipe")
	)
	track := func(names ...string) []string {
		allEnvs = append(allEnvs, names...)
		return names
	}

	BeforeAll(func() {
		ensureTestImage()
		tmp = GinkgoT().TempDir()
		// Two of the foreign decoys claim Environments of this suite: the
		// one repaired from drift and deleted, and the one whose store is
		// wiped, so its orphans are collected.
		d = createDecoys(driftEnv, wipeEnv)
		DeferCleanup(d.cleanup)
		decoyStarts = d.startTimes()
		// Runs after the final spec has checked for leftovers: whatever a
		// failed spec left must not stay on a shared daemon (bridge networks
		// come from a small address pool).
		DeferCleanup(func() { sweepLeftovers(allEnvs) })
	})

	// deleteOnCleanup deletes the Environments when the spec ends, before
	// its manager is killed, so a failing spec leaves nothing running.
	deleteOnCleanup := func(m *managerProcess, names ...string) {
		DeferCleanup(func() {
			if m.exited() {
				return
			}
			args := append([]string{"delete", "environment"}, names...)
			_, _, _ = m.berth("", append(args, "--ignore-not-found", "--timeout=3m")...)
		})
	}

	It("converges the demo: migrate runs once, api starts after db is ready, get and describe show it", func() {
		m := startControllerManager()
		name := track(uniqueName("demo"))[0]
		src, err := os.ReadFile(filepath.Join("..", "..", "config", "samples", "demo.yaml"))
		Expect(err).NotTo(HaveOccurred())
		text := strings.Replace(string(src), "\n  name: demo\n", "\n  name: "+name+"\n", 1)
		Expect(text).To(ContainSubstring("name: " + name))
		file := writeFile(tmp, name+".yaml", text)
		starts := recordEvents("type=container", "event=start", "label="+v1alpha1.LabelEnvironment+"="+name)
		deleteOnCleanup(m, name)

		m.mustBerth("apply", "-f", file)
		m.mustBerth("wait", "--for=condition=Ready", "environment/"+name, "--timeout=3m")
		Expect(m.mustBerth("get", "env", name)).To(MatchRegexp(`(?m)^` + name + `\s+Ready\s+3/3\s`))

		env := m.getEnv(name)
		Expect(isReady(env)).To(BeTrue(), describeStatus(env))
		ids := containerIDs(name, m.identity())
		Expect(ids).To(HaveLen(3))
		Expect(containersNamed(v1alpha1.ContainerName(name, ""))).To(HaveLen(3))
		migrate, db, api := mustInspect(ids["migrate"]), mustInspect(ids["db"]), mustInspect(ids["api"])

		By("migrate ran exactly once, to completion")
		Expect(migrate.State.Status).To(Equal(container.StateExited))
		Expect(migrate.State.ExitCode).To(Equal(0))
		Expect(serviceStatus(env, "migrate").RestartCount).To(BeZero())
		Expect(serviceStatus(env, "migrate").Ready).To(BeTrue())

		By("api started only after migrate completed and db's port was open")
		dbReady := logLineTime(ids["db"], "testapp: ready")
		apiStarted := dockerTime(api.State.StartedAt)
		Expect(apiStarted).To(BeTemporally(">", dockerTime(db.State.StartedAt)))
		Expect(apiStarted).To(BeTemporally(">", dbReady), "api started before db listened on its port")
		Expect(apiStarted).To(BeTemporally(">", dockerTime(migrate.State.FinishedAt)), "api started before migrate completed")

		By("api answers on the host port in status")
		ports := serviceStatus(env, "api").Ports
		Expect(ports).To(HaveLen(1))
		Expect(ports[0].HostPort).NotTo(BeZero())
		resp, err := http.Get(fmt.Sprintf("http://127.0.0.1:%d/healthz", ports[0].HostPort))
		Expect(err).NotTo(HaveOccurred())
		_ = resp.Body.Close()
		Expect(resp.StatusCode).To(Equal(http.StatusOK))

		By("describe shows the services, conditions and events")
		out := m.mustBerth("describe", "env", name)
		Expect(out).To(MatchRegexp(`migrate\s+exited\s+true\s+0\s+` + ids["migrate"][:12]))
		Expect(out).To(MatchRegexp(`db\s+running\s+true\s+0\s+` + ids["db"][:12]))
		Expect(out).To(MatchRegexp(`api\s+running\s+true\s+0\s+` + ids["api"][:12] + `\s+127\.0\.0\.1:\d+->8080/tcp`))
		Expect(out).To(MatchRegexp(`Ready\s+True\s+AllServicesReady`))
		Expect(out).To(MatchRegexp(`Progressing\s+False\s+Converged`))
		Expect(out).To(MatchRegexp(`Degraded\s+False\s+Healthy`))
		for _, svc := range []string{"migrate", "db", "api"} {
			Expect(out).To(MatchRegexp(`Created\s+`+svc+`\s`), "no Created event for %s", svc)
			Expect(out).To(MatchRegexp(`Started\s+`+svc+`\s`), "no Started event for %s", svc)
		}

		By("migrate was still started only once")
		Expect(eventsOf(starts.events(), ids["migrate"], "start")).To(HaveLen(1))

		m.mustBerth("delete", "-f", file)
		m.waitGone(time.Minute, name)
		expectNothingLeft(m, name)
	})

	It("repairs drift: replaces a killed container and recreates one removed from outside", func() {
		m := startControllerManager()
		name := track(driftEnv)[0]
		deleteOnCleanup(m, name)
		apply(m, tmp, name+".yaml", environment(name,
			withHTTPProbe(service("web"), 10),
			service("worker", "--http-port=0"),
		))
		m.waitReady(2*time.Minute, name)
		ids := containerIDs(name, m.identity())
		Expect(ids).To(HaveLen(2))
		web := mustInspect(ids["web"])

		By("docker kill of web")
		mustDocker("kill", v1alpha1.ContainerName(name, "web"))
		Eventually(func(g Gomega) {
			c, ok := inspect(v1alpha1.ContainerName(name, "web"))
			g.Expect(ok).To(BeTrue())
			g.Expect(c.State.Running).To(BeTrue())
			g.Expect(c.ID != web.ID || c.State.StartedAt != web.State.StartedAt).To(BeTrue(), "web is not back yet")
			// The status must describe the repair, not the run before it.
			env := m.getEnv(name)
			g.Expect(isReady(env)).To(BeTrue(), describeStatus(env))
			g.Expect(serviceStatus(env, "web").ContainerID).To(Equal(c.ID))
			if c.ID == web.ID {
				g.Expect(serviceStatus(env, "web").RestartCount).To(BeNumerically(">=", 1), describeStatus(env))
				g.Expect(env.Status.Events).To(ContainElement(And(
					HaveField("Reason", "Restarted"), HaveField("Service", "web"),
					HaveField("Message", ContainSubstring("exit code 137")))))
			}
		}).WithTimeout(time.Minute).WithPolling(250 * time.Millisecond).Should(Succeed())
		Expect(mustInspect(ids["worker"]).State.StartedAt).To(Equal(mustInspect(v1alpha1.ContainerName(name, "worker")).State.StartedAt))

		By("stop and remove of worker from outside, without force")
		removeFromOutside(v1alpha1.ContainerName(name, "worker"))
		Eventually(func(g Gomega) {
			c, ok := inspect(v1alpha1.ContainerName(name, "worker"))
			g.Expect(ok).To(BeTrue(), "worker not recreated yet")
			g.Expect(c.ID).NotTo(Equal(ids["worker"]))
			g.Expect(c.State.Running).To(BeTrue())
			env := m.getEnv(name)
			g.Expect(isReady(env)).To(BeTrue(), describeStatus(env))
			g.Expect(serviceStatus(env, "worker").ContainerID).To(Equal(c.ID))
		}).WithTimeout(time.Minute).WithPolling(250 * time.Millisecond).Should(Succeed())
		final := containerIDs(name, m.identity())
		Expect(final).To(HaveLen(2))
		Expect(containersNamed(v1alpha1.ContainerName(name, ""))).To(HaveLen(2))

		m.mustBerth("delete", "env", name)
		expectNothingLeft(m, name)
	})

	It("recreates only the changed service, removes a dropped one gracefully and creates an added one", func() {
		m := startControllerManager()
		name := track(uniqueName("change"))[0]
		deleteOnCleanup(m, name)
		a := func() M { return withEnv(service("a", "--http-port=0"), "MODE", "one") }
		b := func(mode string) M { return withEnv(service("b", "--http-port=0"), "MODE", mode) }
		c := func() M { return withEnv(service("c", "--http-port=0"), "MODE", "one") }
		apply(m, tmp, name+".yaml", environment(name, a(), b("one"), c()))
		m.waitReady(2*time.Minute, name)
		ids := containerIDs(name, m.identity())
		Expect(ids).To(HaveLen(3))
		started := map[string]string{}
		for svc, id := range ids {
			started[svc] = mustInspect(id).State.StartedAt
		}

		By("changing b's environment variable")
		apply(m, tmp, name+".yaml", environment(name, a(), b("two"), c()))
		Expect(m.getEnv(name).Generation).To(Equal(int64(2)))
		m.waitReady(2*time.Minute, name)
		after := containerIDs(name, m.identity())
		Expect(after).To(HaveLen(3))
		Expect(after["b"]).NotTo(Equal(ids["b"]), "b was not recreated")
		Expect(mustInspect(after["b"]).Config.Env).To(ContainElement("MODE=two"))
		_, oldB := inspect(ids["b"])
		Expect(oldB).To(BeFalse(), "the old b container is still there")
		for _, svc := range []string{"a", "c"} {
			Expect(after[svc]).To(Equal(ids[svc]), "%s was recreated", svc)
			Expect(mustInspect(after[svc]).State.StartedAt).To(Equal(started[svc]), "%s was restarted", svc)
		}

		By("removing c from the spec")
		cEvents := recordEvents("type=container", "container="+ids["c"])
		apply(m, tmp, name+".yaml", environment(name, a(), b("two")))
		m.waitReady(2*time.Minute, name)
		Eventually(func() bool { _, ok := inspect(ids["c"]); return ok }).WithTimeout(time.Minute).Should(BeFalse())
		now := containerIDs(name, m.identity())
		Expect(now).To(Equal(map[string]string{"a": ids["a"], "b": after["b"]}))
		var evs []events.Message
		Eventually(func() []events.Message {
			evs = cEvents.events()
			return eventsOf(evs, ids["c"], "destroy")
		}).WithTimeout(10 * time.Second).Should(HaveLen(1))
		kills := eventsOf(evs, ids["c"], "kill")
		Expect(kills).NotTo(BeEmpty(), "c was not stopped before removal")
		Expect(kills[0].Actor.Attributes).To(HaveKeyWithValue("signal", "15"), "c's first signal was not SIGTERM")
		for _, k := range kills {
			Expect(k.Actor.Attributes["signal"]).NotTo(Equal("9"), "c was killed, not stopped")
		}
		dies := eventsOf(evs, ids["c"], "die")
		Expect(dies).To(HaveLen(1))
		Expect(dies[0].Actor.Attributes).To(HaveKeyWithValue("exitCode", "0"))
		Expect(eventsOf(evs, ids["c"], "destroy")).To(HaveLen(1))

		By("adding d")
		apply(m, tmp, name+".yaml", environment(name, a(), b("two"), withEnv(service("d", "--http-port=0"), "MODE", "one")))
		m.waitReady(2*time.Minute, name)
		final := containerIDs(name, m.identity())
		Expect(final).To(HaveLen(3))
		Expect(final["a"]).To(Equal(ids["a"]))
		Expect(final["b"]).To(Equal(after["b"]))
		Expect(mustInspect(final["d"]).State.Running).To(BeTrue())
		Expect(m.getEnv(name).Status.Ready).To(Equal("3/3"))

		m.mustBerth("delete", "env", name)
		expectNothingLeft(m, name)
	})

	It("reports ProbeFailing for a probe that never passes and CrashLoopBackOff with growing restart delays", func() {
		m := startControllerManager()
		probeEnv, crashEnv := uniqueName("probe"), uniqueName("crash")
		track(probeEnv, crashEnv)
		deleteOnCleanup(m, probeEnv, crashEnv)
		crash := service("crash", "--http-port=0", "--exit-after=300ms", "--exit-code=1")
		crash["restartPolicy"] = "Always"
		crashStarts := recordEvents("type=container", "event=start",
			"label="+v1alpha1.LabelEnvironment+"="+crashEnv, "label="+v1alpha1.LabelService+"=crash")
		apply(m, tmp, probeEnv+".yaml",
			environment(probeEnv,
				withHTTPProbe(service("ok"), 10),
				withHTTPProbe(service("bad", "--healthy=false"), 3),
			),
			environment(crashEnv, crash, service("steady", "--http-port=0")),
		)

		By("the probe that never passes")
		probeFailing := func(g Gomega) {
			env := m.getEnv(probeEnv)
			g.Expect(env.Status.ObservedGeneration).To(Equal(env.Generation))
			ready := condition(env, v1alpha1.ConditionReady)
			g.Expect(ready).NotTo(BeNil())
			g.Expect(ready.Status).To(Equal(metav1.ConditionFalse), describeStatus(env))
			g.Expect(ready.Reason).To(Equal("ProbeFailing"), describeStatus(env))
			g.Expect(ready.Message).To(ContainSubstring("bad"))
			g.Expect(env.Status.Ready).To(Equal("1/2"))
			ok, bad := serviceStatus(env, "ok"), serviceStatus(env, "bad")
			g.Expect(ok.Ready).To(BeTrue())
			g.Expect(ok.State).To(Equal("running"))
			g.Expect(bad.Ready).To(BeFalse())
			g.Expect(bad.State).To(Equal("running"))
		}
		Eventually(probeFailing).WithTimeout(time.Minute).WithPolling(250 * time.Millisecond).Should(Succeed())
		okID := containerIDs(probeEnv, m.identity())["ok"]
		Consistently(probeFailing).WithTimeout(3 * time.Second).WithPolling(500 * time.Millisecond).Should(Succeed())
		Expect(containerIDs(probeEnv, m.identity())["ok"]).To(Equal(okID))

		By("the crash loop")
		Eventually(func(g Gomega) {
			env := m.getEnv(crashEnv)
			ready, degraded := condition(env, v1alpha1.ConditionReady), condition(env, v1alpha1.ConditionDegraded)
			g.Expect(ready).NotTo(BeNil())
			g.Expect(degraded).NotTo(BeNil())
			g.Expect(ready.Status).To(Equal(metav1.ConditionFalse), describeStatus(env))
			g.Expect(ready.Reason).To(Equal("CrashLoopBackOff"), describeStatus(env))
			g.Expect(degraded.Status).To(Equal(metav1.ConditionTrue), describeStatus(env))
			g.Expect(degraded.Reason).To(Equal("CrashLoopBackOff"), describeStatus(env))
			g.Expect(env.Status.Phase).To(Equal(v1alpha1.PhaseDegraded))
			g.Expect(serviceStatus(env, "steady").Ready).To(BeTrue())
		}).WithTimeout(time.Minute).WithPolling(250 * time.Millisecond).Should(Succeed())

		// Four starts: the first, an immediate restart, then 10 s and 20 s
		// of back-off (kubelet's curve). Counted from Docker's own events,
		// whichever containers berth used.
		var starts []events.Message
		Eventually(func() []events.Message {
			starts = crashStarts.events()
			return starts
		}).WithTimeout(2*time.Minute).WithPolling(time.Second).Should(HaveLen(4), "expected 4 starts within ~35s")
		var gaps []time.Duration
		for i := 1; i < len(starts); i++ {
			gaps = append(gaps, eventTime(starts[i]).Sub(eventTime(starts[i-1])))
		}
		GinkgoWriter.Printf("crash loop: gaps between starts %v\n", gaps)
		Expect(gaps[1]).To(BeNumerically(">=", 10*time.Second), "second restart came before the 10s back-off")
		Expect(gaps[2]).To(BeNumerically(">=", 20*time.Second), "third restart came before the 20s back-off")
		Expect(gaps[1]).To(BeNumerically(">", gaps[0]))
		Expect(gaps[2]).To(BeNumerically(">", gaps[1]))
		Eventually(func() int32 {
			return serviceStatus(m.getEnv(crashEnv), "crash").RestartCount
		}).WithTimeout(10 * time.Second).Should(BeNumerically(">=", 3))
		// Polled: in the moment a restarted container runs, a service
		// without a probe counts as ready and the condition flips back.
		Eventually(func() string { return m.mustBerth("describe", "env", crashEnv) }).
			WithTimeout(30 * time.Second).WithPolling(time.Second).Should(MatchRegexp(`Ready\s+False\s+CrashLoopBackOff`))

		m.mustBerth("delete", "env", probeEnv, crashEnv)
		expectNothingLeft(m, probeEnv, crashEnv)
	})

	It("tears down in reverse dependency order, waits out the grace period and never forces", func() {
		p := startProxy()
		m := startControllerManager("--docker-host", p.Host())
		name := track(uniqueName("down"))[0]
		deleteOnCleanup(m, name)
		db := service("db", "--http-port=0")
		db["volumeMounts"] = []M{{"name": "data", "mountPath": "/data"}}
		stubborn := withDeps(service("stubborn", "--http-port=0", "--ignore-sigterm"), "db")
		stubborn["terminationGracePeriodSeconds"] = 8
		envDoc := environment(name,
			db,
			withDeps(service("app", "--http-port=0"), "db"),
			withDeps(service("front", "--http-port=0"), "app"),
			stubborn,
		)
		envDoc["spec"].(M)["volumes"] = []M{{"name": "data"}}
		apply(m, tmp, name+".yaml", envDoc)
		m.waitReady(2*time.Minute, name)
		ids := containerIDs(name, m.identity())
		Expect(ids).To(HaveLen(4))
		netID := networkID(v1alpha1.NetworkName(name))

		cRec := recordEvents("type=container", "label="+v1alpha1.LabelEnvironment+"="+name)
		objRec := recordEvents("type=network", "type=volume", "event=destroy")
		start := time.Now()
		m.mustBerth("delete", "env", name, "--wait=false")
		By("the Environment reads Terminating while the grace period runs")
		Eventually(func(g Gomega) {
			env := m.getEnv(name)
			g.Expect(env.Status.Phase).To(Equal(v1alpha1.PhaseTerminating))
			g.Expect(condition(env, v1alpha1.ConditionReady).Reason).To(Equal("TearingDown"))
		}).WithTimeout(30 * time.Second).WithPolling(100 * time.Millisecond).Should(Succeed())
		m.waitGone(2*time.Minute, name)
		took := time.Since(start)
		expectNothingLeft(m, name)
		Expect(took).To(BeNumerically(">=", 8*time.Second), "teardown did not wait for stubborn's grace period")

		var evs []events.Message
		Eventually(func() int {
			evs = cRec.events()
			n := 0
			for _, cid := range ids {
				n += len(eventsOf(evs, cid, "destroy"))
			}
			return n
		}).WithTimeout(10 * time.Second).Should(Equal(len(ids)))
		first := func(svc, action string) time.Time {
			GinkgoHelper()
			es := eventsOf(evs, ids[svc], action)
			Expect(es).NotTo(BeEmpty(), "no %s event for %s", action, svc)
			return eventTime(es[0])
		}
		By("dependents were removed before what they depend on was stopped")
		Expect(first("front", "destroy")).To(BeTemporally("<", first("app", "kill")))
		Expect(first("app", "destroy")).To(BeTemporally("<", first("db", "kill")))
		Expect(first("stubborn", "destroy")).To(BeTemporally("<", first("db", "kill")))
		Expect(first("front", "die")).To(BeTemporally("<", first("app", "die")))
		Expect(first("app", "die")).To(BeTemporally("<", first("db", "die")))
		Expect(first("stubborn", "die")).To(BeTemporally("<", first("db", "die")))

		By("stubborn ignored SIGTERM and got its 8 s before Docker's kill")
		kills := eventsOf(evs, ids["stubborn"], "kill")
		Expect(kills).NotTo(BeEmpty())
		Expect(kills[0].Actor.Attributes).To(HaveKeyWithValue("signal", "15"))
		died := eventsOf(evs, ids["stubborn"], "die")
		Expect(died).To(HaveLen(1))
		Expect(died[0].Actor.Attributes).To(HaveKeyWithValue("exitCode", "137"))
		Expect(eventTime(died[0]).Sub(eventTime(kills[0]))).To(BeNumerically(">=", 8*time.Second))
		for _, svc := range []string{"db", "app", "front"} {
			dies := eventsOf(evs, ids[svc], "die")
			Expect(dies).To(HaveLen(1))
			Expect(dies[0].Actor.Attributes).To(HaveKeyWithValue("exitCode", "0"), "%s did not stop on SIGTERM", svc)
		}

		By("the network and the volume went after the containers")
		var netEvs, volEvs []events.Message
		Eventually(func(g Gomega) {
			objs := objRec.events()
			netEvs, volEvs = eventsOf(objs, netID, "destroy"), eventsOf(objs, v1alpha1.VolumeName(name, "data"), "destroy")
			g.Expect(netEvs).To(HaveLen(1))
			g.Expect(volEvs).To(HaveLen(1))
		}).WithTimeout(10 * time.Second).Should(Succeed())
		for svc := range ids {
			Expect(first(svc, "destroy")).To(BeTemporally("<", eventTime(netEvs[0])))
			Expect(first(svc, "destroy")).To(BeTemporally("<", eventTime(volEvs[0])))
		}

		By("every container was stopped with its grace period, then removed without force")
		rec := p.Requests()
		Expect(forcedRemovals(rec)).To(BeEmpty())
		for svc, id := range ids {
			stops := requestsFor(rec, "POST", id, "/stop")
			dels := requestsFor(rec, "DELETE", id, "")
			Expect(stops).NotTo(BeEmpty(), "%s was not stopped", svc)
			Expect(dels).NotTo(BeEmpty(), "%s was not removed", svc)
			Expect(stops[0].Start).To(BeTemporally("<", dels[0].Start))
			grace := "t=1"
			if svc == "stubborn" {
				grace = "t=8"
			}
			Expect(stops[0].URI).To(ContainSubstring(grace), "%s stopped with the wrong grace period", svc)
		}
	})

	It("survives kill -9 in the middle of converging 5 Environments", func() {
		dataDir := GinkgoT().TempDir()
		args := []string{"--default-memory-limit", "32Mi", "--default-memory-reservation", "16Mi"}
		m := startManager(dataDir, args...)
		id := m.identity()
		var names []string
		var docs []M
		for range 5 {
			name := uniqueName("k9")
			names = append(names, name)
			docs = append(docs, environment(name,
				withHTTPProbe(service("s1"), 30),
				withDeps(service("s2", "--http-port=0"), "s1:Ready"),
				withDeps(service("s3", "--http-port=0"), "s2"),
			))
		}
		track(names...)
		deleteOnCleanup(m, names...)
		file := apply(m, tmp, "kill9.yaml", docs...)

		// Kill once some containers exist but not all of them run.
		var running, existing int
		Eventually(func() int {
			running, existing = 0, 0
			for _, c := range containersLabelled(v1alpha1.LabelManagedBy + "=" + id) {
				existing++
				if c.State == container.StateRunning {
					running++
				}
			}
			return existing
		}).WithTimeout(2 * time.Minute).WithPolling(100 * time.Millisecond).Should(BeNumerically(">=", 3))
		m.kill()
		GinkgoWriter.Printf("killed the manager with %d containers created, %d running\n", existing, running)
		Expect(running).To(BeNumerically("<", 15), "everything was already running: not the middle of converging")

		m2 := startManager(dataDir, args...)
		Expect(m2.identity()).To(Equal(id))
		deleteOnCleanup(m2, names...)
		m2.waitReady(3*time.Minute, names...)
		for _, name := range names {
			ids := containerIDs(name, id)
			Expect(ids).To(HaveLen(3), "%s", name)
			Expect(containersNamed(v1alpha1.ContainerName(name, ""))).To(HaveLen(3), "duplicates of %s", name)
			for svc, cid := range ids {
				Expect(mustInspect(cid).State.Running).To(BeTrue(), "%s/%s", name, svc)
			}
		}
		Expect(containersLabelled(v1alpha1.LabelManagedBy + "=" + id)).To(HaveLen(15))

		m2.mustBerth("delete", "-f", file)
		expectNothingLeft(m2, names...)
		Expect(containersLabelled(v1alpha1.LabelManagedBy + "=" + id)).To(BeEmpty())
	})

	It("collects what a wiped store left behind at the next start, except volumes kept on purpose", func() {
		dataDir := GinkgoT().TempDir()
		args := []string{"--default-memory-limit", "32Mi", "--default-memory-reservation", "16Mi"}
		m := startManager(dataDir, args...)
		id := m.identity()
		keepEnv := uniqueName("keep")
		track(wipeEnv, keepEnv)
		web := withHTTPProbe(service("web"), 10)
		web["volumeMounts"] = []M{{"name": "data", "mountPath": "/data"}}
		wiped := environment(wipeEnv, web, service("worker", "--http-port=0"))
		wiped["spec"].(M)["volumes"] = []M{{"name": "data"}}
		keeper := service("web", "--http-port=0")
		keeper["volumeMounts"] = []M{{"name": "data", "mountPath": "/data"}}
		kept := environment(keepEnv, keeper)
		kept["spec"].(M)["volumes"] = []M{{"name": "data"}}
		kept["spec"].(M)["teardown"] = M{"retainVolumes": true}
		apply(m, tmp, wipeEnv+".yaml", wiped, kept)
		m.waitReady(2*time.Minute, wipeEnv, keepEnv)
		ids := containerIDs(wipeEnv, id)
		Expect(ids).To(HaveLen(2))
		keptID := containerIDs(keepEnv, id)["web"]
		Expect(networkExists(v1alpha1.NetworkName(wipeEnv))).To(BeTrue())
		Expect(envVolumes(wipeEnv)).To(ConsistOf(v1alpha1.VolumeName(wipeEnv, "data")))
		keptVolume := v1alpha1.VolumeName(keepEnv, "data")
		Expect(envVolumes(keepEnv)).To(ConsistOf(keptVolume))

		m.stop()
		Expect(os.RemoveAll(filepath.Join(dataDir, "etcd"))).To(Succeed())
		rec := recordEvents("type=container", "label="+v1alpha1.LabelManagedBy+"="+id)
		m2 := startManager(dataDir, args...)
		Expect(m2.identity()).To(Equal(id), "the identity file must survive the wipe")
		list, err := m2.clientset().BerthV1alpha1().Environments().List(context.Background(), metav1.ListOptions{})
		Expect(err).NotTo(HaveOccurred())
		Expect(list.Items).To(BeEmpty())

		Eventually(func(g Gomega) {
			for _, env := range []string{wipeEnv, keepEnv} {
				g.Expect(envContainers(env, id)).To(BeEmpty())
				g.Expect(networkExists(v1alpha1.NetworkName(env))).To(BeFalse())
			}
			g.Expect(envVolumes(wipeEnv)).To(BeEmpty())
		}).WithTimeout(2*time.Minute).WithPolling(500*time.Millisecond).Should(Succeed(), m2.tail())
		ids["kept"] = keptID
		var evs []events.Message
		Eventually(func() int {
			evs = rec.events()
			n := 0
			for _, cid := range ids {
				n += len(eventsOf(evs, cid, "destroy"))
			}
			return n
		}).WithTimeout(10 * time.Second).Should(Equal(len(ids)))
		for svc, cid := range ids {
			kills := eventsOf(evs, cid, "kill")
			Expect(kills).NotTo(BeEmpty(), "%s was removed without a stop", svc)
			Expect(kills[0].Actor.Attributes).To(HaveKeyWithValue("signal", "15"))
			Expect(eventsOf(evs, cid, "destroy")).To(HaveLen(1))
		}

		// A volume created under teardown.retainVolumes is labelled so:
		// it was meant to outlive its Environment, and Docker cannot tell
		// it from a crash's leftover otherwise. The collector leaves it.
		Consistently(func() []string { return envVolumes(keepEnv) }).WithTimeout(2 * time.Second).Should(ConsistOf(keptVolume))
		Expect(mustDocker("volume", "inspect", "--format", `{{index .Labels "`+v1alpha1.LabelRetain+`"}}`, keptVolume)).To(Equal("true"))
		mustDocker("volume", "rm", keptVolume)
	})

	It("survives a stress of 50 containers: apply, change and delete 10 Environments of 5 services", func() {
		runStress(tmp, track)
	})

	It("makes no Docker call on a no-op resync of 20 Ready Environments, nor on a reconcile of a Ready one", func() {
		p := startProxy()
		dataDir := GinkgoT().TempDir()
		args := []string{"--docker-host", p.Host(), "--default-memory-limit", "32Mi", "--default-memory-reservation", "16Mi"}
		m := startManager(dataDir, append(args, "--resync", "5s")...)
		var names []string
		var docs []M
		for range 20 {
			names = append(names, uniqueName("idle"))
		}
		deleteOnCleanup(m, names...)
		for i, name := range names {
			web := service("web")
			if i%2 == 0 {
				web = withHTTPProbe(web, 10)
			}
			docs = append(docs, environment(name, web))
		}
		track(names...)
		file := apply(m, tmp, "idle.yaml", docs...)
		m.waitReady(3*time.Minute, names...)
		ours := map[string]bool{}
		for _, name := range names {
			ours[networkID(v1alpha1.NetworkName(name))] = true
			ours[v1alpha1.NetworkName(name)] = true
		}
		ids := map[string]string{}
		for _, name := range names {
			ids[name] = containerIDs(name, m.identity())["web"]
		}

		By("20 Ready Environments, two resyncs of 5 s")
		quiet(m, 3*time.Second)
		calls0, recs0, t0 := dockerCalls(m), reconciles(m), time.Now()
		time.Sleep(11 * time.Second)
		calls1, recs1, t1 := dockerCalls(m), reconciles(m), time.Now()
		GinkgoWriter.Printf("resync: %v reconciles in %s\n", recs1-recs0, t1.Sub(t0).Round(time.Millisecond))
		Expect(recs1-recs0).To(BeNumerically(">=", 40), "two resyncs should have reconciled all 20 Environments twice")
		expectNoCallsFor(calls0, calls1, p.Requests(), t0, t1, ours)

		By("a reconcile of a Ready Environment, triggered by a label change")
		// A manager without the short resync, so the reconcile counted is
		// the one the patch caused. It adopts what runs: nothing is
		// recreated.
		m.stop()
		m = startManager(dataDir, args...)
		deleteOnCleanup(m, names...)
		m.waitReady(3*time.Minute, names...)
		for _, name := range names {
			Expect(containerIDs(name, m.identity())["web"]).To(Equal(ids[name]), "%s was recreated by the restart", name)
		}
		quiet(m, 3*time.Second)
		calls0, recs0, t0 = dockerCalls(m), reconciles(m), time.Now()
		patch := []byte(`{"metadata":{"labels":{"e2e.berth.dev/touched":"yes"}}}`)
		_, err := m.clientset().BerthV1alpha1().Environments().Patch(context.Background(), names[0], types.MergePatchType, patch, metav1.PatchOptions{})
		Expect(err).NotTo(HaveOccurred())
		Eventually(func() float64 { return reconciles(m) }).WithTimeout(30 * time.Second).Should(BeNumerically(">", recs0))
		time.Sleep(time.Second)
		calls1, t1 = dockerCalls(m), time.Now()
		expectNoCallsFor(calls0, calls1, p.Requests(), t0, t1, ours)
		Expect(isReady(m.getEnv(names[0]))).To(BeTrue())

		m.mustBerth("delete", "-f", file)
		expectNothingLeft(m, names...)
	})

	It("never touched the decoys and left nothing behind", func() {
		d.expectUntouched(decoyStarts)
		decoyIDs := map[string]bool{}
		for _, n := range d.foreign {
			decoyIDs[mustInspect(n).ID] = true
		}
		for _, name := range allEnvs {
			var left []string
			for _, c := range envContainers(name, "") {
				if !decoyIDs[c.ID] {
					left = append(left, c.Names...)
				}
			}
			Expect(left).To(BeEmpty(), "containers of %s left", name)
			net := v1alpha1.NetworkName(name)
			_, kept := daemonKept.Load(net)
			Expect(networkExists(net) && !kept).To(BeFalse(), "network of %s left", name)
		}
	})
})

// dockerCalls reads berth_docker_calls_total by operation and result.
func dockerCalls(m *managerProcess) map[string]float64 {
	GinkgoHelper()
	return samples(m.metrics(), "berth_docker_calls_total")
}

func reconciles(m *managerProcess) float64 {
	GinkgoHelper()
	return sum(samples(m.metrics(), "berth_reconcile_total"))
}

// quiet waits until the manager makes no Docker call for period: the last
// reconciles after convergence (settle re-checks) are over. Network and
// volume inspects are left out: others' activity on the shared daemon
// causes them (see expectNoCallsFor).
func quiet(m *managerProcess, period time.Duration) {
	GinkgoHelper()
	own := func() float64 {
		t := 0.0
		for k, v := range dockerCalls(m) {
			if !strings.HasPrefix(k, "operation=network_inspect,") && !strings.HasPrefix(k, "operation=volume_inspect,") {
				t += v
			}
		}
		return t
	}
	Eventually(func() bool {
		before := own()
		time.Sleep(period)
		return own() == before
	}).WithTimeout(time.Minute).Should(BeTrue(), "berth keeps calling Docker with nothing to do: %v", dockerCalls(m))
}

var inspectPath = regexp.MustCompile(`^(?:/v[0-9.]+)?/(networks|volumes)/([^/?]+)$`)

// expectNoCallsFor asserts that berth made no Docker call between two
// counter readings. The only calls tolerated are the informer's inspect of
// a network or volume someone else created meanwhile (Docker's events for
// those carry no labels, and this daemon is shared): the proxy's record
// shows which object each inspect was about, and none may be ours.
func expectNoCallsFor(before, after map[string]float64, rec []faultproxy.Request, t0, t1 time.Time, ours map[string]bool) {
	GinkgoHelper()
	delta := map[string]float64{}
	for k, v := range after {
		if d := v - before[k]; d != 0 {
			delta[k] = d
		}
	}
	GinkgoWriter.Printf("Docker calls between %s and %s: %v\n", t0.Format(time.TimeOnly), t1.Format(time.TimeOnly), delta)
	if len(delta) == 0 {
		return
	}
	for k := range delta {
		Expect(k).To(Or(HavePrefix("operation=network_inspect,"), HavePrefix("operation=volume_inspect,")),
			"Docker calls while nothing changed: %v", delta)
	}
	for _, r := range rec {
		if r.Start.Before(t0) || r.Start.After(t1) || r.Stream {
			continue
		}
		path, _, _ := strings.Cut(r.URI, "?")
		match := inspectPath.FindStringSubmatch(path)
		Expect(match).NotTo(BeNil(), "Docker call while nothing changed: %s %s", r.Method, r.URI)
		Expect(r.Method).To(Equal("GET"))
		Expect(ours).NotTo(HaveKey(match[2]), "berth inspected its own %s while nothing changed", match[1])
	}
}
