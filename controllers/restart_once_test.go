package controllers

import (
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"berth.dev/berth/apis/v1alpha1"
	"berth.dev/berth/controllers/plan"
)

// One docker kill, one restart, one Restarted event: a reconcile that runs
// again before the informer has the start event sees the old exit and must
// not start the container (and report it) a second time.
func TestOneKillOneRestartedEvent(t *testing.T) {
	opts := plan.Options{ManagerID: "m1"}
	env := &v1alpha1.Environment{ObjectMeta: metav1.ObjectMeta{Name: "demo", UID: "uid-1", Generation: 1}}
	env.Spec.Services = []v1alpha1.Service{{Name: "web", Image: "berth-testapp:dev"}}
	cfg, err := plan.BuildContainerConfig(env, &env.Spec.Services[0], opts)
	if err != nil {
		t.Fatal(err)
	}
	t0 := time.Date(2026, 3, 4, 10, 0, 0, 0, time.UTC)
	obs := plan.Observed{
		Network: &plan.ObservedNetwork{Name: cfg.Network, ID: "n1", Labels: plan.EnvironmentLabels(env, opts)},
		Containers: []plan.ObservedContainer{{
			ID: "c-web", Name: cfg.Name, Labels: cfg.Labels, State: plan.StateExited, ExitCode: 137,
			StartedAt: t0, FinishedAt: t0.Add(time.Hour),
		}},
	}
	var events []v1alpha1.EnvironmentEvent
	var memory map[string]plan.ServiceMemory
	now := t0.Add(time.Hour + 200*time.Millisecond)
	// Two reconciles back to back with the same (stale) cache, as the
	// probe's and the die event's enqueues make them.
	for range 2 {
		obs.Memory = memory
		p := plan.Compute(env, obs, opts, now)
		var outcomes []outcome
		for _, op := range p.Ops {
			outcomes = append(outcomes, outcome{op: op}) // Docker accepts the start (a second one answers 304)
		}
		status := plan.ComputeStatus(env, obs, opts, p, env.Status, now)
		memory = rememberRestarts(plan.RememberRuns(status, obs), obs, outcomes, now)
		env.Status = status
		events = append(events, outcomeEvents(outcomes, now)...)
		now = now.Add(30 * time.Millisecond)
	}
	restarted := 0
	for _, ev := range events {
		if ev.Reason == "Restarted" {
			restarted++
		}
	}
	if restarted != 1 {
		t.Errorf("%d Restarted events for one exit, want 1: %+v", restarted, events)
	}
}

// A restart whose start the cache already shows when the pass computes its
// status (berth's own start call, or its event, arrived first) still reports
// the exit it restarted after: the dashboard and describe show 137 next to
// the restart count, in the same status write.
func TestRestartInOnePassKeepsTheExitCode(t *testing.T) {
	opts := plan.Options{ManagerID: "m1"}
	env := &v1alpha1.Environment{ObjectMeta: metav1.ObjectMeta{Name: "demo", UID: "uid-1", Generation: 1}}
	env.Spec.Services = []v1alpha1.Service{{Name: "web", Image: "berth-testapp:dev"}}
	cfg, err := plan.BuildContainerConfig(env, &env.Spec.Services[0], opts)
	if err != nil {
		t.Fatal(err)
	}
	t0 := time.Date(2026, 3, 4, 10, 0, 0, 0, time.UTC)
	network := &plan.ObservedNetwork{Name: cfg.Network, ID: "n1", Labels: plan.EnvironmentLabels(env, opts)}
	web := plan.ObservedContainer{ID: "c-web", Name: cfg.Name, Labels: cfg.Labels, State: plan.StateRunning, StartedAt: t0}
	running := plan.Observed{Network: network, Containers: []plan.ObservedContainer{web}}
	env.Status = plan.ComputeStatus(env, running, opts, plan.Compute(env, running, opts, t0.Add(time.Minute)), env.Status, t0.Add(time.Minute))

	killed := web
	killed.State, killed.ExitCode, killed.FinishedAt = plan.StateExited, 137, t0.Add(time.Hour)
	before := plan.Observed{Network: network, Containers: []plan.ObservedContainer{killed}}
	now := t0.Add(time.Hour + 100*time.Millisecond)
	p := plan.Compute(env, before, opts, now)
	if len(p.Ops) != 1 || p.Ops[0].Kind != plan.OpStartContainer || !p.Ops[0].Restart {
		t.Fatalf("plan for the killed container: %+v, want one restart", p.Ops)
	}

	// The cache after the start: running again, exit code reset.
	again := web
	again.StartedAt = now
	after := plan.Observed{Network: network, Containers: []plan.ObservedContainer{again}}
	carryPreviousRuns(before, &after)
	status := plan.ComputeStatus(env, after, opts, plan.Compute(env, after, opts, now), env.Status, now)
	if len(status.Services) != 1 {
		t.Fatalf("services in status: %+v", status.Services)
	}
	s := status.Services[0]
	if s.RestartCount != 1 {
		t.Errorf("restartCount %d, want 1", s.RestartCount)
	}
	if s.LastExitCode == nil || *s.LastExitCode != 137 {
		t.Errorf("lastExitCode %v, want 137", s.LastExitCode)
	}
	if !after.Containers[0].FinishedAt.Equal(killed.FinishedAt) {
		t.Errorf("finishedAt %v, want the killed run's end %v", after.Containers[0].FinishedAt, killed.FinishedAt)
	}
}
