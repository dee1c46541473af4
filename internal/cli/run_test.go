package cli

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/spf13/cobra"
	"k8s.io/cli-runtime/pkg/genericiooptions"

	"berth.dev/berth/apis/v1alpha1"
	"berth.dev/berth/internal/session"
)

// parseRun parses `berth run ARGS` under a root with berth's global
// --kubeconfig flag, and runs nothing.
func parseRun(t *testing.T, args ...string) (*runOptions, error) {
	t.Helper()
	o := &runOptions{getenv: func(string) string { return "" }}
	ran := false
	cmd := buildRunCommand(o, func(context.Context, *runOptions) error { ran = true; return nil })
	root := &cobra.Command{Use: "berth", SilenceErrors: true, SilenceUsage: true}
	root.PersistentFlags().String("kubeconfig", "", "")
	root.AddCommand(cmd)
	root.SetArgs(append([]string{"run"}, args...))
	var out bytes.Buffer
	root.SetOut(&out)
	root.SetErr(&out)
	if err := root.Execute(); err != nil {
		return nil, err
	}
	if !ran {
		t.Fatal("run was not called")
	}
	return o, nil
}

func TestRunArguments(t *testing.T) {
	o, err := parseRun(t, "-f", "a.yaml", "-f", "b.yml", "--name", "ci-1", "--keep", "--timeout", "90s", "--kubeconfig", "/k", "--", "go", "test", "-run", "X", "--", "y")
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(o.files, []string{"a.yaml", "b.yml"}) || o.name != "ci-1" || !o.keep || o.timeout != 90*time.Second || o.kubeconfig != "/k" {
		t.Errorf("options %+v", o)
	}
	// Everything after the first -- is CMD's, flags and a second -- included.
	if want := []string{"go", "test", "-run", "X", "--", "y"}; !slices.Equal(o.command, want) {
		t.Errorf("command %q, want %q", o.command, want)
	}
	if o.logLines != 50 {
		t.Errorf("default --log-lines %d", o.logLines)
	}
}

func TestRunArgumentErrors(t *testing.T) {
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"-f", "a.yaml"}, "no command"},
		{[]string{"-f", "a.yaml", "--"}, "no command"},
		{[]string{"-f", "a.yaml", "env"}, "put the command after --"},
		{[]string{"-f", "a.yaml", "x", "--", "env"}, `unexpected argument "x" before --`},
		{[]string{"--", "env"}, "no file"},
		{[]string{"-f", "a.yaml", "--timeout", "0s", "--", "env"}, "--timeout 0s: must be positive"},
		{[]string{"-f", "a.yaml", "--log-lines", "10001", "--", "env"}, "--log-lines 10001: must be from 0 to 10000"},
	} {
		_, err := parseRun(t, c.args...)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("berth run %q: error %v, want %q", c.args, err, c.want)
		}
	}
}

func TestCommandEnv(t *testing.T) {
	base := []string{"PATH=/bin", "BERTH_API_HTTP=stale", "HOME=/root"}
	got := commandEnv(base, []string{"BERTH_API_HTTP=127.0.0.1:1", "BERTH_ENV=e"})
	want := []string{"PATH=/bin", "HOME=/root", "BERTH_API_HTTP=127.0.0.1:1", "BERTH_ENV=e"}
	if !slices.Equal(got, want) {
		t.Errorf("got %q, want %q", got, want)
	}
}

func TestExitCode(t *testing.T) {
	if exitCode(nil) != 0 {
		t.Error("nil")
	}
	err := exec.Command("sh", "-c", "exit 3").Run()
	if got := exitCode(err); got != 3 {
		t.Errorf("exit 3 → %d", got)
	}
	err = exec.Command("sh", "-c", "kill -TERM $$").Run()
	if got := exitCode(err); got != 143 {
		t.Errorf("killed by SIGTERM → %d, want 143", got)
	}
}

func TestRunCommandNotFound(t *testing.T) {
	var out bytes.Buffer
	streams := genericiooptions.IOStreams{Out: &out, ErrOut: &out}
	code, sig, err := runCommand([]string{"/nonexistent/berth-test-cmd"}, nil, streams, make(chan os.Signal))
	if code != exitNotFound || sig != nil || err == nil {
		t.Errorf("code %d sig %v err %v", code, sig, err)
	}
	dir := t.TempDir()
	notExec := filepath.Join(dir, "script")
	if err := os.WriteFile(notExec, []byte("#!/bin/sh\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	code, _, err = runCommand([]string{notExec}, nil, streams, make(chan os.Signal))
	if code != exitCannotInvoke || err == nil {
		t.Errorf("not executable: code %d err %v", code, err)
	}
}

func TestRunCommandGetsVariables(t *testing.T) {
	var out bytes.Buffer
	streams := genericiooptions.IOStreams{Out: &out, ErrOut: &out}
	code, _, err := runCommand([]string{"sh", "-c", `echo "$BERTH_ENV $BERTH_API_HTTP"; exit 4`},
		[]string{"BERTH_ENV=demo-x", "BERTH_API_HTTP=127.0.0.1:9"}, streams, make(chan os.Signal))
	if err != nil || code != 4 {
		t.Fatalf("code %d err %v", code, err)
	}
	if got := out.String(); got != "demo-x 127.0.0.1:9\n" {
		t.Errorf("output %q", got)
	}
}

func TestRunLoadOneEnvironment(t *testing.T) {
	dir := t.TempDir()
	one := filepath.Join(dir, "stack.yaml")
	two := filepath.Join(dir, "two.yaml")
	envDoc := func(name string) string {
		return "apiVersion: berth.dev/v1alpha1\nkind: Environment\nmetadata:\n  name: " + name +
			"\nspec:\n  services:\n  - name: web\n    image: x\n    build: {context: ./web}\n"
	}
	if err := os.WriteFile(one, []byte(envDoc("a")), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(two, []byte(envDoc("b")+"---\n"+envDoc("c")), 0o600); err != nil {
		t.Fatal(err)
	}
	o := &runOptions{files: []string{one}}
	in, err := o.load(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if in.env.Name != "a" || in.base != "stack" {
		t.Errorf("env %q base %q", in.env.Name, in.base)
	}
	// Relative build contexts are resolved against the file's directory.
	if got := in.env.Spec.Services[0].Build.Context; got != filepath.Join(dir, "web") {
		t.Errorf("build context %q", got)
	}

	o.files = []string{one, two}
	_, err = o.load(context.Background())
	if err == nil || !strings.Contains(err.Error(), "runs one Environment, and the -f files hold 3: a from "+one+", b from "+two+", c from "+two) {
		t.Errorf("three Environments: %v", err)
	}
	o.files = []string{dir}
	if _, err := o.load(context.Background()); err == nil || !strings.Contains(err.Error(), "is a directory") {
		t.Errorf("directory: %v", err)
	}
	o.files = []string{filepath.Join(dir, "missing.yaml")}
	if _, err := o.load(context.Background()); err == nil || !strings.Contains(err.Error(), "missing.yaml") {
		t.Errorf("missing file: %v", err)
	}
}

func TestProgressPrinterPlain(t *testing.T) {
	var buf bytes.Buffer
	now := time.Unix(0, 0)
	p := &progressPrinter{w: &buf, now: func() time.Time { return now }, start: now}
	pr := session.Progress{Name: "demo-x", Phase: v1alpha1.PhaseProgressing, Ready: 1, Total: 2,
		Waiting: []session.ServiceWait{{Name: "db", State: "running", Message: "waiting for the readiness probe"}}}
	p.Update(pr)
	now = now.Add(1500 * time.Millisecond)
	p.Tick()
	p.Update(pr) // unchanged: no new line in a log
	pr.Phase, pr.Ready, pr.Waiting = v1alpha1.PhaseReady, 2, nil
	p.Update(pr)
	p.Println("berth: done")
	want := "berth: demo-x: Progressing, 1/2 services ready; waiting on db (running: waiting for the readiness probe) [0s]\n" +
		"berth: demo-x: Ready, 2/2 services ready [1.5s]\n" +
		"berth: done\n"
	if got := buf.String(); got != want {
		t.Errorf("plain output\n got %q\nwant %q", got, want)
	}
}

func TestProgressPrinterLive(t *testing.T) {
	var buf bytes.Buffer
	now := time.Unix(0, 0)
	p := &progressPrinter{w: &buf, live: true, width: 40, now: func() time.Time { return now }, start: now}
	p.Update(session.Progress{Name: "demo-x", Phase: v1alpha1.PhasePending, Total: 3})
	now = now.Add(time.Second)
	p.Tick()
	p.Println("berth: a message")
	p.Update(session.Progress{Name: "demo-x", Phase: v1alpha1.PhaseReady, Ready: 3, Total: 3})
	p.Finish()
	want := "\r\x1b[Kberth: demo-x: Pending, 0/3 services r…" +
		"\r\x1b[Kberth: demo-x: Pending, 0/3 services r…" +
		"\r\x1b[K" + "berth: a message\n" +
		"\r\x1b[Kberth: demo-x: Ready, 3/3 services rea…" + "\n"
	if got := buf.String(); got != want {
		t.Errorf("live output\n got %q\nwant %q", got, want)
	}
	for _, line := range strings.Split(buf.String(), "\r\x1b[K") {
		if n := len([]rune(strings.TrimSuffix(line, "\n"))); n >= 40 {
			t.Errorf("line %q is %d columns on a 40-column terminal", line, n)
		}
	}
}

func TestRunLoadCompose(t *testing.T) {
	dir := t.TempDir()
	base := filepath.Join(dir, "docker-compose.yml")
	overlay := filepath.Join(dir, "docker-compose.test.yml")
	manifest := filepath.Join(dir, "env.yaml")
	write := func(p, s string) {
		if err := os.WriteFile(p, []byte(s), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	write(base, "name: shop\nservices:\n  web:\n    image: berth-testapp:dev\n    ports: [\"8080\"]\n")
	write(overlay, "services:\n  web:\n    environment:\n      MODE: test\n")
	write(manifest, "apiVersion: berth.dev/v1alpha1\nkind: Environment\nmetadata:\n  name: other\nspec:\n  services:\n  - name: x\n    image: other-img\n")

	o := &runOptions{files: []string{base, overlay}}
	in, err := o.load(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if in.env.Name != "shop" || len(in.env.Spec.Services) != 1 {
		t.Fatalf("compose project loaded as %q with %d services", in.env.Name, len(in.env.Spec.Services))
	}
	// The overlay's variable is there: both files formed one project.
	found := false
	for _, e := range in.env.Spec.Services[0].Env {
		found = found || (e.Name == "MODE" && e.Value == "test")
	}
	if !found {
		t.Errorf("the overlay was not applied: env %+v", in.env.Spec.Services[0].Env)
	}

	o.files = []string{base, manifest}
	_, err = o.load(context.Background())
	if err == nil || !strings.Contains(err.Error(), "hold 2: other from "+manifest+", shop from the compose project of "+base) {
		t.Errorf("compose + manifest: %v", err)
	}

	o = &runOptions{files: []string{manifest}, profiles: []string{"debug"}}
	if _, err := o.load(context.Background()); err == nil || !strings.Contains(err.Error(), "--profile and --env-file apply to compose files") {
		t.Errorf("--profile without compose files: %v", err)
	}
}
