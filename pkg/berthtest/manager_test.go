package berthtest

import (
	"context"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"berth.dev/berth/internal/manager"
)

// TestInProcessManagerWhenNoneAnswers: with $BERTH_KUBECONFIG naming a
// file that does not exist, Start runs a manager in the process; Shutdown
// stops it and removes its data dir.
func TestInProcessManagerWhenNoneAnswers(t *testing.T) {
	if err := Shutdown(); err != nil {
		t.Fatal(err)
	}
	t.Setenv("BERTH_KUBECONFIG", filepath.Join(t.TempDir(), "no-manager", "kubeconfig"))
	t.Setenv(EnvManager, "")
	r := newRecorder(t)
	env := Start(r, Spec(appSpec()))
	if !strings.Contains(r.log(), "started a manager in this process") {
		t.Errorf("Start's log does not say it started a manager:\n%s", r.log())
	}
	dir := shared.dataDir
	if shared.inProcess == nil || dir == "" || !strings.HasPrefix(env.Kubeconfig(), dir+string(os.PathSeparator)) {
		t.Fatalf("kubeconfig %s is not the in-process manager's (data dir %q)", env.Kubeconfig(), dir)
	}
	r.runCleanups()
	if r.Failed() {
		t.Fatalf("cleanup failed:\n%s", r.log())
	}
	if err := Shutdown(); err != nil {
		t.Fatalf("Shutdown: %v", err)
	}
	if _, err := os.Stat(dir); !os.IsNotExist(err) {
		t.Errorf("data dir %s still there after Shutdown: %v", dir, err)
	}
}

// TestUsesTheManagerNamedByBerthKubeconfig: a manager that answers at
// $BERTH_KUBECONFIG is used, and none is started.
func TestUsesTheManagerNamedByBerthKubeconfig(t *testing.T) {
	if err := Shutdown(); err != nil {
		t.Fatal(err)
	}
	o := manager.DefaultOptions()
	o.DataDir, o.APIListen, o.DashboardListen = t.TempDir(), "127.0.0.1:0", "127.0.0.1:0"
	m, err := manager.Start(context.Background(), o)
	if err != nil {
		t.Fatalf("manager: %v", err)
	}
	t.Cleanup(func() {
		if err := m.Stop(); err != nil {
			t.Errorf("stop manager: %v", err)
		}
	})
	t.Cleanup(func() { _ = Shutdown() }) // forget the connection before the manager stops
	t.Setenv("BERTH_KUBECONFIG", m.Kubeconfig())
	t.Setenv(EnvManager, "external")
	r := newRecorder(t)
	env := Start(r, File("testdata/env.yaml"))
	if !strings.Contains(r.log(), "using the manager of "+m.Kubeconfig()) || shared.inProcess != nil {
		t.Errorf("Start did not use the manager at $BERTH_KUBECONFIG:\n%s", r.log())
	}
	if env.Kubeconfig() != m.Kubeconfig() || !strings.HasPrefix(env.Name(), "web-") {
		t.Errorf("kubeconfig %s, name %s", env.Kubeconfig(), env.Name())
	}
	r.runCleanups()
}

// TestExternalModeFailsWhenNoneAnswers: $BERTH_TEST_MANAGER=external
// never starts a manager; the test fails naming the kubeconfig.
func TestExternalModeFailsWhenNoneAnswers(t *testing.T) {
	if err := Shutdown(); err != nil {
		t.Fatal(err)
	}
	missing := filepath.Join(t.TempDir(), "kubeconfig")
	t.Setenv("BERTH_KUBECONFIG", missing)
	t.Setenv(EnvManager, "external")
	r := newRecorder(t)
	if !r.fatal(func() { Start(r, Spec(appSpec())) }) {
		t.Fatal("Start with no manager and $BERTH_TEST_MANAGER=external did not fail the test")
	}
	if log := r.log(); !strings.Contains(log, "no manager answers at "+missing) {
		t.Errorf("failure does not name the kubeconfig:\n%s", log)
	}
	if shared.inProcess != nil {
		t.Error("a manager was started")
	}
}

// TestStartFailsWithWhatItWaitedOn: a service that never turns ready
// fails the test with the service and the reason, and is torn down.
func TestStartFailsWithWhatItWaitedOn(t *testing.T) {
	r := newRecorder(t)
	if !r.fatal(func() { Start(r, Spec(appSpec("--healthy=false")), Timeout(8*time.Second)) }) {
		t.Fatal("Start of a never-ready Environment did not fail the test")
	}
	log := r.log()
	if !strings.Contains(log, "not Ready in time") || !strings.Contains(log, "waiting on app") {
		t.Errorf("failure does not say what it waited on:\n%s", log)
	}
	r.runCleanups()
	if !strings.Contains(r.log(), "lines of") {
		t.Errorf("the failed Start's cleanup wrote no log tail:\n%s", r.log())
	}
}

// TestStartRefusesBadOptions: no source, two sources and a bad file fail
// the test before anything is created.
func TestStartRefusesBadOptions(t *testing.T) {
	for name, tc := range map[string]struct {
		opts []Option
		want string
	}{
		"none":    {nil, "no Environment given"},
		"two":     {[]Option{Spec(appSpec()), File("testdata/env.yaml")}, "one Environment per Start, got 2 sources: Spec, File(testdata/env.yaml)"},
		"missing": {[]Option{File("testdata/nope.yaml")}, "File(testdata/nope.yaml): open testdata/nope.yaml: no such file"},
		"compose": {[]Option{Compose()}, "Compose: no file given"},
	} {
		t.Run(name, func(t *testing.T) {
			r := newRecorder(t)
			if !r.fatal(func() { Start(r, tc.opts...) }) {
				t.Fatal("Start did not fail the test")
			}
			if log := r.log(); !strings.Contains(log, tc.want) {
				t.Errorf("log lacks %q:\n%s", tc.want, log)
			}
		})
	}
}

// TestStartFromCompose: a compose file becomes the Environment.
func TestStartFromCompose(t *testing.T) {
	env := Start(t, File("testdata/compose.yml"))
	if addr := env.Endpoint("api", "8080"); !strings.HasPrefix(addr, "127.0.0.1:") {
		t.Errorf("endpoint %q", addr)
	}
	if env.Environment().Spec.Services[0].Name != "api" {
		t.Errorf("services %+v", env.Environment().Spec.Services)
	}
}

// TestStartFromComposeOverlay: Compose takes several files, later ones
// overlaying earlier ones.
func TestStartFromComposeOverlay(t *testing.T) {
	env := Start(t, Compose("testdata/compose.yml", "testdata/compose.override.yml"))
	resp, err := http.Get("http://" + env.Endpoint("api", "8080") + "/")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if !strings.Contains(string(body), `"name":"overlaid"`) {
		t.Errorf("GET / = %s, want the overlay's TESTAPP_NAME", body)
	}
}
