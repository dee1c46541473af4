package e2e

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"berth.dev/berth/apis/v1alpha1"
)

// getEnvJSON reads the Environment the way a user does: berth get -o json.
func (m *managerProcess) getEnvJSON(name string) *v1alpha1.Environment {
	GinkgoHelper()
	var env v1alpha1.Environment
	Expect(json.Unmarshal([]byte(m.mustBerth("get", "env", name, "-o", "json")), &env)).To(Succeed())
	return &env
}

// replicaContainers maps replica label → container ID for one service.
func replicaContainers(env, id, svc string) map[string]string {
	GinkgoHelper()
	out := map[string]string{}
	for _, c := range envContainers(env, id) {
		if c.Labels[v1alpha1.LabelService] == svc {
			out[c.Labels[v1alpha1.LabelReplica]] = c.ID
		}
	}
	return out
}

var _ = Describe("Replicas", Ordered, func() {
	It("runs N containers behind the service name, repairs one, scales down gracefully and tears down", func() {
		dir := GinkgoT().TempDir()
		m := startControllerManager("--allow-host-path", dir)
		DeferCleanup(m.stop)

		// The client is a FROM scratch image of controllers/testdata/lookup
		// (testapp has no DNS lookup), built by berth itself.
		clientCtx := filepath.Join(dir, "client")
		Expect(os.MkdirAll(clientCtx, 0o755)).To(Succeed())
		build := exec.Command("go", "build", "-o", filepath.Join(clientCtx, "lookup"), "./controllers/testdata/lookup")
		build.Dir = filepath.Join("..", "..")
		build.Env = append(os.Environ(), "CGO_ENABLED=0")
		out, err := build.CombinedOutput()
		Expect(err).NotTo(HaveOccurred(), "go build lookup: %s", out)
		writeFile(clientCtx, "Dockerfile", "FROM scratch\nCOPY lookup /lookup\nENTRYPOINT [\"/lookup\"]\n")

		name := uniqueName("reps")
		DeferCleanup(func() { _, _, _ = m.berth("", "delete", "environment", name, "--ignore-not-found", "--timeout=3m") })
		web := func(n int) M {
			s := withHTTPProbe(service("web", "--http-port=8080"), 60)
			s["replicas"] = n
			return s
		}
		client := M{"name": "client", "build": M{"context": "./client"}, "terminationGracePeriodSeconds": 1}
		apply(m, dir, "env.yaml", environment(name, web(3), client))
		m.waitReady(4*time.Minute, name)

		st := serviceStatus(m.getEnvJSON(name), "web")
		Expect(st).NotTo(BeNil())
		Expect(st.Replicas).To(Equal(int32(3)))
		Expect(st.ReadyReplicas).To(Equal(int32(3)))

		reps := replicaContainers(name, m.identity(), "web")
		Expect(reps).To(HaveLen(3))
		Expect(reps).To(HaveKey("0"))
		Expect(reps).To(HaveKey("1"))
		Expect(reps).To(HaveKey("2"))
		for i := 0; i < 3; i++ {
			Expect(mustInspect(v1alpha1.ReplicaContainerName(name, "web", i)).Config.Labels).To(HaveKeyWithValue(v1alpha1.LabelReplica, string(rune('0'+i))))
		}

		By("the service name resolves to the three replicas from the client")
		clientC := v1alpha1.ContainerName(name, "client")
		Eventually(func(g Gomega) {
			out, err := dockerCLI("exec", clientC, "/lookup", "web")
			g.Expect(err).NotTo(HaveOccurred(), out)
			seen := map[string]bool{}
			for _, l := range strings.Fields(out) {
				seen[l] = true
			}
			g.Expect(seen).To(HaveLen(3), out)
		}).WithTimeout(30 * time.Second).WithPolling(time.Second).Should(Succeed())

		By("kill -9 of replica 1 brings it back, and only it")
		started := map[int]string{}
		for i := 0; i < 3; i++ {
			started[i] = mustInspect(v1alpha1.ReplicaContainerName(name, "web", i)).State.StartedAt
		}
		r1 := v1alpha1.ReplicaContainerName(name, "web", 1)
		mustDocker("kill", "-s", "KILL", r1)
		Eventually(func(g Gomega) {
			ct, ok := inspect(r1)
			g.Expect(ok).To(BeTrue())
			g.Expect(ct.State.Running).To(BeTrue())
			g.Expect(ct.State.StartedAt).NotTo(Equal(started[1]))
		}).WithTimeout(2 * time.Minute).WithPolling(500 * time.Millisecond).Should(Succeed())
		m.waitReady(2*time.Minute, name)
		for _, i := range []int{0, 2} {
			Expect(mustInspect(v1alpha1.ReplicaContainerName(name, "web", i)).State.StartedAt).To(Equal(started[i]), "replica %d was touched", i)
		}

		By("replicas: 1 stops replicas 1 and 2 gracefully and keeps replica 0")
		reps = replicaContainers(name, m.identity(), "web")
		evs := recordEvents("type=container", "label="+v1alpha1.LabelEnvironment+"="+name)
		apply(m, dir, "env.yaml", environment(name, web(1), client))
		m.waitReady(2*time.Minute, name)
		Eventually(func() map[string]string { return replicaContainers(name, m.identity(), "web") }).
			WithTimeout(time.Minute).Should(Equal(map[string]string{"0": reps["0"]}))
		st = serviceStatus(m.getEnvJSON(name), "web")
		Expect(st.Replicas).To(Equal(int32(1)))
		Expect(st.ReadyReplicas).To(Equal(int32(1)))
		for _, i := range []string{"1", "2"} {
			var got []string
			Eventually(func() int {
				all := evs.events()
				got = nil
				for _, d := range eventsOf(all, reps[i], "die") {
					got = append(got, d.Actor.Attributes["exitCode"])
				}
				return len(eventsOf(all, reps[i], "destroy"))
			}).WithTimeout(time.Minute).Should(Equal(1), "replica %s not removed", i)
			Expect(got).To(HaveLen(1), "replica %s", i)
			Expect(got[0]).NotTo(Equal("137"), "replica %s was killed after the grace period", i)
		}

		By("delete leaves nothing")
		m.mustBerth("delete", "environment", name, "--timeout=3m")
		m.waitGone(time.Minute, name)
		expectNothingLeft(m, name)
	})
})

var _ = Describe("Build output in berth logs", Ordered, func() {
	It("shows a failed build's output in events and berth logs, then builds once the context is fixed", func() {
		dir := GinkgoT().TempDir()
		m := startControllerManager("--allow-host-path", dir)
		DeferCleanup(m.stop)
		ctxDir := filepath.Join(dir, "web")
		Expect(os.MkdirAll(ctxDir, 0o755)).To(Succeed())
		writeFile(ctxDir, "Dockerfile", "FROM "+testImage+"\nCOPY missing-file /x\n")

		name := uniqueName("bfail")
		DeferCleanup(func() { _, _, _ = m.berth("", "delete", "environment", name, "--ignore-not-found", "--timeout=3m") })
		svc := withHTTPProbe(M{"name": "web", "build": M{"context": "./web"}, "terminationGracePeriodSeconds": 1}, 60)
		apply(m, dir, "env.yaml", environment(name, svc))

		var failed *v1alpha1.EnvironmentEvent
		Eventually(func() *v1alpha1.EnvironmentEvent {
			env := m.getEnv(name)
			for i := range env.Status.Events {
				if env.Status.Events[i].Reason == "BuildFailed" {
					failed = &env.Status.Events[i]
				}
			}
			return failed
		}).WithTimeout(3*time.Minute).WithPolling(500*time.Millisecond).ShouldNot(BeNil(), "manager output:\n%s", m.tail())
		Expect(failed.Type).To(Equal("Warning"))
		Expect(failed.Message).To(ContainSubstring("missing-file"))

		Expect(envContainers(name, m.identity())).To(BeEmpty(), "a service whose build failed has a container")
		logs := m.mustBerth("logs", name, "web")
		Expect(logs).To(ContainSubstring("COPY missing-file /x"), "the build's step lines")
		Expect(logs).To(MatchRegexp(`(?i)missing-file.*(not found|no such file)|(not found|no such file).*missing-file`), "the build's error")

		By("creating the missing file: the context hash changes and the service becomes Ready")
		writeFile(ctxDir, "missing-file", "here now\n")
		m.waitReady(4*time.Minute, name)
		Expect(mustInspect(v1alpha1.ContainerName(name, "web")).State.Running).To(BeTrue())

		m.mustBerth("delete", "environment", name, "--timeout=3m")
		m.waitGone(time.Minute, name)
		expectNothingLeft(m, name)
	})
})
