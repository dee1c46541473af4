package plan

import (
	"strings"
	"testing"
	"time"
)

func TestInOutage(t *testing.T) {
	out := []Outage{{Start: t0, End: t0.Add(20 * time.Second)}}
	for _, tc := range []struct {
		at   time.Time
		want bool
	}{
		{t0.Add(5 * time.Second), true},
		{t0, true},
		{t0.Add(20 * time.Second), true},
		{t0.Add(-time.Second), true}, // the daemon's stop can beat the stream break
		{t0.Add(-outageLead - time.Millisecond), false},
		{t0.Add(21 * time.Second), false},
		{time.Time{}, false},
	} {
		if got := inOutage(out, tc.at); got != tc.want {
			t.Errorf("inOutage(%s) = %v, want %v", tc.at.Sub(t0), got, tc.want)
		}
	}
	if inOutage(nil, t0) {
		t.Error("no outages, yet in one")
	}
}

// TestDaemonRestartsAreNoCrashes: a Docker daemon stopped and started under
// a running Environment stops its containers; berth restarts them, at once
// and without growing the crash-loop streak, so a second daemon restart
// within ten minutes does not wait out a back-off either. A real crash
// right after still counts from where the streak was.
func TestDaemonRestartsAreNoCrashes(t *testing.T) {
	env := simpleEnv("s")
	opts := testOptions()
	start := t0.Add(300 * time.Millisecond)
	obs := Observed{
		Network:    ownedNetwork(env),
		Containers: []ObservedContainer{container(t, env, "s", "c-s", StateRunning)},
	}
	obs.Containers[0].StartedAt = start
	c := &obs.Containers[0]
	observe := func(now time.Time) {
		p := Compute(env, obs, opts, now)
		env.Status = ComputeStatus(env, obs, opts, p, env.Status, now)
		obs.Memory = RememberRuns(env.Status, obs)
	}
	observe(start)

	// exitAndRestart: the container exits at end with code; berth sees it
	// at seen and must restart it then (no back-off); it runs again.
	exitAndRestart := func(what string, end, seen time.Time, code int32) Op {
		t.Helper()
		c.State, c.ExitCode, c.FinishedAt = StateExited, code, end
		p := Compute(env, obs, opts, seen)
		if w, ok := p.Waiting["s"]; ok {
			t.Fatalf("%s: waiting %+v, want an immediate restart", what, w)
		}
		if len(p.Ops) != 1 || p.Ops[0].Kind != OpStartContainer || !p.Ops[0].Restart {
			t.Fatalf("%s: %v, want one restart", what, p.Strings())
		}
		observe(seen)
		c.State, c.StartedAt = StateRunning, seen.Add(100*time.Millisecond) // Docker keeps FinishedAt
		observe(seen.Add(time.Second))
		return p.Ops[0]
	}

	// Two daemon restarts, a minute apart: each stops the container with
	// SIGTERM's exit 0 (or 137 on a kill) inside the outage.
	for i, at := range []time.Time{t0.Add(time.Minute), t0.Add(2 * time.Minute)} {
		obs.Outages = append(obs.Outages, Outage{Start: at, End: at.Add(15 * time.Second)})
		op := exitAndRestart("daemon restart", at.Add(time.Second), at.Add(17*time.Second), 0)
		if !strings.Contains(op.Reason, "daemon outage") || strings.Contains(op.Reason, "backoff") {
			t.Errorf("daemon restart %d: reason %q, want it named a daemon outage, not a backoff", i+1, op.Reason)
		}
		s := env.Status.Services[0]
		if s.RestartStreak != 0 || s.RestartCount != int32(i+1) {
			t.Errorf("after daemon restart %d: restartStreak %d restartCount %d, want 0 and %d", i+1, s.RestartStreak, s.RestartCount, i+1)
		}
	}

	// A real crash after that is the streak's first: an immediate restart,
	// and the next one backs off 10 s, as without the daemon restarts.
	exitAndRestart("first crash", t0.Add(3*time.Minute), t0.Add(3*time.Minute+time.Second), 1)
	if s := env.Status.Services[0]; s.RestartStreak != 1 || s.LastCrashTime == nil {
		t.Errorf("after the first crash: restartStreak %d lastCrashTime %v, want 1 and set", s.RestartStreak, s.LastCrashTime)
	}
	c.State, c.ExitCode, c.FinishedAt = StateExited, 1, c.StartedAt.Add(time.Second)
	w, ok := Compute(env, obs, opts, c.FinishedAt).Waiting["s"]
	if !ok || w.Reason != WaitCrashLoopBackOff || w.Until.Sub(c.FinishedAt) != 10*time.Second {
		t.Errorf("second crash: waiting %+v, want a 10s CrashLoopBackOff", w)
	}
}

// The controller remembers at most what the stored status says after a
// manager restart: the streak then comes from restartStreak, and an outage
// exit (outages are the running informer's) still does not add to it.
func TestOutageExitKeepsStoredStreak(t *testing.T) {
	env := simpleEnv("s")
	opts := testOptions()
	c := container(t, env, "s", "c-s", StateExited)
	c.StartedAt, c.FinishedAt, c.ExitCode = t0, t0.Add(30*time.Second), 0
	obs := Observed{Network: ownedNetwork(env), Containers: []ObservedContainer{c},
		Memory: map[string]ServiceMemory{"s": {ContainerID: "c-s", StartedAt: t0, RestartCount: 3, RestartStreak: 2}}}
	now := t0.Add(40 * time.Second)
	// Without an outage this exit is crash 3 of a streak: 20 s back-off.
	if w, ok := Compute(env, obs, opts, now).Waiting["s"]; !ok || w.Reason != WaitCrashLoopBackOff {
		t.Fatalf("crash without outage: waiting %+v, want back-off", w)
	}
	obs.Outages = []Outage{{Start: t0.Add(29 * time.Second), End: t0.Add(38 * time.Second)}}
	p := Compute(env, obs, opts, now)
	if len(p.Ops) != 1 || !p.Ops[0].Restart {
		t.Fatalf("exit in an outage: %v (waiting %+v), want an immediate restart", p.Strings(), p.Waiting)
	}
	st := ComputeStatus(env, obs, opts, p, env.Status, now)
	if got := st.Services[0].RestartStreak; got != 2 {
		t.Errorf("restartStreak %d, want the stored 2 unchanged", got)
	}
}

// TestRestartPlannedOnceWhileCacheLags: berth restarted an exited
// container; the next reconcile can run before the informer has the start
// event, and its cache still shows the exit. Restarting it again made a
// second Restarted event (Docker answers a start of a running container
// with 304, which is no error) for one restart.
func TestRestartPlannedOnceWhileCacheLags(t *testing.T) {
	env := simpleEnv("s")
	opts := testOptions()
	c := container(t, env, "s", "c-s", StateExited)
	c.StartedAt, c.FinishedAt, c.ExitCode = t0, t0.Add(time.Hour), 137
	obs := Observed{Network: ownedNetwork(env), Containers: []ObservedContainer{c}}
	now := t0.Add(time.Hour + 100*time.Millisecond)
	p := Compute(env, obs, opts, now)
	if len(p.Ops) != 1 || !p.Ops[0].Restart {
		t.Fatalf("%v, want one restart", p.Strings())
	}
	st := ComputeStatus(env, obs, opts, p, env.Status, now)
	mem := RememberRuns(st, obs)
	MarkRestarted(mem, "s", "c-s", c.FinishedAt, now)
	env.Status, obs.Memory = st, mem

	// The cache lags: the same exit, 50 ms later and again a second later.
	for _, d := range []time.Duration{50 * time.Millisecond, time.Second} {
		later := now.Add(d)
		p = Compute(env, obs, opts, later)
		for _, op := range p.Ops {
			if op.Restart {
				t.Fatalf("%s later, stale cache: restart planned again: %v", d, p.Strings())
			}
		}
		if p.RequeueAfter <= 0 {
			t.Errorf("%s later: no requeue while waiting for the cache", d)
		}
		env.Status = ComputeStatus(env, obs, opts, p, env.Status, later)
		obs.Memory = RememberRuns(env.Status, obs)
	}

	// A new exit after the restart (the cache caught up with start and
	// die) is a crash again: the second of its streak, so it backs off.
	crashed := obs
	crashed.Containers = []ObservedContainer{c}
	crashed.Containers[0].StartedAt, crashed.Containers[0].FinishedAt = now.Add(10*time.Millisecond), now.Add(2*time.Second)
	if w, ok := Compute(env, crashed, opts, now.Add(3*time.Second)).Waiting["s"]; !ok || w.Reason != WaitCrashLoopBackOff {
		t.Errorf("a later exit: waiting %+v, want it handled as the next crash (back-off)", w)
	}
	// A start Docker took but the cache never shows is retried after a while.
	if p := Compute(env, obs, opts, now.Add(restartExpectation+time.Second)); len(p.Ops) != 1 || !p.Ops[0].Restart {
		t.Errorf("after %s with no start seen: %v, want the restart retried", restartExpectation, p.Strings())
	}
}

// TestDaemonShutdownExitsSeenBeforeTheStreamBreaks is the order Docker
// 20.10 really uses: on shutdown it stops every container and sends their
// die events while the event stream still works; only then does the stream
// break. berth sees the exits before it knows of any outage, counts them
// and restarts at once (a start the dying daemon refuses, or one it takes
// and then undoes); once the outage is known, that count is taken back, so
// neither this nor a second daemon restart a minute later backs off.
func TestDaemonShutdownExitsSeenBeforeTheStreamBreaks(t *testing.T) {
	env := simpleEnv("s")
	opts := testOptions()
	obs := Observed{
		Network:    ownedNetwork(env),
		Containers: []ObservedContainer{container(t, env, "s", "c-s", StateRunning)},
	}
	c := &obs.Containers[0]
	c.StartedAt = t0.Add(300 * time.Millisecond)
	observe := func(now time.Time) Plan {
		p := Compute(env, obs, opts, now)
		env.Status = ComputeStatus(env, obs, opts, p, env.Status, now)
		obs.Memory = RememberRuns(env.Status, obs)
		return p
	}
	restartNow := func(what string, now time.Time) Op {
		t.Helper()
		p := observe(now)
		if w, ok := p.Waiting["s"]; ok {
			t.Fatalf("%s: waiting %+v, want an immediate restart", what, w)
		}
		if len(p.Ops) != 1 || !p.Ops[0].Restart {
			t.Fatalf("%s: %v, want a restart", what, p.Strings())
		}
		return p.Ops[0]
	}
	observe(c.StartedAt)

	// Daemon restart 1: the start on the dying daemon fails.
	d := t0.Add(time.Minute)
	c.State, c.ExitCode, c.FinishedAt = StateExited, 0, d
	restartNow("die event before the break", d.Add(100*time.Millisecond))
	obs.Outages = append(obs.Outages, Outage{Start: d.Add(time.Second), End: d.Add(15 * time.Second)})
	op := restartNow("daemon back", d.Add(16*time.Second))
	if !strings.Contains(op.Reason, "daemon outage") {
		t.Errorf("reason %q, want a daemon outage", op.Reason)
	}
	c.State, c.StartedAt = StateRunning, d.Add(16200*time.Millisecond)
	observe(d.Add(17 * time.Second))
	if s := env.Status.Services[0]; s.RestartStreak != 0 {
		t.Errorf("after daemon restart 1: restartStreak %d, want 0", s.RestartStreak)
	}

	// Daemon restart 2, a minute later: the dying daemon takes the start,
	// then kills the container again when it comes back.
	d2 := d.Add(time.Minute)
	c.State, c.ExitCode, c.FinishedAt = StateExited, 0, d2
	restartNow("second die event before the break", d2.Add(100*time.Millisecond))
	c.State, c.StartedAt = StateRunning, d2.Add(200*time.Millisecond)
	observe(d2.Add(300 * time.Millisecond))
	obs.Outages = append(obs.Outages, Outage{Start: d2.Add(time.Second), End: d2.Add(15 * time.Second)})
	c.State, c.ExitCode, c.FinishedAt = StateExited, 137, d2.Add(14*time.Second)
	restartNow("second daemon back", d2.Add(16*time.Second))
	c.State, c.StartedAt = StateRunning, d2.Add(16200*time.Millisecond)
	observe(d2.Add(17 * time.Second))
	if s := env.Status.Services[0]; s.RestartStreak != 0 || s.RestartCount != 3 {
		t.Errorf("after daemon restart 2: restartStreak %d restartCount %d, want 0 and 3 (three runs began)", s.RestartStreak, s.RestartCount)
	}

	// A real crash later is the first of its streak; the next backs off 10 s.
	crash := d2.Add(time.Minute)
	c.State, c.ExitCode, c.FinishedAt = StateExited, 1, crash
	restartNow("first real crash", crash.Add(100*time.Millisecond))
	c.State, c.StartedAt = StateRunning, crash.Add(200*time.Millisecond)
	observe(crash.Add(300 * time.Millisecond))
	c.State, c.FinishedAt = StateExited, crash.Add(time.Second)
	if w, ok := Compute(env, obs, opts, c.FinishedAt).Waiting["s"]; !ok || w.Reason != WaitCrashLoopBackOff || w.Until.Sub(c.FinishedAt) != 10*time.Second {
		t.Errorf("second real crash: waiting %+v, want a 10s back-off", w)
	}
}
