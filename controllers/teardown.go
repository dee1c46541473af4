package controllers

import (
	"context"
	"errors"
	"fmt"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"berth.dev/berth/apis/v1alpha1"
	"berth.dev/berth/controllers/plan"
)

// teardown removes an Environment's Docker objects in reverse dependency
// order, gracefully, then releases the finalizer.
func (c *Controller) teardown(ctx context.Context, env *v1alpha1.Environment) (Result, error) {
	if !hasFinalizer(env) {
		return Result{}, nil
	}
	now := time.Now()
	obs := c.observe(env)
	p := plan.Teardown(env, obs, c.opts.Plan)
	c.probes.Sync(env.Name, nil)

	// The previous pass's failure, if the teardown is being retried.
	obs.Failure = c.failures.get(env)
	if p.Empty() {
		return c.finishTeardown(ctx, env, obs, p, now)
	}
	status := plan.ComputeStatus(env, obs, c.opts.Plan, p, env.Status, now)
	// A long grace period should read as Terminating with its reason,
	// not as a frozen Ready; most teardowns are over before anyone could
	// read it, and then the release is their only write.
	notice := c.announceTeardown(ctx, env, status)
	outcomes, err := c.execute(ctx, env, p)
	env = notice.stop()
	c.refusals.record(env, outcomes)
	c.failures.record(env, outcomes)
	events := outcomeEvents(outcomes, time.Now())
	if err == nil {
		// The removals Docker confirmed are out of the cache already
		// (writes.go): the pass that sees nothing left releases the
		// finalizer, rather than a requeue that waits its turn behind
		// every other Environment's.
		now = time.Now()
		obs = c.observe(env)
		obs.Failure = c.failures.get(env)
		if p := plan.Teardown(env, obs, c.opts.Plan); p.Empty() {
			return c.finishTeardown(ctx, env, obs, p, now, events...)
		}
	}
	if len(events) > 0 || err != nil {
		// The teardown goes on in a later pass: its status says so.
		if werr := c.writeStatus(ctx, env, status, events); werr != nil && err == nil {
			err = werr
		}
	}
	if err != nil {
		return Result{}, err
	}
	// Something is left the cache has not seen go: the next pass sees.
	return Result{RequeueAfter: 200 * time.Millisecond}, nil
}

// finishTeardown ends the teardown of env once its plan is empty: a
// warning when the network had to be left, the built images, the
// controller's memory of it, its lease record, then the finalizer. done
// are the events of this pass's ops, written with the warning.
//
// A teardown that went as planned writes no record of itself: the object
// disappears with the release (which deletes it without storing anything),
// so a record would be stored only to be deleted a moment later, one write
// per Environment. Its steps are in the manager's log.
func (c *Controller) finishTeardown(ctx context.Context, env *v1alpha1.Environment, obs plan.Observed, p plan.Plan, now time.Time, done ...v1alpha1.EnvironmentEvent) (Result, error) {
	if left := p.LeftNetwork; left != nil && !hasTeardownEvent(env.Status) {
		// The daemon will not let the network go (stale endpoints):
		// finish anyway rather than stay Terminating for good, and say
		// so where it is seen.
		status := plan.ComputeStatus(env, obs, c.opts.Plan, p, env.Status, now)
		warn := left.Event(now)
		c.log.Error(errors.New(warn.Message), "teardown finished without its network", "environment", env.Name, "network", left.Name)
		torn := v1alpha1.EnvironmentEvent{
			Time: metav1.NewTime(now.Truncate(time.Second)), Type: plan.EventNormal, Reason: "TornDown",
			Message: fmt.Sprintf("every container and volume is gone; network %s is left to the orphan collector (see the %s warning)", left.Name, plan.EventNetworkLeftBehind),
		}
		// Best effort: the object is about to disappear anyway.
		if latest, err := c.writeStatusLatest(ctx, env, status, append(done, warn, torn)); err == nil && latest != nil {
			env = latest
		}
	}
	// Images last: the containers that used them are gone.
	if err := c.removeBuiltImages(ctx, env); err != nil {
		return Result{}, err
	}
	c.images.forget(env.Name)
	c.builds.forget(env.Name)
	c.buildLogs.Forget(env.Name)
	c.runs.forget(env.Name)
	c.refusals.forget(env.Name)
	c.failures.forget(env.Name)
	if err := c.deleteLeaseRecord(ctx, env); err != nil {
		return Result{}, err
	}
	return Result{}, c.removeFinalizer(ctx, env)
}

func hasTeardownEvent(st v1alpha1.EnvironmentStatus) bool {
	return len(st.Events) > 0 && st.Events[len(st.Events)-1].Reason == "TornDown"
}
