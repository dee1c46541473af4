package plan

import (
	"maps"
	"testing"
)

func TestContainerRemovalPaths(t *testing.T) {
	for state, want := range map[ContainerState]RemovalPath{
		StateRunning:    RemovalStopThenRemove,
		StateRestarting: RemovalStopThenRemove,
		StateCreated:    RemovalRemoveOnly,
		StateExited:     RemovalRemoveOnly,
		StateDead:       RemovalRemoveOnly,
		StatePaused:     RemovalInspected, // must be unpaused to act on its signal
		StateRemoving:   RemovalInspected,
		"":              RemovalInspected,
		"bogus":         RemovalInspected,
	} {
		if got := ContainerRemoval(ObservedContainer{State: state}); got != want {
			t.Errorf("%q: %s, want %s", state, got, want)
		}
	}
}

// TestTeardownCarriesTheCache: each removal carries the cache's labels and
// what the cache says of the container's state, so the Docker layer need
// not inspect; a network whose removal was refused before gets the
// inspected path again.
func TestTeardownCarriesTheCache(t *testing.T) {
	env := demoEnv()
	obs := converged(t, env)
	paused := container(t, env, "db", "c-db", StatePaused)
	obs = withContainer(obs, paused)
	p := Teardown(env, obs, testOptions())
	want := map[string]RemovalPath{"api": RemovalStopThenRemove, "migrate": RemovalRemoveOnly, "db": RemovalInspected}
	for svc, path := range want {
		op, i := findOp(p, OpRemoveContainer, svc)
		if i < 0 {
			t.Fatalf("no removal of %s in %v", svc, p.Strings())
		}
		if op.Cached == nil || op.Cached.Removal != path {
			t.Errorf("%s: cached %+v, want path %s", svc, op.Cached, path)
			continue
		}
		var c ObservedContainer
		for _, o := range obs.Containers {
			if o.ID == op.ContainerID {
				c = o
			}
		}
		if !maps.Equal(op.Cached.Labels, c.Labels) {
			t.Errorf("%s: cached labels %v, want the container's %v", svc, op.Cached.Labels, c.Labels)
		}
	}
	net, i := findOp(p, OpRemoveNetwork, "")
	if i < 0 || net.Cached == nil || !maps.Equal(net.Cached.Labels, obs.Network.Labels) {
		t.Fatalf("network removal %+v: want the cached labels", net)
	}

	// Once the daemon refused the network, its removal inspects again.
	gone := Observed{Network: obs.Network, NetworkRemoval: &NetworkRemoval{NetworkID: obs.Network.ID, Refusals: 1}}
	p = Teardown(env, gone, testOptions())
	for _, op := range p.Ops {
		if op.Kind == OpRemoveNetwork && op.Cached != nil {
			t.Errorf("%s after a refusal carries the cache: %+v", op, op.Cached)
		}
	}

	// A container the cache has no ID for is found by the Docker layer.
	if c := cachedContainer(ObservedContainer{Name: "x", State: StateRunning}); c != nil {
		t.Errorf("no ID: cached %+v, want nil", c)
	}
}
