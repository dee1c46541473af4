package e2e

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/moby/moby/api/types/events"
	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	"sigs.k8s.io/yaml"

	"berth.dev/berth/apis/v1alpha1"
)

// The platform sample (config/samples/platform) applied as a user applies
// it: backend, auth and frontend built from their Dockerfiles, Postgres with
// the init SQL from spec.files on a tmpfs, Redis, the config file from a
// permitted host path, two networks.

const (
	pgReadyLine = "database system is ready to accept connections"
	pgFastLine  = "received fast shutdown request"
)

// platformMemory is the seed's table: limit and reservation in bytes.
var platformMemory = map[string][2]int64{
	"backend":  {2 << 30, 1 << 30},
	"auth":     {1 << 30, 512 << 20},
	"frontend": {512 << 20, 256 << 20},
	"postgres": {512 << 20, 256 << 20},
	"redis":    {256 << 20, 128 << 20},
}

// platformDeps is who depends on whom in platform.yaml: teardown stops a
// service only after everything that depends on it has stopped.
var platformDeps = map[string][]string{
	"frontend": {"backend"},
	"backend":  {"postgres", "redis", "auth"},
	"auth":     {"postgres", "redis"},
}

// platformStopSignal is the signal each container must be stopped with:
// Postgres' STOPSIGNAL SIGINT (fast shutdown), SIGTERM for the others.
var platformStopSignal = map[string]string{
	"postgres": "2", "redis": "15", "auth": "15", "backend": "15", "frontend": "15",
}

// copySample copies config/samples/platform, its binaries compiled by
// hack/build-platform.sh, into a fresh directory: the specs change the YAML
// there, and the manager is allowed only that directory.
func copySample() string {
	GinkgoHelper()
	root, err := filepath.Abs("../..")
	Expect(err).NotTo(HaveOccurred())
	out, err := exec.Command(filepath.Join(root, "hack", "build-platform.sh")).CombinedOutput()
	Expect(err).NotTo(HaveOccurred(), "hack/build-platform.sh: %s", out)
	dst := filepath.Join(GinkgoT().TempDir(), "platform")
	out, err = exec.Command("cp", "-a", filepath.Join(root, "config", "samples", "platform"), dst).CombinedOutput()
	Expect(err).NotTo(HaveOccurred(), "copy the sample: %s", out)
	// The containers read conf/ and the init SQL as their own users.
	Expect(os.Chmod(filepath.Dir(dst), 0o755)).To(Succeed())
	return dst
}

// ensurePlatformImages builds berth-postgres:dev and berth-redis:dev when
// missing (hack/build-images.sh caches them).
func ensurePlatformImages() {
	GinkgoHelper()
	for _, img := range []string{"berth-postgres:dev", "berth-redis:dev"} {
		if exec.Command("docker", "image", "inspect", img).Run() == nil {
			continue
		}
		root, _ := filepath.Abs("../..")
		cmd := exec.Command(filepath.Join(root, "hack", "build-images.sh"))
		cmd.Dir = root
		out, err := cmd.CombinedOutput()
		Expect(err).NotTo(HaveOccurred(), "hack/build-images.sh: %s", out)
		return
	}
}

// loadPlatform reads the sample's Environment as a document, renamed.
func loadPlatform(dir, name string) M {
	GinkgoHelper()
	data, err := os.ReadFile(filepath.Join(dir, "platform.yaml"))
	Expect(err).NotTo(HaveOccurred())
	var doc M
	Expect(yaml.Unmarshal(data, &doc)).To(Succeed())
	doc["metadata"].(M)["name"] = name
	return doc
}

// withInitSQL gives doc an init-sql file of the sample's init.sql (in dir)
// with sql appended, inline: the sample names the file by its path.
func withInitSQL(dir string, doc M, sql string) M {
	GinkgoHelper()
	b, err := json.Marshal(doc)
	Expect(err).NotTo(HaveOccurred())
	var out M
	Expect(json.Unmarshal(b, &out)).To(Succeed())
	found := false
	for _, f := range out["spec"].(M)["files"].([]any) {
		f := f.(M)
		if f["name"] == "init-sql" {
			p, _ := f["path"].(string)
			if !filepath.IsAbs(p) {
				p = filepath.Join(dir, p)
			}
			base, err := os.ReadFile(p)
			Expect(err).NotTo(HaveOccurred(), "the init-sql file of platform.yaml")
			delete(f, "path")
			f["content"] = string(base) + sql
			found = true
		}
	}
	Expect(found).To(BeTrue(), "no init-sql file in platform.yaml")
	return out
}

// platformGet GETs path on the frontend's published port.
func platformGet(frontendID, path string) (int, string, error) {
	addr, err := dockerCLI("port", frontendID, "8080/tcp")
	if err != nil {
		return 0, "", fmt.Errorf("docker port: %v: %s", err, addr)
	}
	client := &http.Client{Timeout: 10 * time.Second}
	resp, err := client.Get("http://" + strings.Split(addr, "\n")[0] + path)
	if err != nil {
		return 0, "", err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b), err
}

// platformServes: the backend answers a Postgres query (the items table)
// through the frontend.
func platformServes(g Gomega, frontendID, wantItem string) {
	code, body, err := platformGet(frontendID, "/api/items")
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(code).To(Equal(http.StatusOK), body)
	g.Expect(body).To(ContainSubstring(wantItem))
}

// followLogs captures a container's output until it stops.
type followedLogs struct {
	mu   sync.Mutex
	buf  bytes.Buffer
	done chan struct{}
}

func (l *followedLogs) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.Write(p)
}

func (l *followedLogs) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.String()
}

func followLogs(id string) *followedLogs {
	GinkgoHelper()
	l := &followedLogs{done: make(chan struct{})}
	cmd := exec.Command("docker", "logs", "--follow", id)
	cmd.Stdout, cmd.Stderr = l, l
	Expect(cmd.Start()).To(Succeed())
	go func() { _ = cmd.Wait(); close(l.done) }()
	DeferCleanup(func() {
		select {
		case <-l.done:
		default:
			_ = cmd.Process.Kill()
			<-l.done
		}
	})
	return l
}

var _ = Describe("Platform sample", Ordered, func() {
	var envs []string
	BeforeAll(func() {
		ensurePlatformImages()
		DeferCleanup(func() { sweepLeftovers(envs) })
	})

	It("runs config/samples/platform/platform.yaml: Ready, seed memory limits, Postgres recovery, init SQL change, ordered graceful teardown", func() {
		dir := copySample()
		m := startManager(GinkgoT().TempDir(), "--allow-host-path", dir)
		name := uniqueName("platform")
		envs = append(envs, name)
		DeferCleanup(func() {
			if !m.exited() {
				_, _, _ = m.berth("", "delete", "environment", name, "--ignore-not-found", "--timeout=5m")
			}
		})
		doc := loadPlatform(dir, name)
		// In the sample's directory, so its relative contexts and host path
		// resolve as they do for platform.yaml itself.
		path := writeFile(dir, "platform-e2e.yaml", render(doc))
		m.mustBerth("apply", "-f", path)
		m.waitReady(10*time.Minute, name)

		ids := containerIDs(name, m.identity())
		Expect(ids).To(HaveLen(5))
		By("the backend answers a Postgres query through the frontend's published port; Redis answers PING")
		Eventually(func(g Gomega) { platformServes(g, ids["frontend"], "first item, from the init SQL") }).
			WithTimeout(time.Minute).WithPolling(250 * time.Millisecond).Should(Succeed())
		code, body, err := platformGet(ids["frontend"], "/api/info")
		Expect(err).NotTo(HaveOccurred())
		Expect(code).To(Equal(http.StatusOK))
		Expect(body).To(ContainSubstring("hello from config/samples/platform/conf/platform.json"), "the host path config file")
		Expect(mustDocker("exec", ids["redis"], "redis-cli", "ping")).To(Equal("PONG"))
		Expect(mustDocker("exec", ids["postgres"], "psql", "-U", "platform", "-d", "platform", "-tAc",
			"SELECT value FROM platform_meta WHERE key = 'schema'")).To(Equal("1"))

		By("docker inspect shows the seed's memory limits and reservations")
		for svc, mem := range platformMemory {
			hc := mustInspect(ids[svc]).HostConfig
			Expect(hc.Memory).To(Equal(mem[0]), "%s memory limit", svc)
			Expect(hc.MemoryReservation).To(Equal(mem[1]), "%s memory reservation", svc)
		}
		By("the two networks keep the frontend away from the data")
		Expect(mustInspect(ids["frontend"]).NetworkSettings.Networks).To(HaveLen(1))
		Expect(mustInspect(ids["backend"]).NetworkSettings.Networks).To(HaveLen(2))
		Expect(mustInspect(ids["postgres"]).NetworkSettings.Networks).To(HaveLen(1))

		By("kill -9 Postgres: it comes back and the backend is Ready again")
		pgStarted := mustInspect(ids["postgres"]).State.StartedAt
		mustDocker("kill", "--signal", "KILL", ids["postgres"])
		Eventually(func(g Gomega) {
			now := containerIDs(name, m.identity())
			c := mustInspect(now["postgres"])
			g.Expect(c.State.Running).To(BeTrue())
			g.Expect(now["postgres"] != ids["postgres"] || c.State.StartedAt != pgStarted).To(BeTrue(), "postgres not back yet")
			env := m.getEnv(name)
			g.Expect(isReady(env)).To(BeTrue(), describeStatus(env))
			be := serviceStatus(env, "backend")
			g.Expect(be).NotTo(BeNil(), describeStatus(env))
			g.Expect(be.Ready).To(BeTrue(), describeStatus(env))
			platformServes(g, now["frontend"], "first item, from the init SQL")
		}).WithTimeout(5*time.Minute).WithPolling(500*time.Millisecond).Should(Succeed(), "manager output:\n%s", m.tail())
		ids = containerIDs(name, m.identity())

		By("a changed init SQL recreates Postgres alone")
		changed := withInitSQL(dir, doc, "INSERT INTO items (name, owner) VALUES ('added by the changed init SQL', 'init');\n")
		m.mustBerth("apply", "-f", writeFile(dir, "platform-e2e.yaml", render(changed)))
		Eventually(func(g Gomega) {
			now := containerIDs(name, m.identity())
			g.Expect(now["postgres"]).NotTo(Equal(ids["postgres"]), "postgres not recreated")
			env := m.getEnv(name)
			g.Expect(isReady(env)).To(BeTrue(), describeStatus(env))
			platformServes(g, now["frontend"], "added by the changed init SQL")
		}).WithTimeout(5*time.Minute).WithPolling(500*time.Millisecond).Should(Succeed(), "manager output:\n%s", m.tail())
		now := containerIDs(name, m.identity())
		for _, svc := range []string{"redis", "auth", "backend", "frontend"} {
			Expect(now[svc]).To(Equal(ids[svc]), "%s was recreated by a change of the init SQL", svc)
		}
		ids = now

		builtImages := map[string]string{}
		for _, svc := range []string{"backend", "auth", "frontend"} {
			builtImages[svc] = mustInspect(ids[svc]).Image
		}

		By("delete: reverse dependency order, each by its own signal, nobody killed, nothing left")
		rec := recordEvents("type=container", "label="+v1alpha1.LabelEnvironment+"="+name)
		pgLogs := followLogs(ids["postgres"])
		m.mustBerth("delete", "environment", name, "--timeout=5m")
		m.waitGone(5*time.Minute, name)
		expectNothingLeft(m, name)
		msgs := rec.events()
		first := func(svc, action string) events.Message {
			GinkgoHelper()
			evs := eventsOf(msgs, ids[svc], action)
			Expect(evs).NotTo(BeEmpty(), "no %s event for %s", action, svc)
			return evs[0]
		}
		for svc, sig := range platformStopSignal {
			for _, k := range eventsOf(msgs, ids[svc], "kill") {
				Expect(k.Actor.Attributes["signal"]).To(Equal(sig), "%s was sent signal %s", svc, k.Actor.Attributes["signal"])
			}
			first(svc, "kill")
			die := first(svc, "die")
			Expect(die.Actor.Attributes["exitCode"]).To(Equal("0"), "%s exit code (137: killed after the grace period)", svc)
		}
		for svc, deps := range platformDeps {
			for _, dep := range deps {
				Expect(eventTime(first(svc, "die")).After(eventTime(first(dep, "kill")))).To(BeFalse(),
					"%s was stopped before %s, which depends on it", dep, svc)
			}
		}
		Eventually(pgLogs.done).WithTimeout(time.Minute).Should(BeClosed())
		logs := pgLogs.String()
		i := strings.LastIndex(logs, pgReadyLine)
		Expect(i).To(BeNumerically(">=", 0), "postgres logs:\n%s", logs)
		Expect(logs[i:]).To(ContainSubstring(pgFastLine), "postgres logs:\n%s", logs)

		By("the images berth built are gone")
		Eventually(func(g Gomega) {
			for svc, img := range builtImages {
				g.Expect(exec.Command("docker", "image", "inspect", img).Run()).To(HaveOccurred(), "image of %s (%s) left", svc, img)
			}
		}).WithTimeout(2 * time.Minute).WithPolling(time.Second).Should(Succeed())
	})
})
