package docker_test

import (
	"context"
	"testing"
	"time"

	"github.com/moby/moby/client"

	"berth.dev/berth/internal/docker"
	"berth.dev/berth/internal/docker/faultproxy"
	"berth.dev/berth/internal/governor"
)

// TestInformerRecordsDaemonOutage: while the informer cannot reach the
// daemon (its event streams cut, every request failing, as during a daemon
// restart) a container stops; once the daemon answers again the informer
// reports an outage that holds the container's FinishedAt, which is what
// tells the planner the exit was no crash. Before that, nothing is
// reported.
func TestInformerRecordsDaemonOutage(t *testing.T) {
	docker.NeedDocker(t)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	env := docker.EnvName(t, "outage")
	docker.CleanupEnv(t, env)
	p := docker.StartProxy(t)
	c := docker.NewTestClient(t, p.Host(), governor.ProfileCI, func(cfg *docker.Config) {
		cfg.RetryBackoff = []time.Duration{50 * time.Millisecond}
	})
	inf, _ := startInformer(t, ctx, c)

	if _, err := c.EnsureNetwork(ctx, docker.NetworkSpec{Environment: env}); err != nil {
		t.Fatal(err)
	}
	cr, err := c.CreateContainer(ctx, docker.TestSpec(env, "svc"))
	if err != nil {
		t.Fatal(err)
	}
	if err := c.StartContainer(ctx, cr.ID); err != nil {
		t.Fatal(err)
	}
	docker.WaitReady(t, ctx, c, cr.ID)
	docker.Eventually(t, 30*time.Second, "running in the cache", func() bool {
		ct, ok := inf.Container(cr.ID)
		return ok && ct.State == "running"
	})
	if o := inf.Outages(); len(o) != 0 {
		t.Fatalf("outages before any: %+v", o)
	}

	// The daemon "goes away" for the informer and stops the container.
	p.SetFaults(faultproxy.Faults{ErrorRate: 1})
	if p.CutStreams() == 0 {
		t.Fatal("no event stream to cut")
	}
	docker.Eventually(t, 30*time.Second, "an open outage", func() bool { return len(inf.Outages()) == 1 })
	secs := 5
	if _, err := docker.RawClient().ContainerStop(ctx, cr.ID, client.ContainerStopOptions{Timeout: &secs}); err != nil {
		t.Fatal(err)
	}
	time.Sleep(1500 * time.Millisecond) // a few failed relists and stream reopens
	p.SetFaults(faultproxy.Faults{})

	var ct docker.Container
	docker.Eventually(t, 60*time.Second, "the exit in the cache", func() bool {
		var ok bool
		ct, ok = inf.Container(cr.ID)
		return ok && ct.State == "exited" && !ct.FinishedAt.IsZero()
	})
	// The outage closes at the first successful relist.
	docker.Eventually(t, 30*time.Second, "the outage closed", func() bool {
		o := inf.Outages()
		return len(o) == 1 && time.Since(o[0].End) > 200*time.Millisecond
	})
	o := inf.Outages()[0]
	if ct.FinishedAt.Before(o.Start) || ct.FinishedAt.After(o.End) {
		t.Errorf("exit at %s is outside the outage %s – %s", ct.FinishedAt, o.Start, o.End)
	}
	if err := c.StopAndRemove(ctx, cr.ID, 5*time.Second); err != nil {
		t.Fatal(err)
	}
}
