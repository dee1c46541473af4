package docker

import (
	"bytes"
	"context"
	"strings"
	"testing"
	"time"

	"berth.dev/berth/internal/governor"
)

// TestReadsRefuseContainersBerthDoesNotOwn points every call that takes a
// container ID from outside (logs, exec, stats, inspect) at the decoys: one
// container with no labels at all, one with another manager's identity. A
// status is writable by anyone who may write status, so an ID alone proves
// nothing; the Docker layer must check the label itself.
func TestReadsRefuseContainersBerthDoesNotOwn(t *testing.T) {
	needDocker(t)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	c := newTestClient(t, dockerHost, governor.ProfileCI)
	targets := map[string]string{
		"unlabelled by ID": decoys.containers[0], "unlabelled by name": decoys.unlabelledContainer,
		"foreign by ID": decoys.containers[1], "foreign by name": decoys.foreignContainer,
	}
	for what, id := range targets {
		if _, err := c.InspectContainer(ctx, id); !IsNotOwned(err) {
			t.Errorf("InspectContainer of the %s decoy: %v, want NotOwned", what, err)
		}
		var out bytes.Buffer
		if err := c.Logs(ctx, id, LogOptions{Tail: 100}, &out, &out); !IsNotOwned(err) || out.Len() > 0 {
			t.Errorf("Logs of the %s decoy: %v, %d bytes; want NotOwned and nothing", what, err, out.Len())
		}
		if res, err := c.Exec(ctx, id, []string{"/nonexistent"}, 10*time.Second); !IsNotOwned(err) {
			t.Errorf("Exec in the %s decoy: %+v, %v; want NotOwned", what, res, err)
		}
		if u, err := c.Usage(ctx, id); !IsNotOwned(err) {
			t.Errorf("Usage of the %s decoy: %+v, %v; want NotOwned", what, u, err)
		}
	}
}

// TestLogTailIsBounded: Tail 0 or less is no old lines (never the whole
// log), and a tail is honoured for berth's own container.
func TestLogTailIsBounded(t *testing.T) {
	needDocker(t)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	c := newTestClient(t, dockerHost, governor.ProfileCI)
	env := envName(t, "tail")
	cleanupEnv(t, env)
	if _, err := c.EnsureNetwork(ctx, NetworkSpec{Environment: env, EnvironmentUID: "uid-" + env}); err != nil {
		t.Fatal(err)
	}
	created, err := c.CreateContainer(ctx, spec(env, "web", "--http-port", "0", "--log-lines", "30"))
	if err != nil {
		t.Fatal(err)
	}
	if err := c.StartContainer(ctx, created.ID); err != nil {
		t.Fatal(err)
	}
	waitReady(t, ctx, c, created.ID)
	lines := func(tail int) []string {
		t.Helper()
		var out bytes.Buffer
		if err := c.Logs(ctx, created.ID, LogOptions{Tail: tail}, &out, &out); err != nil {
			t.Fatalf("Logs tail %d: %v", tail, err)
		}
		return strings.FieldsFunc(out.String(), func(r rune) bool { return r == '\n' })
	}
	if all := lines(MaxLogTail); len(all) < 30 {
		t.Fatalf("tail %d: %d lines, want the 30 logged and more", MaxLogTail, len(all))
	}
	for _, tail := range []int{0, -1} {
		if got := lines(tail); len(got) != 0 {
			t.Errorf("tail %d: %d lines, want none (0 or less is not everything)", tail, len(got))
		}
	}
	if got := lines(5); len(got) != 5 {
		t.Errorf("tail 5: %d lines, want 5", len(got))
	}
	if _, err := c.InspectContainer(ctx, created.ID); err != nil {
		t.Errorf("InspectContainer of an owned container: %v", err)
	}
}
