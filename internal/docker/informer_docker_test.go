package docker_test

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/moby/moby/client"

	"berth.dev/berth/internal/docker"
	"berth.dev/berth/internal/docker/faultproxy"
	"berth.dev/berth/internal/governor"
	"berth.dev/berth/internal/informer"
)

// recorder collects handler calls per environment.
type recorder struct {
	mu  sync.Mutex
	evs []informer.Event
}

func (r *recorder) handle(env string, ev informer.Event) {
	if ev.Environment != env {
		panic("handler got an env that is not the event's")
	}
	r.mu.Lock()
	r.evs = append(r.evs, ev)
	r.mu.Unlock()
}

func (r *recorder) has(match func(informer.Event) bool) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, ev := range r.evs {
		if match(ev) {
			return true
		}
	}
	return false
}

func startInformer(t *testing.T, ctx context.Context, c *docker.Client) (*informer.Informer, *recorder) {
	t.Helper()
	inf := informer.New(c)
	rec := &recorder{}
	inf.AddHandler(rec.handle)
	ictx, stop := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() { inf.Run(ictx); close(done) }()
	t.Cleanup(func() { stop(); <-done })
	if err := inf.WaitForSync(ctx); err != nil {
		t.Fatal(err)
	}
	if !inf.HasSynced() {
		t.Fatal("HasSynced false after WaitForSync")
	}
	return inf, rec
}

// TestInformerSeesOutsideKill: a berth container killed with the plain
// Docker client shows as exited (137) in the cache, and reaches the
// handler with its environment, within 2 s.
func TestInformerSeesOutsideKill(t *testing.T) {
	docker.NeedDocker(t)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	env := docker.EnvName(t, "kill")
	docker.CleanupEnv(t, env)
	c := docker.NewTestClient(t, docker.SharedDockerHost(), governor.ProfileCI)
	inf, rec := startInformer(t, ctx, c)

	if _, err := c.EnsureNetwork(ctx, docker.NetworkSpec{Environment: env}); err != nil {
		t.Fatal(err)
	}
	s := docker.TestSpec(env, "victim")
	s.Ports = []docker.PortSpec{{ContainerPort: 8080}}
	cr, err := c.CreateContainer(ctx, s)
	if err != nil {
		t.Fatal(err)
	}
	if err := c.StartContainer(ctx, cr.ID); err != nil {
		t.Fatal(err)
	}
	docker.Eventually(t, 30*time.Second, "cache shows the container running with its host port and IP", func() bool {
		got, ok := inf.Container(cr.ID)
		return ok && got.State == "running" && len(got.Ports) == 1 && got.Ports[0].HostPort != 0 && got.IPAddress != ""
	})
	if cs := inf.Containers(env); len(cs) != 1 || cs[0].Service != "victim" || cs[0].SpecHash != "h1" {
		t.Fatalf("Containers(%s) = %+v", env, cs)
	}
	if ns := inf.Networks(env); len(ns) != 1 || ns[0].Name != docker.NetworkName(env) {
		t.Fatalf("Networks(%s) = %+v", env, ns)
	}
	reads := c.Stats().Reads
	for i := 0; i < 100; i++ {
		inf.Containers(env)
		inf.All()
	}
	if c.Stats().Reads != reads {
		t.Fatal("cache reads cost Docker calls")
	}

	killed := time.Now()
	if _, err := docker.RawClient().ContainerKill(ctx, cr.ID, client.ContainerKillOptions{Signal: "KILL"}); err != nil {
		t.Fatal(err)
	}
	docker.Eventually(t, 30*time.Second, "die reaches the handler", func() bool {
		return rec.has(func(ev informer.Event) bool {
			return ev.ID == cr.ID && ev.Action == "die" && ev.Environment == env && ev.Container.ExitCode == 137
		})
	})
	seen := time.Since(killed)
	got, _ := inf.Container(cr.ID)
	if got.State != "exited" || got.ExitCode != 137 || got.FinishedAt.IsZero() {
		t.Fatalf("cache after kill: %+v", got)
	}
	t.Logf("outside kill seen by the informer after %s", seen)
	if seen > 2*time.Second {
		t.Fatalf("the informer saw the kill after %s, want within 2s", seen)
	}
}

// TestInformerRelistsAfterStreamCut: the event stream is cut and cannot
// reconnect for a while; changes made meanwhile (create, start, kill,
// remove, a new volume and network) all reach the cache and the handlers
// once it resumes, through the replay from the last seen event and a relist.
func TestInformerRelistsAfterStreamCut(t *testing.T) {
	docker.NeedDocker(t)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	env := docker.EnvName(t, "cut")
	env2 := docker.EnvName(t, "cut2")
	docker.CleanupEnv(t, env)
	docker.CleanupEnv(t, env2)
	direct := docker.NewTestClient(t, docker.SharedDockerHost(), governor.ProfileCI)
	if _, err := direct.EnsureNetwork(ctx, docker.NetworkSpec{Environment: env}); err != nil {
		t.Fatal(err)
	}
	mk := func(svc string) string {
		cr, err := direct.CreateContainer(ctx, docker.TestSpec(env, svc))
		if err != nil {
			t.Fatal(err)
		}
		if err := direct.StartContainer(ctx, cr.ID); err != nil {
			t.Fatal(err)
		}
		return cr.ID
	}
	toKill, toRemove := mk("tokill"), mk("toremove")

	p := docker.StartProxy(t)
	inf, rec := startInformer(t, ctx, docker.NewTestClient(t, p.Host(), governor.ProfileCI))
	docker.Eventually(t, 30*time.Second, "both containers cached as running", func() bool {
		a, ok1 := inf.Container(toKill)
		b, ok2 := inf.Container(toRemove)
		return ok1 && ok2 && a.State == "running" && b.State == "running"
	})
	docker.Eventually(t, 30*time.Second, "both event streams open", func() bool { return p.OpenStreams() >= 2 })
	relists := inf.Stats().Relists

	// Cut the streams and keep them from coming back.
	p.SetFaults(faultproxy.Faults{DropBeforeRate: 1, Match: func(method, path string) bool {
		return strings.HasSuffix(path, "/events")
	}})
	if n := p.CutStreams(); n < 2 {
		t.Fatalf("cut %d streams, want the informer's 2", n)
	}
	restarts := inf.Stats().StreamRestarts
	docker.Eventually(t, 30*time.Second, "the informer notices the cut", func() bool { return inf.Stats().StreamRestarts >= restarts+2 })

	// Changes while the informer is blind.
	added := mk("added")
	if _, err := docker.RawClient().ContainerKill(ctx, toKill, client.ContainerKillOptions{Signal: "KILL"}); err != nil {
		t.Fatal(err)
	}
	if err := direct.StopAndRemove(ctx, toRemove, 2*time.Second); err != nil {
		t.Fatal(err)
	}
	vol, err := direct.EnsureVolume(ctx, docker.VolumeSpec{Environment: env, Volume: "late"})
	if err != nil {
		t.Fatal(err)
	}
	net2, err := direct.EnsureNetwork(ctx, docker.NetworkSpec{Environment: env2})
	if err != nil {
		t.Fatal(err)
	}
	p.SetFaults(faultproxy.Faults{})

	docker.Eventually(t, 60*time.Second, "every change made during the cut is in the cache", func() bool {
		a, okAdded := inf.Container(added)
		k, okKill := inf.Container(toKill)
		_, okRemoved := inf.Container(toRemove)
		return okAdded && a.State == "running" && okKill && k.State == "exited" && k.ExitCode == 137 &&
			!okRemoved && len(inf.Volumes(env)) == 1 && len(inf.Networks(env2)) == 1
	})
	docker.Eventually(t, 30*time.Second, "handlers heard of every change", func() bool {
		return rec.has(func(ev informer.Event) bool { return ev.ID == added && ev.Environment == env }) &&
			rec.has(func(ev informer.Event) bool {
				return ev.ID == toKill && ev.Container != nil && ev.Container.State == "exited"
			}) &&
			rec.has(func(ev informer.Event) bool { return ev.ID == toRemove && ev.Deleted }) &&
			rec.has(func(ev informer.Event) bool {
				return ev.Kind == informer.KindVolume && ev.Name == vol.Name && ev.Environment == env
			}) &&
			rec.has(func(ev informer.Event) bool {
				return ev.Kind == informer.KindNetwork && ev.ID == net2.ID && ev.Environment == env2
			})
	})
	st := inf.Stats()
	if st.Relists <= relists {
		t.Fatalf("no relist after the stream loss: %+v", st)
	}
	if gs := direct.Stats(); gs.EventStreamDrops != 0 {
		t.Fatalf("the direct client counted stream drops it never had: %d", gs.EventStreamDrops)
	}
	t.Logf("informer stats after the cut: %+v", st)

	// Removal while following: the destroy event deletes the entry.
	if err := direct.StopAndRemove(ctx, added, 2*time.Second); err != nil {
		t.Fatal(err)
	}
	docker.Eventually(t, 30*time.Second, "destroy removes the entry", func() bool {
		_, ok := inf.Container(added)
		return !ok
	})
}
