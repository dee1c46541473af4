package docker

import (
	"context"
	"testing"
	"time"

	"berth.dev/berth/internal/governor"
)

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
