package docker

import (
	"context"
	"strings"
	"testing"
	"time"

	"berth.dev/berth/internal/governor"
)

// TestPauseAndUnpauseAreIdempotent: pausing a paused container and
// unpausing a running one are success, each answered by the daemon once
// (Docker 20.10 says "is not paused" with a 500, which must not be
// retried as a transient failure), and the container ends up running.
func TestPauseAndUnpauseAreIdempotent(t *testing.T) {
	needDocker(t)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	env := envName(t, "pause")
	cleanupEnv(t, env)
	p := startProxy(t)
	c := newTestClient(t, p.Host(), governor.ProfileCI)
	if _, err := c.EnsureNetwork(ctx, NetworkSpec{Environment: env}); err != nil {
		t.Fatal(err)
	}
	k := startOwned(t, ctx, c, env, 1)[0]

	for _, step := range []struct {
		name string
		do   func(context.Context, string) error
	}{
		{"pause", c.PauseContainer}, {"pause again", c.PauseContainer},
		{"unpause", c.UnpauseContainer}, {"unpause again", c.UnpauseContainer},
	} {
		p.Reset()
		if err := step.do(ctx, k.ID); err != nil {
			t.Fatalf("%s: %v", step.name, err)
		}
		verb := "/pause"
		if strings.HasPrefix(step.name, "unpause") {
			verb = "/unpause"
		}
		sent := 0
		for _, call := range containerCalls(p.Requests(), k.ID) {
			if call == "POST "+verb {
				sent++
			}
		}
		if sent != 1 {
			t.Errorf("%s: POST %s sent %d times, want once (a state conflict is no transient failure)", step.name, verb, sent)
		}
	}
	got, err := c.InspectContainer(ctx, k.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got.State != "running" {
		t.Errorf("state after unpausing twice = %s, want running", got.State)
	}
}
