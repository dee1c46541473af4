package e2e

import (
	"fmt"
	"io"
	"math/rand/v2"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
)

// logsEnvYAML is one testapp service that prints three numbered lines at
// start and one more every 200ms; the shared counter shows whether lines
// were lost or reordered on the way.
const logsEnvYAML = `apiVersion: berth.dev/v1alpha1
kind: Environment
metadata:
  name: %s
  labels:
    step: %q
spec:
  services:
  - name: app
    image: berth-testapp:dev
    imagePullPolicy: Never
    args: ["--log-lines=3", "--log-every=200ms"]
`

// logLine matches testapp's numbered lines and captures the number.
var logLine = regexp.MustCompile(`^testapp: log n=(\d+) `)

// background is a berth command left running, its stdout collected.
type background struct {
	cmd    *exec.Cmd
	out    *syncBuffer
	errOut *syncBuffer
	done   chan struct{}
	err    error
}

// startBerth starts bin/berth against m and keeps reading its stdout.
func startBerth(m *managerProcess, args ...string) *background {
	GinkgoHelper()
	b := &background{out: &syncBuffer{}, errOut: &syncBuffer{}, done: make(chan struct{})}
	b.cmd = exec.Command(filepath.Join(binDir, "berth"), append([]string{"--kubeconfig", m.kubeconfig}, args...)...)
	b.cmd.Stderr = io.MultiWriter(b.errOut, GinkgoWriter)
	stdout, err := b.cmd.StdoutPipe()
	Expect(err).NotTo(HaveOccurred())
	Expect(b.cmd.Start()).To(Succeed())
	go func() {
		_, _ = io.Copy(io.MultiWriter(b.out, GinkgoWriter), stdout)
		b.err = b.cmd.Wait()
		close(b.done)
	}()
	DeferCleanup(func() {
		_ = b.cmd.Process.Kill()
		<-b.done
	})
	return b
}

// lines returns the complete lines printed so far.
func (b *background) lines() []string {
	text := b.out.String()
	if i := strings.LastIndexByte(text, '\n'); i >= 0 {
		return strings.Split(text[:i], "\n")
	}
	return nil
}

// logNumbers returns the counters of testapp's numbered lines, in order.
func logNumbers(lines []string) []int {
	var ns []int
	for _, l := range lines {
		if m := logLine.FindStringSubmatch(l); m != nil {
			n, _ := strconv.Atoi(m[1])
			ns = append(ns, n)
		}
	}
	return ns
}

// openLogStreams reads the manager's count of open Docker streams (the
// events streams plus any log stream).
func openLogStreams(m *managerProcess) func() (int, error) {
	re := regexp.MustCompile(`(?m)^berth_docker_in_flight\{lane="stream"\} (\d+)$`)
	return func() (int, error) {
		resp, err := m.scrape()
		if err != nil {
			return 0, err
		}
		defer resp.Body.Close()
		body, err := io.ReadAll(resp.Body)
		if err != nil {
			return 0, err
		}
		match := re.FindSubmatch(body)
		if match == nil {
			return 0, fmt.Errorf("no stream lane in /metrics")
		}
		return strconv.Atoi(string(match[1]))
	}
}

var _ = Describe("berth logs and berth get -w", Ordered, func() {
	var (
		m    *managerProcess
		tmp  string
		name string
	)

	BeforeAll(func() {
		tmp = GinkgoT().TempDir()
		m = startManager(GinkgoT().TempDir())
		// Unique: another suite may run the same specs on the same Docker
		// Engine, and container names derive from the Environment's.
		name = fmt.Sprintf("logs-%06x", rand.IntN(1<<24))
		DeferCleanup(func() {
			_, _, _ = m.berth("", "delete", "env", name, "--ignore-not-found", "--timeout=3m")
		})
	})

	It("get -w streams the Environment's changes as they happen", func() {
		watch := startBerth(m, "get", "env", "-w", "--output-watch-events")
		m.mustBerth("apply", "-f", writeFile(tmp, "env.yaml", fmt.Sprintf(logsEnvYAML, name, "one")))
		Eventually(watch.lines, 30*time.Second).Should(ContainElement(MatchRegexp(`^ADDED\s+%s\s`, name)))
		Expect(watch.lines()[0]).To(MatchRegexp(`^EVENT\s+NAME\s+PHASE\s+READY\s+AGE$`))
		// The controller's status writes arrive as they happen (ADDED when
		// the watch began after them).
		Eventually(watch.lines, 2*time.Minute).Should(ContainElement(MatchRegexp(`^(ADDED|MODIFIED)\s+%s\s+Ready\s+1/1\s`, name)))

		// A change made after the watch surely runs is one more MODIFIED
		// line: it streams, it did not just list.
		seen := len(watch.lines())
		m.mustBerth("apply", "-f", writeFile(tmp, "env.yaml", fmt.Sprintf(logsEnvYAML, name, "two")))
		Eventually(func() []string { return watch.lines()[seen:] }, 30*time.Second).
			Should(ContainElement(MatchRegexp(`^MODIFIED\s+%s\s`, name)))
		Consistently(watch.done, time.Second).ShouldNot(BeClosed(), "the watch must keep running")
	})

	It("prints the last N lines with --tail", func() {
		m.mustBerth("wait", "--for=condition=Ready", "env/"+name, "--timeout=2m")
		// Enough numbered lines that a tail of 2 is a real cut.
		Eventually(func() []int { return logNumbers(strings.Split(m.mustBerth("logs", name, "app"), "\n")) }, 30*time.Second).
			Should(ContainElement(6))

		all := m.mustBerth("logs", name)
		Expect(all).To(ContainSubstring("testapp: starting pid="), "SERVICE defaults to the only one")
		Expect(logNumbers(strings.Split(all, "\n"))[:3]).To(Equal([]int{1, 2, 3}))

		out := m.mustBerth("logs", name, "app", "--tail", "2")
		lines := strings.Split(strings.TrimSuffix(out, "\n"), "\n")
		Expect(lines).To(HaveLen(2), "berth logs --tail 2:\n%s", out)
		ns := logNumbers(lines)
		Expect(ns).To(HaveLen(2), "both are numbered lines:\n%s", out)
		Expect(ns[1]).To(Equal(ns[0]+1), "the last two lines, in order:\n%s", out)
		Expect(ns[0]).To(BeNumerically(">=", 5))

		stamped := m.mustBerth("logs", name, "app", "--tail", "1", "--timestamps")
		Expect(stamped).To(MatchRegexp(`^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d+Z testapp: log n=\d+ `))
	})

	It("follows new lines with -f, and the manager stops reading when berth goes away", func() {
		streams := openLogStreams(m)
		before, err := streams()
		Expect(err).NotTo(HaveOccurred())

		follow := startBerth(m, "logs", name, "app", "-f", "--tail", "1")
		// Lines come every 200ms: ten of them prove it streams, not just
		// prints what was there.
		Eventually(func() []int { return logNumbers(follow.lines()) }, 15*time.Second).Should(HaveLen(10))
		ns := logNumbers(follow.lines())
		for i := 1; i < len(ns); i++ {
			Expect(ns[i]).To(Equal(ns[i-1]+1), "lines lost or reordered: %v", ns)
		}
		Expect(streams()).To(Equal(before+1), "one Docker log stream while following")

		Expect(follow.cmd.Process.Signal(syscall.SIGINT)).To(Succeed())
		Eventually(follow.done, 10*time.Second).Should(BeClosed())
		Expect(follow.err).NotTo(HaveOccurred(), "Ctrl-C ends a follow cleanly")
		Eventually(streams, 10*time.Second).Should(Equal(before), "the manager's Docker log stream ends with the client")
	})

	It("fails clearly for an unknown service or Environment", func() {
		_, errOut, err := m.berth("", "logs", name, "nope")
		Expect(err).To(HaveOccurred())
		Expect(errOut).To(ContainSubstring(fmt.Sprintf("environment %s has no service nope (services: app)", name)))

		_, errOut, err = m.berth("", "logs", name+"-absent", "app")
		Expect(err).To(HaveOccurred())
		Expect(errOut).To(ContainSubstring(fmt.Sprintf(`"%s-absent" not found`, name)))
	})

	It("says when a service has no container yet", func() {
		absent := name + "-noimg"
		DeferCleanup(func() {
			_, _, _ = m.berth("", "delete", "env", absent, "--ignore-not-found", "--timeout=2m")
		})
		m.mustBerth("apply", "-f", writeFile(tmp, "noimg.yaml", fmt.Sprintf(`apiVersion: berth.dev/v1alpha1
kind: Environment
metadata:
  name: %s
spec:
  services:
  - name: app
    image: berth-logs-e2e-absent:none
    imagePullPolicy: Never
`, absent)))
		Eventually(func() string {
			_, errOut, _ := m.berth("", "logs", absent, "app")
			return errOut
		}, 30*time.Second).Should(ContainSubstring(fmt.Sprintf("service app of environment %s has no container yet (state Waiting", absent)))
		_, _, err := m.berth("", "logs", absent, "app")
		Expect(err).To(HaveOccurred())
	})
})
