package berthtest

import (
	"context"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"

	"berth.dev/berth/apis/v1alpha1"
)

// These tests run against the real Docker Engine and a real manager (the
// one Start finds, or one in this process), with berth-testapp:dev
// (`make images`; $BERTH_TEST_IMAGE overrides it).

func TestMain(m *testing.M) { Main(m) }

func testImage() string {
	if img := os.Getenv("BERTH_TEST_IMAGE"); img != "" {
		return img
	}
	return "berth-testapp:dev"
}

// appSpec is one testapp service with an HTTP port, a readiness probe on
// it, and a few log lines.
func appSpec(args ...string) *v1alpha1.EnvironmentSpec {
	grace, anyPort := int64(1), int32(0)
	return &v1alpha1.EnvironmentSpec{Services: []v1alpha1.Service{{
		Name:                          "app",
		Image:                         testImage(),
		ImagePullPolicy:               v1alpha1.PullNever,
		Args:                          append([]string{"--log-lines", "3"}, args...),
		Ports:                         []v1alpha1.ServicePort{{Name: "http", ContainerPort: 8080, HostPort: &anyPort}},
		TerminationGracePeriodSeconds: &grace,
		ReadinessProbe: &v1alpha1.Probe{
			HTTPGet:          &v1alpha1.HTTPGetAction{Path: "/healthz", Port: intstr.FromString("http")},
			PeriodSeconds:    1,
			FailureThreshold: 30,
		},
	}}}
}

func ctx(t *testing.T) context.Context {
	c, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	t.Cleanup(cancel)
	return c
}

func TestStartEndpointExecCopyLogs(t *testing.T) {
	env := Start(t, Spec(appSpec()))

	// Held by this test: bound in spec.lease, renewed in its EnvironmentLease.
	lease := env.Environment().Spec.Lease
	if lease == nil || !strings.HasSuffix(lease.HolderIdentity, "/"+t.Name()) || lease.DurationSeconds != 30 {
		t.Errorf("spec.lease = %+v, want this test as holder for 30s", lease)
	}
	rec, err := env.Clientset().BerthV1alpha1().EnvironmentLeases().Get(ctx(t), env.Name(), metav1.GetOptions{})
	if err != nil || lease == nil || rec.Spec.HolderIdentity != lease.HolderIdentity {
		t.Errorf("EnvironmentLease %s: %+v, %v", env.Name(), rec, err)
	}

	addr := env.Endpoint("app", "http")
	if !strings.HasPrefix(addr, "127.0.0.1:") {
		t.Errorf("endpoint %q is not on loopback", addr)
	}
	resp, err := http.Get("http://" + addr + "/healthz")
	if err != nil {
		t.Fatalf("GET /healthz: %v", err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Errorf("GET /healthz: %d %s", resp.StatusCode, body)
	}
	if same := env.Endpoint("app", "8080"); same != addr {
		t.Errorf("port by number %q, by name %q", same, addr)
	}
	if _, err := env.EndpointE("app", "nope"); err == nil {
		t.Error("EndpointE of an unknown port gave no error")
	}

	res, err := env.Exec(ctx(t), "app", "/testapp", "print", "--stdout", "to out", "--stderr", "to err", "--exit", "3")
	if err != nil {
		t.Fatalf("Exec: %v", err)
	}
	if res.Stdout != "to out" || res.Stderr != "to err" || res.ExitCode != 3 {
		t.Errorf("Exec = %+v, want stdout %q, stderr %q, exit 3", res, "to out", "to err")
	}
	res, err = env.ExecInput(ctx(t), strings.NewReader("from stdin"), "app", "/testapp", "cat")
	if err != nil || res.Stdout != "from stdin" || res.ExitCode != 0 {
		t.Errorf("ExecInput cat = %+v, %v", res, err)
	}
	if _, err := env.Exec(ctx(t), "nope", "/testapp", "print"); err == nil {
		t.Error("Exec in an unknown service gave no error")
	}

	// A tree to the container and back: contents and modes kept.
	src := filepath.Join(t.TempDir(), "tree")
	mustWrite(t, filepath.Join(src, "a.txt"), "alpha", 0o640)
	mustWrite(t, filepath.Join(src, "sub", "run.sh"), "#!/bin/sh\n", 0o755)
	if err := env.CopyTo(ctx(t), "app", src, "/"); err != nil {
		t.Fatalf("CopyTo: %v", err)
	}
	res, err = env.Exec(ctx(t), "app", "/testapp", "cat", "/tree/a.txt")
	if err != nil || res.Stdout != "alpha" {
		t.Errorf("cat of the copied file = %+v, %v", res, err)
	}
	back := t.TempDir()
	if err := env.CopyFrom(ctx(t), "app", "/tree", back); err != nil {
		t.Fatalf("CopyFrom: %v", err)
	}
	for rel, want := range map[string]struct {
		body string
		mode os.FileMode
	}{"a.txt": {"alpha", 0o640}, "sub/run.sh": {"#!/bin/sh\n", 0o755}} {
		p := filepath.Join(back, "tree", rel)
		b, err := os.ReadFile(p)
		if err != nil {
			t.Errorf("copied back %s: %v", rel, err)
			continue
		}
		st, _ := os.Stat(p)
		if string(b) != want.body || st.Mode().Perm() != want.mode {
			t.Errorf("copied back %s: %q mode %o, want %q mode %o", rel, b, st.Mode().Perm(), want.body, want.mode)
		}
	}

	logs, err := env.Logs("app")
	if err != nil {
		t.Fatalf("Logs: %v", err)
	}
	if !strings.Contains(logs, "testapp: ready") || !strings.Contains(logs, "testapp: log n=3 ") {
		t.Errorf("Logs lacks the ready line or the third log line:\n%s", logs)
	}
}

func mustWrite(t *testing.T, path, body string, mode os.FileMode) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(body), mode); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(path, mode); err != nil { // umask
		t.Fatal(err)
	}
}

// TestFailedTestGetsLogTailsAndCleanupLeavesNothing runs Start under a
// recorder that fails: its cleanup puts each service's last log lines in
// the test's log, then tears down, and nothing with the Environment's
// label is left in Docker.
func TestFailedTestGetsLogTailsAndCleanupLeavesNothing(t *testing.T) {
	r := newRecorder(t)
	env := Start(r, Spec(appSpec()), LogTail(2))
	name := env.Name()
	if !strings.HasPrefix(name, "testfailedtestgetslogtails") {
		t.Errorf("name %q does not come from the test's name", name)
	}
	if got := dockerIDs(t, "ps", "-a", name); got == "" {
		t.Fatalf("no container labelled with Environment %s while it runs", name)
	}
	r.Errorf("the test under the recorder fails")
	r.runCleanups()

	log := r.log()
	if !strings.Contains(log, "last 2 lines of "+name+"/app") || !strings.Contains(log, "testapp: ready") {
		t.Errorf("failed test's log has no tail of app's log:\n%s", log)
	}
	if strings.Contains(log, "testapp: starting") {
		t.Errorf("a tail of 2 lines holds the first line:\n%s", log)
	}
	for _, what := range [][]string{{"ps", "-a"}, {"network", "ls"}, {"volume", "ls"}} {
		if got := dockerIDs(t, append(what, name)...); got != "" {
			t.Errorf("docker %s: left behind for %s: %s", strings.Join(what, " "), name, got)
		}
	}
	if _, err := env.Clientset().BerthV1alpha1().Environments().Get(ctx(t), name, metav1.GetOptions{}); err == nil {
		t.Errorf("Environment %s still exists after cleanup", name)
	}
}

// TestPassingTestGetsNoLogTails: a test that passed gets no log dump.
func TestPassingTestGetsNoLogTails(t *testing.T) {
	r := newRecorder(t)
	Start(r, Spec(appSpec()))
	r.runCleanups()
	if log := r.log(); strings.Contains(log, "lines of") || r.Failed() {
		t.Errorf("passing test: failed=%v, log:\n%s", r.Failed(), log)
	}
}

// dockerIDs lists the IDs of Docker objects labelled with Environment
// name (docker ps -a / network ls / volume ls --filter label=…).
func dockerIDs(t *testing.T, args ...string) string {
	t.Helper()
	name := args[len(args)-1]
	cmd := append(args[:len(args)-1:len(args)-1], "-q", "--filter", "label=berth.dev/environment="+name)
	out, err := exec.Command("docker", cmd...).CombinedOutput()
	if err != nil {
		t.Fatalf("docker %v: %v: %s", cmd, err, out)
	}
	return strings.TrimSpace(string(out))
}

// TestSubTestName: a sub-test's Environment is named after
// the whole test name.
func TestSubTestName(t *testing.T) {
	t.Run("login.v2", func(t *testing.T) {
		env := Start(t, Spec(appSpec()))
		if !strings.HasPrefix(env.Name(), "testsubtestname-login-v2-") {
			t.Errorf("name %q", env.Name())
		}
	})
}
