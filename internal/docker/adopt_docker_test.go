package docker

import (
	"context"
	"testing"
	"time"

	"berth.dev/berth/internal/governor"
)

// TestAdoptionChecksEnvironmentAndUID puts each kind of object under the
// name another Environment (or another incarnation, volume or service)
// would ask for: the same manager owns it, so only the Environment labels
// can tell it is not the one wanted. Every ensure and create retry must
// refuse it as a Conflict instead of handing it over.
func TestAdoptionChecksEnvironmentAndUID(t *testing.T) {
	needDocker(t)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	c := newTestClient(t, dockerHost, governor.ProfileCI)
	env, other := envName(t, "own"), envName(t, "oth")
	cleanupEnv(t, env)
	cleanupEnv(t, other)
	uid := "uid-" + env

	net, err := c.EnsureNetwork(ctx, NetworkSpec{Environment: env, EnvironmentUID: uid})
	if err != nil {
		t.Fatal(err)
	}
	if again, err := c.EnsureNetwork(ctx, NetworkSpec{Environment: env, EnvironmentUID: uid}); err != nil || again.ID != net.ID {
		t.Fatalf("EnsureNetwork of the same Environment = %v, %v; want %s", again.ID, err, net.ID)
	}
	for what, s := range map[string]NetworkSpec{
		"another Environment": {Environment: other, EnvironmentUID: "uid-" + other, Name: net.Name},
		"another incarnation": {Environment: env, EnvironmentUID: "uid-earlier", Name: net.Name},
	} {
		if n, err := c.EnsureNetwork(ctx, s); !IsConflict(err) {
			t.Errorf("EnsureNetwork for %s over %s = %v, %v; want a Conflict", what, net.Name, n.ID, err)
		}
	}

	vol, err := c.EnsureVolume(ctx, VolumeSpec{Environment: env, EnvironmentUID: uid, Volume: "data"})
	if err != nil {
		t.Fatal(err)
	}
	for what, s := range map[string]VolumeSpec{
		"another Environment": {Environment: other, EnvironmentUID: "uid-" + other, Volume: "data", Name: vol.Name},
		"another volume":      {Environment: env, EnvironmentUID: uid, Volume: "logs", Name: vol.Name},
	} {
		if v, err := c.EnsureVolume(ctx, s); !IsConflict(err) {
			t.Errorf("EnsureVolume for %s over %s = %+v, %v; want a Conflict", what, vol.Name, v, err)
		}
	}

	web := spec(env, "web")
	created, err := c.CreateContainer(ctx, web)
	if err != nil {
		t.Fatal(err)
	}
	if again, err := c.CreateContainer(ctx, web); err != nil || !again.Adopted || again.ID != created.ID {
		t.Fatalf("create retry of the same container = %+v, %v; want it adopted", again, err)
	}
	foreignEnv := spec(other, "web")
	foreignEnv.Name, foreignEnv.Network = web.name(), net.Name
	earlier := spec(env, "web")
	earlier.EnvironmentUID = "uid-earlier"
	otherService := spec(env, "api")
	otherService.Name = web.name()
	for what, s := range map[string]ContainerSpec{
		"another Environment": foreignEnv,
		"another incarnation": earlier,
		"another service":     otherService,
	} {
		// Same manager, same spec hash: only the labels differ.
		if got, err := c.CreateContainer(ctx, s); !IsConflict(err) {
			t.Errorf("CreateContainer for %s over %s = %+v, %v; want a Conflict", what, web.name(), got, err)
		}
	}
}
