package docker

import (
	"context"
	"strings"
	"testing"
	"time"

	"berth.dev/berth/internal/docker/faultproxy"
	"berth.dev/berth/internal/governor"
)

// containerCalls are the recorded requests about container id, as
// "METHOD /verb" ("GET /json", "POST /stop", "DELETE ").
func containerCalls(reqs []faultproxy.Request, id string) []string {
	var out []string
	for _, r := range reqs {
		path, _, _ := strings.Cut(r.URI, "?")
		i := strings.Index(path, "/containers/"+id)
		if i < 0 {
			continue
		}
		out = append(out, r.Method+" "+path[i+len("/containers/"+id):])
	}
	return out
}

// startOwned creates and starts n testapp containers of env through c and
// returns them as the cache would know them.
func startOwned(t *testing.T, ctx context.Context, c *Client, env string, n int, args ...string) []KnownContainer {
	t.Helper()
	var out []KnownContainer
	for i := 0; i < n; i++ {
		cr, err := c.CreateContainer(ctx, spec(env, "s"+string(rune('a'+i)), args...))
		if err != nil {
			t.Fatal(err)
		}
		if err := c.StartContainer(ctx, cr.ID); err != nil {
			t.Fatal(err)
		}
		waitReady(t, ctx, c, cr.ID)
		got, err := c.InspectContainer(ctx, cr.ID)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, KnownContainer{ID: got.ID, Name: got.Name, Labels: got.Labels, Running: got.Running()})
	}
	return out
}

// TestRemoveKnownAsksOnlyStopAndRemove: with existence and the running
// state from the cache, a teardown asks Docker for one stop and one remove
// per container, and one remove for the network: no inspect, no wait, no
// force, and everything is gone afterwards, stopped gracefully.
func TestRemoveKnownAsksOnlyStopAndRemove(t *testing.T) {
	needDocker(t)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	env := envName(t, "known")
	cleanupEnv(t, env)
	p := startProxy(t)
	c := newTestClient(t, p.Host(), governor.ProfileCI)
	net, err := c.EnsureNetwork(ctx, NetworkSpec{Environment: env})
	if err != nil {
		t.Fatal(err)
	}
	// A second's delay on SIGTERM: a stop that did not wait for the exit
	// would make the remove meet a running container.
	known := startOwned(t, ctx, c, env, 3, "--stop-delay", "1s")
	// The manager pings the daemon at start: the version it answers tells
	// whether an Environment's containers go one at a time (exitturns.go).
	if _, err := c.Ping(ctx); err != nil {
		t.Fatal(err)
	}
	p.Reset()

	for _, k := range known {
		if err := c.RemoveKnown(ctx, k, 10*time.Second); err != nil {
			t.Fatalf("RemoveKnown %s: %v", k.Name, err)
		}
	}
	if err := c.RemoveKnownNetwork(ctx, KnownNetwork{ID: net.ID, Name: net.Name, Labels: net.Labels}); err != nil {
		t.Fatalf("RemoveKnownNetwork: %v", err)
	}

	reqs := p.Requests()
	for _, k := range known {
		got := containerCalls(reqs, k.ID)
		if want := []string{"POST /stop", "DELETE "}; strings.Join(got, ",") != strings.Join(want, ",") {
			t.Errorf("calls for %s = %q, want %q", k.Name, got, want)
		}
		if _, err := rawState(ctx, k.ID); err == nil {
			t.Errorf("%s still exists", k.Name)
		}
	}
	var netCalls []string
	for _, r := range reqs {
		if strings.Contains(r.URI, "/networks") {
			netCalls = append(netCalls, r.Method+" "+r.URI)
		}
	}
	if len(netCalls) != 1 || !strings.HasPrefix(netCalls[0], "DELETE ") {
		t.Errorf("network calls = %q, want one DELETE", netCalls)
	}
	if len(reqs) != 2*len(known)+1 {
		t.Errorf("%d calls in all, want %d: %v", len(reqs), 2*len(known)+1, reqs)
	}
}

// TestRemoveKnownFallsBackWhenTheCacheIsBehind: the cache says a container
// is not running while it runs (it restarted since the last event). The
// remove without force is refused with a 409, and the container is then
// torn down by the inspected protocol (inspect, graceful stop, wait,
// verify, remove) instead of being forced.
func TestRemoveKnownFallsBackWhenTheCacheIsBehind(t *testing.T) {
	needDocker(t)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	env := envName(t, "behind")
	cleanupEnv(t, env)
	p := startProxy(t)
	c := newTestClient(t, p.Host(), governor.ProfileCI)
	if _, err := c.EnsureNetwork(ctx, NetworkSpec{Environment: env}); err != nil {
		t.Fatal(err)
	}
	k := startOwned(t, ctx, c, env, 1)[0]
	k.Running = false // what a cache that missed the start would say
	p.Reset()

	if err := c.RemoveKnown(ctx, k, 10*time.Second); err != nil {
		t.Fatalf("RemoveKnown with a stale cache: %v", err)
	}
	if _, err := rawState(ctx, k.ID); err == nil {
		t.Fatalf("%s still exists after the fallback", k.Name)
	}
	reqs := p.Requests()
	var statuses []int
	for _, r := range reqs {
		if r.Method == "DELETE" && strings.Contains(r.URI, k.ID) {
			statuses = append(statuses, r.Status)
		}
	}
	if len(statuses) != 2 || statuses[0] != 409 || statuses[1] != 204 {
		t.Errorf("removes of %s answered %v, want [409 204] (refused while running, then removed once stopped)", k.Name, statuses)
	}
	got := strings.Join(containerCalls(reqs, k.ID), ",")
	if want := "DELETE ,GET /json,POST /stop,POST /wait,GET /json,DELETE "; got != want {
		t.Errorf("calls = %s, want %s", got, want)
	}
}

// TestRemoveKnownRefusesForeign: labels that are not this manager's (a
// decoy's) are refused before any call goes to Docker.
func TestRemoveKnownRefusesForeign(t *testing.T) {
	needDocker(t)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	p := startProxy(t)
	c := newTestClient(t, p.Host(), governor.ProfileCI)
	r, err := raw.ContainerInspect(ctx, decoys.foreignContainer, clientInspectOpts())
	if err != nil {
		t.Fatal(err)
	}
	foreign := r.Container.Config
	err = c.RemoveKnown(ctx, KnownContainer{ID: r.Container.ID, Name: decoys.foreignContainer, Labels: foreign.Labels, Running: true}, time.Second)
	if !IsNotOwned(err) {
		t.Fatalf("RemoveKnown of another manager's container = %v, want not owned", err)
	}
	err = c.RemoveKnownNetwork(ctx, KnownNetwork{ID: decoys.networks[1], Name: decoys.foreignNetwork, Labels: foreign.Labels})
	if !IsNotOwned(err) {
		t.Fatalf("RemoveKnownNetwork of another manager's network = %v, want not owned", err)
	}
	if reqs := p.Requests(); len(reqs) != 0 {
		t.Fatalf("calls reached Docker: %v", reqs)
	}
}
