package plan

import (
	"testing"
	"time"

	"berth.dev/berth/apis/v1alpha1"
)

// TestCrashLoopThroughStatus runs a container that keeps crashing through
// Compute, the executor and ComputeStatus, with the back-off remembered only
// in the stored status (as after a manager restart every time): the waits
// are the kubelet's 10, 20, 40 … 300 s, and a 10-minute run resets them.
func TestCrashLoopThroughStatus(t *testing.T) {
	env := simpleEnv("s")
	opts := testOptions()
	start := t0.Add(300 * time.Millisecond) // Docker's times are finer than the API's
	obs := Observed{
		Network:    ownedNetwork(env),
		Containers: []ObservedContainer{container(t, env, "s", "c-s", StateRunning)},
	}
	obs.Containers[0].StartedAt = start

	observe := func(now time.Time) {
		p := Compute(env, obs, opts, now)
		env.Status = ComputeStatus(env, obs, opts, p, env.Status, now)
	}
	// crashAfter lets the container run for ran, then returns the wait
	// Compute imposes before restarting it, and restarts it then.
	crashAfter := func(ran time.Duration) time.Duration {
		t.Helper()
		c := &obs.Containers[0]
		c.State, c.ExitCode, c.FinishedAt = StateExited, 1, c.StartedAt.Add(ran)
		observe(c.FinishedAt)
		// The first crash of a streak restarts at once; later ones wait.
		due := c.FinishedAt
		if w, ok := Compute(env, obs, opts, c.FinishedAt).Waiting["s"]; ok {
			if w.Reason != WaitCrashLoopBackOff {
				t.Fatalf("right after the crash: waiting %+v, want CrashLoopBackOff or an immediate restart", w)
			}
			due = w.Until
			if early := Compute(env, obs, opts, due.Add(-time.Millisecond)); !early.Empty() {
				t.Fatalf("restart planned before the back-off ended: %v", early.Strings())
			}
		}
		p := Compute(env, obs, opts, due)
		if len(p.Ops) != 1 || p.Ops[0].Kind != OpStartContainer || !p.Ops[0].Restart {
			t.Fatalf("at the end of the back-off: %v, want one restart", p.Strings())
		}
		c.State, c.StartedAt = StateRunning, due // Docker keeps FinishedAt
		observe(due)
		return due.Sub(c.FinishedAt)
	}

	observe(start)
	want := []time.Duration{0, 10, 20, 40, 80, 160, 300, 300}
	for i, w := range want {
		if got := crashAfter(time.Second); got != w*time.Second {
			t.Errorf("crash %d: back-off %s, want %s", i+1, got, w*time.Second)
		}
		if got := env.Status.Services[0].RestartCount; got != int32(i+1) {
			t.Errorf("after restart %d: restartCount %d", i+1, got)
		}
	}
	if got := crashAfter(10 * time.Minute); got != 0 {
		t.Errorf("after a 10-minute run: back-off %s, want it reset (immediate restart)", got)
	}
	if got := crashAfter(time.Second); got != 10*time.Second {
		t.Errorf("next quick crash: back-off %s, want 10s", got)
	}
	if got := env.Status.Services[0].RestartCount; got != int32(len(want)+2) {
		t.Errorf("restartCount %d, want %d: a reset streak keeps the total", got, len(want)+2)
	}
}

func TestTrackRun(t *testing.T) {
	b := DefaultBackoff()
	c := ObservedContainer{ID: "c", State: StateRunning, StartedAt: t0.Add(100 * time.Second), FinishedAt: t0.Add(50 * time.Second)}
	tests := []struct {
		name string
		c    ObservedContainer
		m    ServiceMemory
		want runInfo
	}{
		{"new container starts a new history", c, ServiceMemory{ContainerID: "other", RestartCount: 4, RestartStreak: 3}, runInfo{}},
		{"same run, second precision", c, ServiceMemory{ContainerID: "c", StartedAt: t0.Add(100 * time.Second), RestartCount: 4, RestartStreak: 3},
			runInfo{restarts: 4, loopRestarts: 3}},
		{"restarted after a short run", c, ServiceMemory{ContainerID: "c", StartedAt: t0, RestartCount: 4, RestartStreak: 3},
			runInfo{restarts: 5, loopRestarts: 4, lastCrash: t0.Add(50 * time.Second), newRun: true}},
		{"restarted after a long run", ObservedContainer{ID: "c", State: StateRunning, StartedAt: t0.Add(time.Hour), FinishedAt: t0.Add(59 * time.Minute)},
			ServiceMemory{ContainerID: "c", StartedAt: t0, RestartCount: 4, RestartStreak: 3}, runInfo{restarts: 5, loopRestarts: 1, lastCrash: t0.Add(59 * time.Minute), newRun: true}},
		{"memory from before the first start", c, ServiceMemory{ContainerID: "c"}, runInfo{}},
	}
	for _, tt := range tests {
		if got := trackRun(tt.c, tt.m, b, nil); got != tt.want {
			t.Errorf("%s: %+v, want %+v", tt.name, got, tt.want)
		}
	}
}

func TestMemoryFromStatusRoundTrip(t *testing.T) {
	code := int32(3)
	st := v1alpha1.EnvironmentStatus{Services: []v1alpha1.ServiceStatus{
		{Name: "a", ContainerID: "c-a", RestartCount: 7, LastExitCode: &code, StartedAt: secondTime(t0),
			RestartStreak: 4, LastCrashTime: secondTime(t0.Add(-time.Minute)), Message: "exited with code 3"},
		// The streak is a field, not a note in the message.
		{Name: "b", Message: "crash-loop restarts: 5"},
		{Name: "c", RestartStreak: -2},
	}}
	m := MemoryFromStatus(st)
	a := m["a"]
	if a.ContainerID != "c-a" || a.RestartCount != 7 || a.RestartStreak != 4 || !a.StartedAt.Equal(t0) ||
		!a.LastCrashTime.Equal(t0.Add(-time.Minute)) || a.LastExitCode == nil || *a.LastExitCode != 3 {
		t.Errorf("memory of a: %+v", a)
	}
	code = 9
	if *a.LastExitCode != 3 {
		t.Error("memory aliases the status")
	}
	if m["b"].RestartStreak != 0 {
		t.Errorf("a message gave a streak of %d, want 0: it is read from restartStreak only", m["b"].RestartStreak)
	}
	if m["c"].RestartStreak != 0 {
		t.Errorf("negative restartStreak gave %d, want 0", m["c"].RestartStreak)
	}
}
