package docker

import (
	"context"
	"strings"
	"testing"
	"time"

	"berth.dev/berth/internal/governor"
)

// TestTeardownIgnoringSIGTERM: a container that ignores SIGTERM is stopped
// with its grace period, killed by Docker after it, and removed without
// force; the daemon never sees a forced request.
func TestTeardownIgnoringSIGTERM(t *testing.T) {
	needDocker(t)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	env := envName(t, "term")
	cleanupEnv(t, env)
	p := startProxy(t)
	c := newTestClient(t, p.Host(), governor.ProfileCI)
	if _, err := c.EnsureNetwork(ctx, NetworkSpec{Environment: env}); err != nil {
		t.Fatal(err)
	}
	cr, err := c.CreateContainer(ctx, spec(env, "stubborn", "--ignore-sigterm"))
	if err != nil {
		t.Fatal(err)
	}
	if err := c.StartContainer(ctx, cr.ID); err != nil {
		t.Fatal(err)
	}
	waitReady(t, ctx, c, cr.ID)
	inf := NewInformer(newTestClient(t, dockerHost, governor.ProfileCI))
	died := make(chan Event, 4)
	inf.AddHandler(func(e string, ev Event) {
		if ev.ID == cr.ID && ev.Action == "die" {
			died <- ev
		}
	})
	ictx, stop := context.WithCancel(ctx)
	defer stop()
	go inf.Run(ictx)
	if err := inf.WaitForSync(ctx); err != nil {
		t.Fatal(err)
	}
	p.Reset()

	const grace = 2 * time.Second
	began := time.Now()
	if err := c.StopAndRemove(ctx, cr.ID, grace); err != nil {
		t.Fatal(err)
	}
	took := time.Since(began)
	if took < grace {
		t.Fatalf("teardown of a SIGTERM-ignoring container took %s, less than its %s grace: it was not given the grace period", took, grace)
	}
	if _, err := raw.ContainerInspect(ctx, cr.ID, clientInspectOpts()); err == nil {
		t.Fatal("container still exists")
	}
	select {
	case ev := <-died:
		if ev.Container == nil || ev.Container.ExitCode != 137 {
			t.Fatalf("die event %+v, want exit 137 (killed after the grace period)", ev.Container)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("no die event")
	}
	var sawStop, sawDelete bool
	for _, r := range p.Requests() {
		path := strings.SplitN(r.URI, "?", 2)[0]
		if strings.HasSuffix(path, "/stop") {
			sawStop = true
			if !strings.Contains(r.URI, "t=2") {
				t.Errorf("stop without the grace period: %s", r.URI)
			}
		}
		if r.Method == "DELETE" {
			sawDelete = true
			if strings.Contains(r.URI, "force") {
				t.Errorf("forced delete: %s", r.URI)
			}
			if !strings.Contains(r.URI, "v=1") {
				t.Errorf("delete without anonymous volumes: %s", r.URI)
			}
		}
	}
	if !sawStop || !sawDelete {
		t.Fatalf("expected a stop and a delete, got %v", p.Requests())
	}
	t.Logf("teardown took %s with a %s grace", took, grace)
}

// TestTeardownGracefulExit: a container that exits on SIGTERM after a
// delay is not killed: it gets to finish within its grace period.
func TestTeardownGracefulExit(t *testing.T) {
	needDocker(t)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	env := envName(t, "grace")
	cleanupEnv(t, env)
	c := newTestClient(t, dockerHost, governor.ProfileCI)
	if _, err := c.EnsureNetwork(ctx, NetworkSpec{Environment: env}); err != nil {
		t.Fatal(err)
	}
	cr, err := c.CreateContainer(ctx, spec(env, "polite", "--stop-delay", "1s"))
	if err != nil {
		t.Fatal(err)
	}
	if err := c.StartContainer(ctx, cr.ID); err != nil {
		t.Fatal(err)
	}
	waitReady(t, ctx, c, cr.ID)
	// Stop alone (the first half of StopAndRemove) to read the exit code.
	if err := c.stop(ctx, cr.ID, 20*time.Second); err != nil {
		t.Fatal(err)
	}
	got, err := c.InspectContainer(ctx, cr.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got.State != "exited" || got.ExitCode != 0 {
		t.Fatalf("after a graceful stop: state %s exit %d, want exited 0", got.State, got.ExitCode)
	}
	if err := c.StopAndRemove(ctx, cr.ID, time.Second); err != nil {
		t.Fatal(err)
	}
}

// TestRemoveNetworkWithStoppedEndpoint: a network whose owned container is
// stopped but still connected is removed after a graceful disconnect; one
// with a running container is refused, not forced.
func TestRemoveNetworkRefusesRunningEndpoint(t *testing.T) {
	needDocker(t)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	env := envName(t, "rmnet")
	cleanupEnv(t, env)
	c := newTestClient(t, dockerHost, governor.ProfileCI)
	if _, err := c.EnsureNetwork(ctx, NetworkSpec{Environment: env}); err != nil {
		t.Fatal(err)
	}
	cr, err := c.CreateContainer(ctx, spec(env, "app", "--http-port", "0"))
	if err != nil {
		t.Fatal(err)
	}
	if err := c.StartContainer(ctx, cr.ID); err != nil {
		t.Fatal(err)
	}
	if err := c.RemoveNetwork(ctx, NetworkName(env)); !IsConflict(err) {
		t.Fatalf("RemoveNetwork with a running container = %v, want Conflict", err)
	}
	if st, err := rawState(ctx, cr.ID); err != nil || st != "running" {
		t.Fatalf("the running container was disturbed: %s %v", st, err)
	}
	if err := c.stop(ctx, cr.ID, 5*time.Second); err != nil {
		t.Fatal(err)
	}
	if err := c.RemoveNetwork(ctx, NetworkName(env)); err != nil {
		t.Fatalf("RemoveNetwork with only a stopped container: %v", err)
	}
	if err := c.StopAndRemove(ctx, cr.ID, time.Second); err != nil {
		t.Fatal(err)
	}
}
