package controllers

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"

	"berth.dev/berth/apis/v1alpha1"
	"berth.dev/berth/controllers/plan"
	"berth.dev/berth/internal/docker"
	"berth.dev/berth/internal/informer"
	"berth.dev/berth/internal/probe"
)

// waitFor polls cond (Docker-backed tests: state, not time, is asserted).
func waitFor(t *testing.T, within time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(within)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("not within %s: %s", within, what)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// healthImage builds berth-testapp:dev with a HEALTHCHECK (the testapp's
// own check of its ready file, which it keeps exactly while healthy), and
// removes it (without force) when the test ends.
func healthImage(ctx context.Context, t *testing.T, run string) string {
	t.Helper()
	dir := t.TempDir()
	df := "FROM berth-testapp:dev\n" +
		`HEALTHCHECK --interval=1s --timeout=2s --retries=1 CMD ["/testapp", "check", "--file", "/tmp/ready"]` + "\n"
	if err := os.WriteFile(filepath.Join(dir, "Dockerfile"), []byte(df), 0o644); err != nil {
		t.Fatal(err)
	}
	tag := "berth-testapp-health:" + run
	if out, err := exec.CommandContext(ctx, "docker", "build", "-q", "-t", tag, dir).CombinedOutput(); err != nil {
		t.Fatalf("docker build: %v\n%s", err, out)
	}
	t.Cleanup(func() {
		if out, err := exec.Command("docker", "rmi", tag).CombinedOutput(); err != nil {
			t.Errorf("docker rmi %s: %v\n%s", tag, err, out)
		}
	})
	return tag
}

// waitsHarness is the controller's observation side on a real engine: the
// Docker informer (list + events) and the controller's observe, so status
// is computed exactly as in a reconcile.
type waitsHarness struct {
	t   *testing.T
	c   *Controller
	inf *informer.Informer
	cfg docker.Config
}

func newWaitsHarness(ctx context.Context, t *testing.T, cli *docker.Client, cfg docker.Config, probes *probe.Manager) *waitsHarness {
	t.Helper()
	inf := informer.New(cli)
	ictx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() { defer close(done); _ = inf.Run(ictx) }()
	t.Cleanup(func() { cancel(); <-done })
	if err := inf.WaitForSync(ctx); err != nil {
		t.Fatal(err)
	}
	if probes == nil {
		probes = &probe.Manager{}
	}
	c := &Controller{cache: inf, images: newImageBook(), runs: newRunMemory(), everReady: newReadyMemory(), probes: probes, refusals: newNetworkRefusals()}
	return &waitsHarness{t: t, c: c, inf: inf, cfg: cfg}
}

// service is the status of svc as a reconcile would compute it now.
func (h *waitsHarness) service(env *v1alpha1.Environment, svc string) v1alpha1.ServiceStatus {
	obs := h.c.observe(env)
	opts := plan.Options{ManagerID: h.cfg.ManagerID}
	now := time.Now()
	st := plan.ComputeStatus(env, obs, opts, plan.Compute(env, obs, opts, now), env.Status, now)
	for _, s := range st.Services {
		if s.Name == svc {
			return s
		}
	}
	return v1alpha1.ServiceStatus{}
}

// TestHealthcheckReadinessOnDocker: a service without a readinessProbe
// whose image has a HEALTHCHECK is Ready only once Docker reports it
// healthy, not Ready while Docker reports it unhealthy (the container is
// left running: berth does not restart it), and Ready again when it
// recovers; the informer follows Docker's health_status events.
func TestHealthcheckReadinessOnDocker(t *testing.T) {
	if testing.Short() {
		t.Skip("Docker-backed")
	}
	cli, cfg, run := dockerTestClient(t, "berth-waits-")
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	image := healthImage(ctx, t, run)

	env := &v1alpha1.Environment{ObjectMeta: metav1.ObjectMeta{Name: "hc" + run, UID: types.UID("uid-hc" + run)}}
	grace := int64(5)
	port := int32(0)
	env.Spec.Services = []v1alpha1.Service{{
		Name: "app", Image: image, ImagePullPolicy: v1alpha1.PullNever,
		// Unhealthy at start: Ready must wait for the switch below.
		Args:                          []string{"--http-port=8080", "--ready-file=/tmp/ready", "--healthy=false"},
		Ports:                         []v1alpha1.ServicePort{{Name: "http", ContainerPort: 8080, HostPort: &port}},
		TerminationGracePeriodSeconds: &grace,
	}}
	v1alpha1.SetDefaults(env)
	if errs := v1alpha1.ValidateEnvironment(env); len(errs) != 0 {
		t.Fatalf("test spec invalid: %v", errs.ToAggregate())
	}
	h := newWaitsHarness(ctx, t, cli, cfg, nil)
	created := createLikeController(ctx, t, cli, cfg, env, &env.Spec.Services[0])
	if err := cli.StartContainer(ctx, created.ID); err != nil {
		t.Fatal(err)
	}

	waitFor(t, time.Minute, "Docker reports the container unhealthy", func() bool {
		ct, ok := h.inf.Container(created.ID)
		return ok && ct.Health == plan.HealthUnhealthy
	})
	if st := h.service(env, "app"); st.Ready || st.State != "running" || !strings.Contains(st.Message, "unhealthy") {
		t.Fatalf("unhealthy container: ready=%v state %s message %q; want running, not Ready, saying why", st.Ready, st.State, st.Message)
	}

	var hostPort int
	waitFor(t, 30*time.Second, "the published port", func() bool {
		ct, _ := h.inf.Container(created.ID)
		for _, p := range ct.Ports {
			if p.ContainerPort == 8080 && p.HostPort > 0 {
				hostPort = p.HostPort
			}
		}
		return hostPort > 0
	})
	set := func(state string) {
		resp, err := http.Post(fmt.Sprintf("http://127.0.0.1:%d/healthz/%s", hostPort, state), "text/plain", nil)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
	}

	set("ok")
	waitFor(t, time.Minute, "Ready once healthy", func() bool { return h.service(env, "app").Ready })
	if ct, _ := h.inf.Container(created.ID); ct.Health != plan.HealthHealthy {
		t.Errorf("Ready with health %q", ct.Health)
	}

	set("fail")
	waitFor(t, time.Minute, "not Ready once unhealthy again", func() bool { return !h.service(env, "app").Ready })
	st := h.service(env, "app")
	if !strings.Contains(st.Message, "unhealthy") || st.State != "running" {
		t.Errorf("after turning unhealthy: state %s message %q", st.State, st.Message)
	}
	ct, _ := h.inf.Container(created.ID)
	if ct.ID != created.ID || !ct.Running() {
		t.Errorf("container %s running=%v: an unhealthy container is reported, not replaced", ct.ID, ct.Running())
	}
}

// TestHealthcheckSpecReachesDocker: the spec's healthcheck replaces the
// image's, and disable turns it off (Docker reports no health, and the
// service is Ready as soon as it runs, as before healthchecks counted).
func TestHealthcheckSpecReachesDocker(t *testing.T) {
	if testing.Short() {
		t.Skip("Docker-backed")
	}
	cli, cfg, run := dockerTestClient(t, "berth-waits-")
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	image := healthImage(ctx, t, run)
	grace := int64(5)
	// One Environment each: createLikeController's cleanups remove a
	// network per call.
	offEnv := &v1alpha1.Environment{ObjectMeta: metav1.ObjectMeta{Name: "hs" + run, UID: types.UID("uid-hs" + run)}}
	offEnv.Spec.Services = []v1alpha1.Service{
		{Name: "off", Image: image, ImagePullPolicy: v1alpha1.PullNever, Args: []string{"--http-port=0", "--healthy=false"},
			Healthcheck: &v1alpha1.Healthcheck{Disable: true}, TerminationGracePeriodSeconds: &grace}}
	ownEnv := &v1alpha1.Environment{ObjectMeta: metav1.ObjectMeta{Name: "ho" + run, UID: types.UID("uid-ho" + run)}}
	ownEnv.Spec.Services = []v1alpha1.Service{
		{Name: "own", Image: "berth-testapp:dev", ImagePullPolicy: v1alpha1.PullNever, Args: []string{"--http-port=0", "--ready-file=/tmp/ok"},
			Healthcheck:                   &v1alpha1.Healthcheck{Test: []string{"CMD", "/testapp", "check", "--file", "/tmp/ok"}, IntervalSeconds: 1, TimeoutSeconds: 2, Retries: 2, StartPeriodSeconds: 3},
			TerminationGracePeriodSeconds: &grace},
	}
	for _, env := range []*v1alpha1.Environment{offEnv, ownEnv} {
		v1alpha1.SetDefaults(env)
		if errs := v1alpha1.ValidateEnvironment(env); len(errs) != 0 {
			t.Fatalf("test spec invalid: %v", errs.ToAggregate())
		}
	}
	h := newWaitsHarness(ctx, t, cli, cfg, nil)
	off := createLikeController(ctx, t, cli, cfg, offEnv, &offEnv.Spec.Services[0])
	own := createLikeController(ctx, t, cli, cfg, ownEnv, &ownEnv.Spec.Services[0])
	for _, id := range []string{off.ID, own.ID} {
		if err := cli.StartContainer(ctx, id); err != nil {
			t.Fatal(err)
		}
	}
	out, err := exec.CommandContext(ctx, "docker", "inspect", off.ID, own.ID).Output()
	if err != nil {
		t.Fatalf("docker inspect: %v", err)
	}
	var got []struct {
		Config struct {
			Healthcheck *struct {
				Test                           []string
				Interval, Timeout, StartPeriod time.Duration
				Retries                        int
			}
		}
		State struct{ Health *struct{ Status string } }
	}
	if err := json.Unmarshal(out, &got); err != nil {
		t.Fatal(err)
	}
	if hc := got[0].Config.Healthcheck; hc == nil || len(hc.Test) != 1 || hc.Test[0] != "NONE" || got[0].State.Health != nil {
		t.Errorf("disabled: healthcheck %+v, health %+v; want [NONE] and no health", hc, got[0].State.Health)
	}
	if hc := got[1].Config.Healthcheck; hc == nil || strings.Join(hc.Test, " ") != "CMD /testapp check --file /tmp/ok" ||
		hc.Interval != time.Second || hc.Timeout != 2*time.Second || hc.Retries != 2 || hc.StartPeriod != 3*time.Second {
		t.Errorf("spec healthcheck reached Docker as %+v", hc)
	}
	waitFor(t, time.Minute, "the disabled one Ready as it runs, the spec one once healthy", func() bool {
		return h.service(offEnv, "off").Ready && h.service(ownEnv, "own").Ready
	})
	if ct, _ := h.inf.Container(own.ID); ct.Health != plan.HealthHealthy {
		t.Errorf("own: Ready with health %q", ct.Health)
	}
}

// TestLogProbeOnPostgres is the Postgres wait on berth-postgres:dev: its
// first start runs a temporary server for the init scripts, then the real
// one, and each prints the ready line, so occurrences: 2 is Ready only
// when the real server accepts connections. The log is read through the
// Docker layer's stream, as the controller wires it.
func TestLogProbeOnPostgres(t *testing.T) {
	if testing.Short() {
		t.Skip("Docker-backed")
	}
	if err := exec.Command("docker", "image", "inspect", "berth-postgres:dev").Run(); err != nil {
		t.Skip("berth-postgres:dev is not built (hack/build-images.sh)")
	}
	cli, cfg, run := dockerTestClient(t, "berth-waits-")
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	probes, err := probe.NewManager(ctx, probe.Options{Logs: probeLogs(cli)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(probes.Stop)

	grace := int64(10)
	env := &v1alpha1.Environment{ObjectMeta: metav1.ObjectMeta{Name: "pg" + run, UID: types.UID("uid-pg" + run)}}
	env.Spec.Services = []v1alpha1.Service{{
		Name: "db", Image: "berth-postgres:dev", ImagePullPolicy: v1alpha1.PullNever,
		Env: []v1alpha1.EnvVar{{Name: "POSTGRES_PASSWORD", Value: "test"}},
		ReadinessProbe: &v1alpha1.Probe{
			Log:           &v1alpha1.LogAction{Pattern: `database system is ready to accept connections`, Occurrences: 2},
			PeriodSeconds: 1, FailureThreshold: 120,
		},
		TerminationGracePeriodSeconds: &grace,
	}}
	v1alpha1.SetDefaults(env)
	if errs := v1alpha1.ValidateEnvironment(env); len(errs) != 0 {
		t.Fatalf("test spec invalid: %v", errs.ToAggregate())
	}
	h := newWaitsHarness(ctx, t, cli, cfg, probes)
	created := createLikeController(ctx, t, cli, cfg, env, &env.Spec.Services[0])
	if err := cli.StartContainer(ctx, created.ID); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 3*time.Minute, "Ready after the second ready line", func() bool {
		h.c.syncProbes(env, h.c.observe(env))
		return h.service(env, "db").Ready
	})
	// Ready means the real server: it answers, and it has printed the
	// line twice (the init server's and its own).
	r, err := cli.Exec(ctx, created.ID, []string{"pg_isready", "-h", "127.0.0.1", "-U", "postgres"}, 10*time.Second)
	if err != nil || r.ExitCode != 0 {
		t.Errorf("pg_isready after Ready: exit %d, %v: %s", r.ExitCode, err, r.Output)
	}
	var logs strings.Builder
	if err := cli.Logs(ctx, created.ID, docker.LogOptions{Tail: docker.MaxLogTail}, &logs, &logs); err != nil {
		t.Fatal(err)
	}
	if n := strings.Count(logs.String(), "database system is ready to accept connections"); n < 2 {
		t.Errorf("Ready with the ready line printed %d times", n)
	}
}
