package docker

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/moby/moby/api/types/container"
	"github.com/moby/moby/client"

	v1 "berth.dev/berth/apis/v1alpha1"
	"berth.dev/berth/internal/docker/faultproxy"
	"berth.dev/berth/internal/governor"
)

// disconnects are the disconnect requests the proxy saw, with statuses.
func disconnects(reqs []faultproxy.Request) []faultproxy.Request {
	var out []faultproxy.Request
	for _, r := range reqs {
		if r.Method == "POST" && strings.Contains(r.URI, "/disconnect") {
			out = append(out, r)
		}
	}
	return out
}

// TestDisconnectStaleEndpointsOfGoneContainers: after every container of
// an Environment is removed, clearing its stale endpoints disconnects, by
// name, each container name berth created whose container is gone; the
// daemon's "no such endpoint" for names with nothing stale is tolerated,
// and the network is then removed without force. (A real stale endpoint
// comes from the daemon's own store going wrong and cannot be made on
// purpose; this is the path a teardown takes all the same.)
func TestDisconnectStaleEndpointsOfGoneContainers(t *testing.T) {
	needDocker(t)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	env := envName(t, "stale")
	cleanupEnv(t, env)
	p := startProxy(t)
	c := newTestClient(t, p.Host(), governor.ProfileCI)
	n, err := c.EnsureNetwork(ctx, NetworkSpec{Environment: env})
	if err != nil {
		t.Fatal(err)
	}
	cr, err := c.CreateContainer(ctx, spec(env, "app", "--http-port", "0"))
	if err != nil {
		t.Fatal(err)
	}
	if err := c.StartContainer(ctx, cr.ID); err != nil {
		t.Fatal(err)
	}
	if err := c.StopAndRemove(ctx, cr.ID, 2*time.Second); err != nil {
		t.Fatal(err)
	}
	p.Reset()

	names := []string{ContainerName(env, "app"), "/" + ContainerName(env, "never-created")}
	got, err := c.DisconnectStaleEndpoints(ctx, n.Name, names)
	if err != nil {
		t.Fatalf("DisconnectStaleEndpoints of gone containers: %v", err)
	}
	if got != 0 {
		t.Errorf("disconnected %d endpoints, want 0: the daemon had none left under those names", got)
	}
	ds := disconnects(p.Requests())
	if len(ds) != len(names) {
		t.Fatalf("saw %d disconnect requests %v, want one per gone container name (%d)", len(ds), ds, len(names))
	}
	for _, r := range ds {
		if !strings.Contains(r.URI, n.ID) || r.Status != 404 {
			t.Errorf("disconnect %s answered %d, want a 404 (no such endpoint) on network %s", r.URI, r.Status, shortID(n.ID))
		}
	}
	if err := c.RemoveNetwork(ctx, n.ID); err != nil {
		t.Fatalf("RemoveNetwork after clearing: %v", err)
	}
	if _, err := raw.NetworkInspect(ctx, n.ID, client.NetworkInspectOptions{}); err == nil {
		t.Fatal("network still exists")
	}
	// Gone already: nothing to do, no error.
	if _, err := c.DisconnectStaleEndpoints(ctx, n.ID, names); err != nil {
		t.Fatalf("DisconnectStaleEndpoints of a removed network: %v", err)
	}
}

// TestDisconnectStaleEndpointsSparesDecoys: a container berth does not own
// is never disconnected, forcibly or otherwise. One that holds one of
// berth's container names (the name of a removed container can be taken
// by anyone) is skipped by name; one attached to berth's network makes
// berth refuse to touch that network at all.
func TestDisconnectStaleEndpointsSparesDecoys(t *testing.T) {
	needDocker(t)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	env := envName(t, "stdecoy")
	cleanupEnv(t, env)
	p := startProxy(t)
	c := newTestClient(t, p.Host(), governor.ProfileCI)
	n, err := c.EnsureNetwork(ctx, NetworkSpec{Environment: env})
	if err != nil {
		t.Fatal(err)
	}
	foreign := map[string]string{v1.LabelManagedBy: foreignID, v1.LabelEnvironment: env}
	decoy := func(name string, netMode string) string {
		t.Helper()
		r, err := raw.ContainerCreate(ctx, client.ContainerCreateOptions{
			Name:       name,
			Config:     &container.Config{Image: testImage, Labels: foreign, Cmd: []string{"--http-port", "0"}},
			HostConfig: &container.HostConfig{NetworkMode: container.NetworkMode(netMode), Resources: container.Resources{Memory: 32 << 20}},
		})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() {
			cctx, ccancel := context.WithTimeout(context.Background(), time.Minute)
			defer ccancel()
			if err := rawStopRemove(cctx, r.ID); err != nil {
				t.Errorf("remove decoy %s: %v", name, err)
			}
		})
		if _, err := raw.ContainerStart(ctx, r.ID, client.ContainerStartOptions{}); err != nil {
			t.Fatal(err)
		}
		return r.ID
	}

	// A decoy holding berth's name for service "web", on no network of
	// berth's: skipped by name, no request about it.
	named := decoy(ContainerName(env, "web"), "none")
	p.Reset()
	if _, err := c.DisconnectStaleEndpoints(ctx, n.ID, []string{ContainerName(env, "web")}); err != nil {
		t.Fatalf("with a decoy holding the name: %v", err)
	}
	if ds := disconnects(p.Requests()); len(ds) != 0 {
		t.Fatalf("a disconnect went out for a name a live container holds: %v", ds)
	}

	// A decoy on berth's network: berth touches nothing there.
	attached := decoy(testPrefix+"-decoy-on-"+env, n.Name)
	p.Reset()
	_, err = c.DisconnectStaleEndpoints(ctx, n.ID, []string{ContainerName(env, "app"), testPrefix + "-decoy-on-" + env})
	if !IsConflict(err) {
		t.Fatalf("DisconnectStaleEndpoints with a foreign container attached = %v, want Conflict", err)
	}
	if ds := disconnects(p.Requests()); len(ds) != 0 {
		t.Fatalf("a disconnect went out on a network a foreign container uses: %v", ds)
	}
	if err := c.RemoveNetwork(ctx, n.ID); !IsConflict(err) || IsActiveEndpoints(err) {
		t.Fatalf("RemoveNetwork with a foreign container attached = %v, want a Conflict that is no stale-endpoint refusal", err)
	}
	for _, id := range []string{named, attached} {
		if st, err := rawState(ctx, id); err != nil || st != container.StateRunning {
			t.Fatalf("decoy %s disturbed: %s %v", shortID(id), st, err)
		}
	}
	in, err := raw.NetworkInspect(ctx, n.ID, client.NetworkInspectOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := in.Network.Containers[attached]; !ok {
		t.Fatalf("the attached decoy was disconnected: %v", in.Network.Containers)
	}
	// Let cleanup remove the network: the decoy goes first.
	if err := rawStopRemove(ctx, attached); err != nil {
		t.Fatal(err)
	}
}
