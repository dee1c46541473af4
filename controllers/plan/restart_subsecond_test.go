package plan

import (
	"testing"
	"time"
)

// TestCrashLoopWithinOneSecond: a container that crashes 300 ms after each
// start is restarted at once the first time, and its second crash, started
// within the same second as the first run, must still count as a restart
// and wait the 10 s back-off. The stored status has only seconds, so this
// relies on the memory the controller keeps between reconciles
// (RememberRuns); the e2e crash-loop spec caught berth restarting such a
// container twice at once.
func TestCrashLoopWithinOneSecond(t *testing.T) {
	env := simpleEnv("s")
	opts := testOptions()
	obs := Observed{
		Network:    ownedNetwork(env),
		Containers: []ObservedContainer{container(t, env, "s", "c-s", StateRunning)},
	}
	c := &obs.Containers[0]
	c.StartedAt = t0.Add(100 * time.Millisecond)
	observe := func(now time.Time) Plan {
		p := Compute(env, obs, opts, now)
		env.Status = ComputeStatus(env, obs, opts, p, env.Status, now)
		obs.Memory = RememberRuns(env.Status, obs)
		return p
	}
	observe(c.StartedAt)

	c.State, c.ExitCode, c.FinishedAt = StateExited, 1, t0.Add(400*time.Millisecond)
	p := observe(c.FinishedAt)
	if len(p.Ops) != 1 || !p.Ops[0].Restart {
		t.Fatalf("first crash: %v, want an immediate restart", p.Strings())
	}
	c.State, c.StartedAt = StateRunning, t0.Add(500*time.Millisecond)
	observe(c.StartedAt)
	if got := env.Status.Services[0].RestartCount; got != 1 {
		t.Errorf("restartCount after a restart within the same second: %d, want 1", got)
	}

	c.State, c.FinishedAt = StateExited, t0.Add(800*time.Millisecond)
	p = observe(c.FinishedAt)
	w, ok := p.Waiting["s"]
	if !ok || w.Reason != WaitCrashLoopBackOff || !w.Until.Equal(c.FinishedAt.Add(10*time.Second)) {
		t.Fatalf("second crash: plan %v, waiting %+v; want a 10s CrashLoopBackOff", p.Strings(), w)
	}
	if got := env.Status.Services[0].RestartCount; got != 1 {
		t.Errorf("restartCount: %d, want 1", got)
	}

	// Memory read back from the stored status alone (a restarted manager)
	// still knows the run it describes.
	obs.Memory = nil
	if p := Compute(env, obs, opts, c.FinishedAt); p.Waiting["s"].Reason != WaitCrashLoopBackOff {
		t.Errorf("from the stored status: %v, want the back-off to hold", p.Strings())
	}
}
