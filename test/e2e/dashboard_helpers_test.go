package e2e

import (
	"bufio"
	"context"
	"io"
	"net"
	"net/http"
	"os/exec"
	"strings"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
)

// dashEnv is a small Environment for the dashboard specs: one HTTP
// service that logs, holds a little memory and is Ready through an
// httpGet probe on a published port.
func dashEnv(name string) string {
	return `apiVersion: berth.dev/v1alpha1
kind: Environment
metadata:
  name: ` + name + `
  labels: {team: payments, tier: e2e}
spec:
  services:
  - name: web
    image: berth-testapp:dev
    args: ["--log-lines=3", "--log-every=1s", "--alloc-mb=4"]
    ports: [{name: http, containerPort: 8080, hostPort: 0}]
    readinessProbe: {httpGet: {path: /healthz, port: http}, periodSeconds: 1}
    resources: {limits: {memory: 48Mi}}
    terminationGracePeriodSeconds: 2
`
}

// dashGet fetches a dashboard path, signed in with the bearer token
// unless header sets Authorization (to "" for none), and returns status,
// body and headers.
func dashGet(m *managerProcess, path string, header ...string) (int, string, http.Header) {
	GinkgoHelper()
	req, err := http.NewRequest(http.MethodGet, "http://"+m.httpAddr+path, nil)
	Expect(err).NotTo(HaveOccurred())
	req.Header.Set("Authorization", "Bearer "+m.token)
	for i := 0; i+1 < len(header); i += 2 {
		if header[i] == "Host" {
			req.Host = header[i+1]
			continue
		}
		if header[i+1] == "" {
			req.Header.Del(header[i])
			continue
		}
		req.Header.Set(header[i], header[i+1])
	}
	client := &http.Client{Timeout: 30 * time.Second, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := client.Do(req)
	Expect(err).NotTo(HaveOccurred())
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	Expect(err).NotTo(HaveOccurred())
	return resp.StatusCode, string(body), resp.Header
}

// dashPost sends one of the dashboard's actions the way its script does.
func dashPost(m *managerProcess, path string, withHeader bool) (int, string) {
	GinkgoHelper()
	req, err := http.NewRequest(http.MethodPost, "http://"+m.httpAddr+path, nil)
	Expect(err).NotTo(HaveOccurred())
	req.Header.Set("Authorization", "Bearer "+m.token)
	if withHeader {
		req.Header.Set("X-Berth-Dashboard", "1")
	}
	resp, err := http.DefaultClient.Do(req)
	Expect(err).NotTo(HaveOccurred())
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(body)
}

// sseEvent is one server-sent event.
type sseEvent struct{ name, data string }

// readEvents reads an event stream until done says so or the timeout
// passes; it returns what it read.
func readEvents(m *managerProcess, path string, timeout time.Duration, done func(sseEvent) bool) []sseEvent {
	GinkgoHelper()
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+m.httpAddr+path, nil)
	Expect(err).NotTo(HaveOccurred())
	req.Header.Set("Authorization", "Bearer "+m.token)
	resp, err := http.DefaultClient.Do(req)
	Expect(err).NotTo(HaveOccurred())
	defer resp.Body.Close()
	Expect(resp.StatusCode).To(Equal(http.StatusOK))
	Expect(resp.Header.Get("Content-Type")).To(HavePrefix("text/event-stream"))

	var events []sseEvent
	var cur sseEvent
	var data []string
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		switch {
		case line == "":
			if cur.name != "" || len(data) > 0 {
				cur.data = strings.Join(data, "\n")
				events = append(events, cur)
				if done(cur) {
					return events
				}
			}
			cur, data = sseEvent{}, nil
		case strings.HasPrefix(line, "event: "):
			cur.name = strings.TrimPrefix(line, "event: ")
		case strings.HasPrefix(line, "data: "):
			data = append(data, strings.TrimPrefix(line, "data: "))
		}
	}
	return events
}

// dashDocker runs the Docker CLI (for what a user would do by hand: kill a
// container, inspect it) and returns its trimmed output.
func dashDocker(args ...string) string {
	GinkgoHelper()
	out, err := exec.Command("docker", args...).CombinedOutput()
	Expect(err).NotTo(HaveOccurred(), "docker %v: %s", args, out)
	return strings.TrimSpace(string(out))
}

// nonLoopbackIPv4 is an address of this machine other than loopback, or
// "" when it has none.
func nonLoopbackIPv4() string {
	addrs, err := net.InterfaceAddrs()
	if err != nil {
		return ""
	}
	for _, a := range addrs {
		if n, ok := a.(*net.IPNet); ok && !n.IP.IsLoopback() && n.IP.To4() != nil {
			return n.IP.String()
		}
	}
	return ""
}

// chromiumPath finds a Chromium (hack/ensure-chromium.sh installs one).
func chromiumPath() string {
	for _, b := range []string{"chromium", "chromium-browser", "google-chrome", "google-chrome-stable"} {
		if p, err := exec.LookPath(b); err == nil {
			return p
		}
	}
	return ""
}

// dashApply applies a YAML document through the CLI, as a user would.
func dashApply(m *managerProcess, yaml string) {
	GinkgoHelper()
	_, errOut, err := m.berth(yaml, "apply", "-f", "-")
	Expect(err).NotTo(HaveOccurred(), "berth apply: %s", errOut)
}

// dashExec runs a command and returns its trimmed output, without failing
// the spec (for Eventually).
func dashExec(name string, args ...string) (string, error) {
	out, err := exec.Command(name, args...).CombinedOutput()
	return strings.TrimSpace(string(out)), err
}
