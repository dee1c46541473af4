package e2e

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
)

// Files, secrets and host paths against the real manager: a host path
// outside --allow-host-path is refused at admission by the API server
// through `berth apply`; inside, the service starts with its files, its
// secret and its mounts; the secret's content never appears in the
// manager's log, the Environment's status and events, or the dashboard.
var _ = Describe("Files, secrets and host paths", Ordered, func() {
	const marker = "MARKER-e2e-5b7d-never-shown"
	sum := sha256.Sum256([]byte(marker))
	markerSum := hex.EncodeToString(sum[:])
	var (
		m    *managerProcess
		root string
		tmp  string
		name = uniqueName("files")
	)

	BeforeAll(func() {
		root = GinkgoT().TempDir()
		Expect(os.Chmod(root, 0o755)).To(Succeed())
		Expect(os.WriteFile(filepath.Join(root, "hello"), []byte("hi\n"), 0o644)).To(Succeed())
		tmp = GinkgoT().TempDir()
		// Verbose, so debug logging is covered by the secret check too.
		m = startControllerManager("--allow-host-path", root, "--v", "2")
		DeferCleanup(func() {
			if !m.exited() {
				_, _, _ = m.berth("", "delete", "environment", name, "--ignore-not-found", "--timeout=3m")
			}
			sweepLeftovers([]string{name})
		})
	})

	filesEnv := func(hostPath string) M {
		// The command checks, at start, what must be there before it;
		// any miss exits 1 and the service never turns Ready.
		check := strings.Join([]string{
			`test "$(stat -c %a:%u /run/secrets/token)" = 400:0`,
			// The content is compared by hash: the spec shows the
			// command, and must not show the secret.
			`test "$(sha256sum < /run/secrets/token | cut -c1-64)" = ` + markerSum,
			`test "$(stat -c %a /etc/app/init.sql)" = 444`,
			`test "$(cat /etc/app/init.sql)" = "SELECT 1;"`,
			`test -f /data/hello`,
			`grep -q ' /scratch tmpfs .*size=8192k' /proc/mounts`,
			`echo files-ok`,
			`trap 'exit 0' TERM; while sleep 1; do :; done`,
		}, " && ")
		env := environment(name, M{
			"name": "app", "image": "berth-postgres:dev", "imagePullPolicy": "IfNotPresent",
			"command":                       []string{"sh", "-c", check},
			"terminationGracePeriodSeconds": 2,
			"resources":                     M{"limits": M{"memory": "64Mi"}},
			"files":                         []M{{"name": "init-sql", "mountPath": "/etc/app/init.sql"}},
			"secrets":                       []M{{"name": "token"}},
			"volumeMounts": []M{
				{"name": "scratch", "mountPath": "/scratch"},
				{"name": "host", "mountPath": "/data", "readOnly": true},
			},
			"readinessProbe": M{"exec": M{"command": []string{"sh", "-c", "true"}}, "periodSeconds": 1},
		})
		spec := env["spec"].(M)
		spec["files"] = []M{{"name": "init-sql", "content": "SELECT 1;"}}
		spec["secrets"] = []M{{"name": "token", "content": marker}}
		spec["volumes"] = []M{
			{"name": "scratch", "emptyDir": M{"medium": "Memory", "sizeLimit": "8Mi"}},
			{"name": "host", "hostPath": M{"path": hostPath}},
		}
		return env
	}

	It("refuses a host path outside the allowed roots at admission", func() {
		path := writeFile(tmp, "outside.yaml", render(filesEnv("/etc")))
		_, errOut, err := m.berth("", "apply", "-f", path)
		Expect(err).To(HaveOccurred())
		Expect(errOut).To(ContainSubstring("spec.volumes[1].hostPath.path"))
		Expect(errOut).To(ContainSubstring("/etc is not under a directory the manager allows (--allow-host-path: " + root + ")"))
		Expect(errOut).NotTo(ContainSubstring(marker))
	})

	It("writes files and the secret before the start, mounts the tmpfs and the host path, and never shows the secret", func() {
		apply(m, tmp, "inside.yaml", filesEnv(root))
		m.waitReady(2*time.Minute, name)

		logs := m.mustBerth("logs", name, "app")
		Expect(logs).To(ContainSubstring("files-ok"))

		env := m.getEnv(name)
		status, err := json.Marshal(env.Status)
		Expect(err).NotTo(HaveOccurred())
		Expect(string(status)).NotTo(ContainSubstring(marker), "status")
		Expect(string(status)).To(ContainSubstring("FilesWritten"), "events")

		code, page, _ := dashGet(m, "/env/"+name)
		Expect(code).To(Equal(200))
		Expect(page).To(ContainSubstring("secrets:"))
		Expect(page).To(ContainSubstring("redacted"))
		Expect(page).NotTo(ContainSubstring(marker), "dashboard")

		Expect(m.output.String()).NotTo(ContainSubstring(marker), "manager log")
	})

	It("holds a service whose file path cannot be read, says why, and recovers once it can", func() {
		late := uniqueName("files-late")
		DeferCleanup(func() {
			if !m.exited() {
				_, _, _ = m.berth("", "delete", "environment", late, "--ignore-not-found", "--timeout=3m")
			}
			sweepLeftovers([]string{late})
		})
		missing := filepath.Join(root, "late.conf")
		svc := service("app")
		svc["files"] = []M{{"name": "conf", "mountPath": "/etc/late.conf"}}
		env := environment(late, svc)
		env["spec"].(M)["files"] = []M{{"name": "conf", "path": missing}}
		apply(m, tmp, "late.yaml", env)

		Eventually(func() string {
			e := m.getEnv(late)
			c := condition(e, "Degraded")
			if c == nil || c.Reason != "HostPathUnavailable" {
				return describeStatus(e)
			}
			for _, ev := range e.Status.Events {
				if ev.Type == "Warning" && ev.Reason == "HostPathUnavailable" && strings.Contains(ev.Message, missing) && strings.Contains(ev.Message, "no such file") {
					return "ok"
				}
			}
			return "no warning event naming the path: " + describeStatus(e)
		}, time.Minute, 500*time.Millisecond).Should(Equal("ok"))

		Expect(os.WriteFile(missing, []byte("late\n"), 0o644)).To(Succeed())
		m.waitReady(2*time.Minute, late)
	})
})
