package e2e

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"

	"berth.dev/berth/client/clientset/versioned"
)

// e2eAddressPool is where the suite's Environment networks get subnets.
const e2eAddressPool = "10.199.0.0/16"

// managerProcess is a running bin/manager on its own data dir.
type managerProcess struct {
	cmd        *exec.Cmd
	dataDir    string
	kubeconfig string
	apiHost    string
	httpAddr   string // dashboard / metrics host:port
	output     *syncBuffer
	done       chan struct{}
	exitErr    error

	// signInURL is the dashboard line's one-time sign-in address, and
	// token its ?token= (the API bearer token).
	signInURL string
	token     string
}

// syncBuffer collects a process's output for failure messages.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// startManager starts bin/manager on dataDir with free ports and waits
// until it prints its kubeconfig line (the API answers by then).
func startManager(dataDir string, extraArgs ...string) *managerProcess {
	GinkgoHelper()
	return startManagerFrom(binDir, dataDir, extraArgs...)
}

// startManagerFrom is startManager with the manager binary of bin (an
// older build, for the upgrade specs).
func startManagerFrom(bin, dataDir string, extraArgs ...string) *managerProcess {
	GinkgoHelper()
	args := append([]string{
		"--data-dir", dataDir,
		"--api-listen", "127.0.0.1:0",
		"--dashboard-listen", "127.0.0.1:0",
		// Docker's default pools hold ~31 networks, one per Environment;
		// the suite's own pool keeps it from running dry on a busy machine.
		"--docker-address-pool", e2eAddressPool,
	}, extraArgs...)
	return launchManager(bin, dataDir, args)
}

// launchManager runs bin/manager with exactly args and waits until it
// prints its kubeconfig and dashboard lines.
func launchManager(bin, dataDir string, args []string) *managerProcess {
	GinkgoHelper()
	m := &managerProcess{dataDir: dataDir, output: &syncBuffer{}, done: make(chan struct{})}
	m.cmd = exec.Command(filepath.Join(bin, "manager"), args...)
	m.cmd.Stderr = io.MultiWriter(m.output, GinkgoWriter)
	stdout, err := m.cmd.StdoutPipe()
	Expect(err).NotTo(HaveOccurred())
	Expect(m.cmd.Start()).To(Succeed())

	lines := make(chan string, 16)
	go func() {
		scanner := bufio.NewScanner(stdout)
		for scanner.Scan() {
			line := scanner.Text()
			fmt.Fprintln(m.output, line)
			fmt.Fprintln(GinkgoWriter, "manager:", line)
			lines <- line
		}
		close(lines)
	}()
	go func() {
		m.exitErr = m.cmd.Wait()
		close(m.done)
	}()

	deadline := time.After(90 * time.Second)
	for m.kubeconfig == "" || m.httpAddr == "" {
		select {
		case line, ok := <-lines:
			if !ok {
				<-m.done
				Fail(fmt.Sprintf("manager exited before it was ready (%v):\n%s", m.exitErr, m.output))
			}
			key, value, _ := strings.Cut(line, ": ")
			switch key {
			case "api":
				m.apiHost = value
			case "kubeconfig":
				m.kubeconfig = value
			case "dashboard":
				u, err := url.Parse(value)
				Expect(err).NotTo(HaveOccurred(), "dashboard line %q", line)
				m.httpAddr, m.signInURL, m.token = u.Host, value, u.Query().Get("token")
			}
		case <-deadline:
			m.kill()
			Fail("manager did not become ready in 90s:\n" + m.output.String())
		}
	}
	go func() {
		for range lines {
		}
	}()
	DeferCleanup(func() {
		if !m.exited() {
			m.kill()
		}
	})
	return m
}

func (m *managerProcess) exited() bool {
	select {
	case <-m.done:
		return true
	default:
		return false
	}
}

// stop sends SIGTERM and expects a clean exit 0.
func (m *managerProcess) stop() {
	GinkgoHelper()
	Expect(m.cmd.Process.Signal(syscall.SIGTERM)).To(Succeed())
	Eventually(m.done, 60*time.Second).Should(BeClosed(), "manager did not exit after SIGTERM:\n%s", m.output)
	Expect(m.exitErr).NotTo(HaveOccurred(), "manager exit:\n%s", m.output)
}

// kill is kill -9: the crash the manager must survive.
func (m *managerProcess) kill() {
	_ = m.cmd.Process.Signal(syscall.SIGKILL)
	<-m.done
}

func (m *managerProcess) restConfig() *rest.Config {
	GinkgoHelper()
	cfg, err := clientcmd.BuildConfigFromFlags("", m.kubeconfig)
	Expect(err).NotTo(HaveOccurred())
	return cfg
}

func (m *managerProcess) clientset() *versioned.Clientset {
	GinkgoHelper()
	cs, err := versioned.NewForConfig(m.restConfig())
	Expect(err).NotTo(HaveOccurred())
	return cs
}

// berth runs bin/berth against this manager and returns stdout, stderr and
// the exit error.
func (m *managerProcess) berth(stdin string, args ...string) (string, string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, filepath.Join(binDir, "berth"), append([]string{"--kubeconfig", m.kubeconfig}, args...)...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if stdin != "" {
		cmd.Stdin = strings.NewReader(stdin)
	}
	err := cmd.Run()
	fmt.Fprintf(GinkgoWriter, "$ berth %s\n%s%s", strings.Join(args, " "), stdout.String(), stderr.String())
	return stdout.String(), stderr.String(), err
}

// mustBerth runs bin/berth and expects success.
func (m *managerProcess) mustBerth(args ...string) string {
	GinkgoHelper()
	out, errOut, err := m.berth("", args...)
	Expect(err).NotTo(HaveOccurred(), "berth %v: %s", args, errOut)
	return out
}

// writeFile writes content into a temp file and returns its path.
func writeFile(dir, name, content string) string {
	GinkgoHelper()
	p := filepath.Join(dir, name)
	Expect(os.WriteFile(p, []byte(content), 0o600)).To(Succeed())
	return p
}
