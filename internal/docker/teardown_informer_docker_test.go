package docker_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/moby/moby/client"

	"berth.dev/berth/internal/docker"
	"berth.dev/berth/internal/governor"
	"berth.dev/berth/internal/informer"
)

// TestTeardownIgnoringSIGTERM: a container that ignores SIGTERM is stopped
// with its grace period, killed by Docker after it, and removed without
// force; the daemon never sees a forced request.
func TestTeardownIgnoringSIGTERM(t *testing.T) {
	docker.NeedDocker(t)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	env := docker.EnvName(t, "term")
	docker.CleanupEnv(t, env)
	p := docker.StartProxy(t)
	c := docker.NewTestClient(t, p.Host(), governor.ProfileCI)
	if _, err := c.EnsureNetwork(ctx, docker.NetworkSpec{Environment: env}); err != nil {
		t.Fatal(err)
	}
	cr, err := c.CreateContainer(ctx, docker.TestSpec(env, "stubborn", "--ignore-sigterm"))
	if err != nil {
		t.Fatal(err)
	}
	if err := c.StartContainer(ctx, cr.ID); err != nil {
		t.Fatal(err)
	}
	docker.WaitReady(t, ctx, c, cr.ID)
	inf := informer.New(docker.NewTestClient(t, docker.SharedDockerHost(), governor.ProfileCI))
	died := make(chan informer.Event, 4)
	inf.AddHandler(func(e string, ev informer.Event) {
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
	if _, err := docker.RawClient().ContainerInspect(ctx, cr.ID, client.ContainerInspectOptions{}); err == nil {
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
