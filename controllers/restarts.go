package controllers

import (
	"time"

	"berth.dev/berth/apis/v1alpha1"
	"berth.dev/berth/controllers/plan"
)

// observeAgain re-reads the caches after a pass's ops ran and plans from
// them again, so the status is computed from what the ops made. What the
// pass learnt besides the caches (host, builds, failure) carries over.
func (c *Controller) observeAgain(env, planEnv *v1alpha1.Environment, before plan.Observed, now time.Time) (plan.Observed, plan.Plan) {
	obs := c.observe(env)
	obs.Host, obs.Builds, obs.Failure = before.Host, before.Builds, before.Failure
	carryPreviousRuns(before, &obs)
	return obs, plan.Compute(planEnv, obs, c.opts.Plan, now)
}

// carryPreviousRuns gives each container that before showed exited and
// after shows started again the exit it came back from: Docker resets the
// exit code at start (and the cache learns the start from berth's own call
// or its event), so without this a restart and its cause would reach the
// status in different passes, or the cause never.
func carryPreviousRuns(before plan.Observed, after *plan.Observed) {
	exited := make(map[string]plan.ObservedContainer, len(before.Containers))
	for _, c := range before.Containers {
		if c.State == plan.StateExited || c.State == plan.StateDead {
			exited[c.ID] = c
		}
	}
	for k := range after.Containers {
		c := &after.Containers[k]
		prev, ok := exited[c.ID]
		if !ok || c.State == plan.StateExited || c.State == plan.StateDead || !c.StartedAt.After(prev.StartedAt) {
			continue
		}
		code := prev.ExitCode
		c.PreviousExit = &code
		if c.FinishedAt.IsZero() {
			// Docker keeps the previous run's end while the
			// container runs again; the back-off reads it.
			c.FinishedAt = prev.FinishedAt
		}
	}
}

// rememberRestarts adds the restarts that just succeeded to memory: the
// next reconcile can come before the cache has the start event, and must
// not restart (and report) the same exit again.
func rememberRestarts(memory map[string]plan.ServiceMemory, obs plan.Observed, outcomes []outcome, now time.Time) map[string]plan.ServiceMemory {
	for _, o := range outcomes {
		if o.err != nil || o.op.Kind != plan.OpStartContainer || !o.op.Restart {
			continue
		}
		for _, ct := range obs.Containers {
			if ct.ID == o.op.ContainerID {
				plan.MarkRestarted(memory, o.op.Service, ct.ID, ct.FinishedAt, now)
			}
		}
	}
	return memory
}
