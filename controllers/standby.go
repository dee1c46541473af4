package controllers

import (
	"context"
	"fmt"
	"os"
	"sync"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"berth.dev/berth/apis/v1alpha1"
	"berth.dev/berth/controllers/plan"
	"berth.dev/berth/internal/governor"
)

// Standbys: an Environment with spec.standby converges like any other,
// at background priority while unbound (a refill never delays a claim
// or an apply). In mode Paused, once Ready it is paused and its probes
// are held; its status then says every service is paused, which is what
// makes it available (plan.StandbyAvailable). Bound both ways it is
// unpaused and converges at normal priority.

// holdBeforeUnpauseEnv is a test hook: with it set to 1, a bound standby
// is never unpaused, so an e2e test can kill the manager between the
// binding and the unpause.
const holdBeforeUnpauseEnv = "BERTH_TEST_HOLD_BEFORE_UNPAUSE"

// backgroundRetry is how soon an unbound standby that found the
// background slot taken is looked at again.
const backgroundRetry = 500 * time.Millisecond

// backgroundSlot lets one unbound standby at a time do Docker work. Its
// calls queue behind user work in the governor, so a reconcile doing it
// can wait long: holding every worker that way would starve the claims
// and applies the refill must never delay. A standby that finds the slot
// taken is requeued instead of waiting on a worker.
type backgroundSlot chan struct{}

func (b backgroundSlot) tryAcquire() (release func(), ok bool) {
	select {
	case b <- struct{}{}:
		return func() { <-b }, true
	default:
		return nil, false
	}
}

// standbyStep runs before a standby's ordinary reconcile. done means the
// reconcile ends with res and err; otherwise it continues with ctx, and
// calls release when it ends.
func (c *Controller) standbyStep(ctx context.Context, env *v1alpha1.Environment, obs plan.Observed) (context.Context, func(), Result, bool, error) {
	ctx, res, done, err := c.standbyDecide(ctx, env, obs)
	if done || !governor.IsBackground(ctx) {
		return ctx, func() {}, res, done, err
	}
	release, ok := c.background.tryAcquire()
	if !ok {
		return ctx, func() {}, Result{RequeueAfter: backgroundRetry}, true, nil
	}
	if c.pauseDue(env, obs) {
		defer release()
		return ctx, func() {}, Result{RequeueAfter: 100 * time.Millisecond}, true, c.pauseStandby(ctx, env, obs)
	}
	return ctx, release, Result{}, false, nil
}

// standbyDecide acts on the binding; an unbound standby continues with a
// background context.
func (c *Controller) standbyDecide(ctx context.Context, env *v1alpha1.Environment, obs plan.Observed) (context.Context, Result, bool, error) {
	sb := env.Spec.Standby
	var claimant *v1alpha1.Environment
	if sb.ClaimRef != nil {
		cl, err := c.lister.Get(sb.ClaimRef.Name)
		if err != nil && !apierrors.IsNotFound(err) {
			return ctx, Result{}, true, fmt.Errorf("get claimant %s: %w", sb.ClaimRef.Name, err)
		}
		if err == nil {
			claimant = cl
		}
	}
	paused, running := pausedCount(obs)
	pristine := sb.Mode == v1alpha1.StandbyRunning || (paused > 0 && running == 0)
	switch a := plan.DecideStandby(env, claimant, pristine); a {
	case plan.StandbyRelease, plan.StandbyDelete:
		return ctx, Result{}, true, c.undoClaim(ctx, env, a, pristine)
	case plan.StandbyServe:
		if paused == 0 {
			c.probes.Hold(env.Name, false)
			return ctx, Result{}, false, nil
		}
		if os.Getenv(holdBeforeUnpauseEnv) == "1" {
			c.log.Info("test hook: holding a bound standby before its unpause", "standby", env.Name, "env", holdBeforeUnpauseEnv)
			return ctx, Result{RequeueAfter: time.Hour}, true, nil
		}
		c.probes.Hold(env.Name, false)
		if err := c.unpauseAll(ctx, env, obs); err != nil {
			return ctx, Result{}, true, err
		}
		c.log.Info("standby unpaused for its claimant", "standby", env.Name, "claimant", sb.ClaimRef.Name)
		// The unpause events enqueue the standby; the ordinary reconcile
		// then observes the containers running. The requeue is the belt.
		return ctx, Result{RequeueAfter: settleDelay}, true, nil
	case plan.StandbyWait:
		if running == 0 && paused > 0 {
			return ctx, Result{}, true, c.writeFrozenStatus(ctx, env, obs)
		}
		return ctx, Result{}, false, nil
	}
	// Unbound.
	bg := governor.WithBackground(ctx)
	if sb.Mode != v1alpha1.StandbyPaused {
		return bg, Result{}, false, nil
	}
	if paused > 0 && running == 0 {
		c.probes.Hold(env.Name, true)
		return ctx, Result{}, true, c.writeFrozenStatus(ctx, env, obs)
	}
	return bg, Result{}, false, nil
}

// unpauseAll thaws the standby's paused containers concurrently: a
// claimant waits for the last one, and the governor caps how many calls
// reach the daemon at once anyway.
func (c *Controller) unpauseAll(ctx context.Context, env *v1alpha1.Environment, obs plan.Observed) error {
	var wg sync.WaitGroup
	errs := make(chan error, len(obs.Containers))
	for _, ct := range obs.Containers {
		if ct.State != plan.StatePaused || ct.Labels[v1alpha1.LabelEnvironment] != env.Name {
			continue
		}
		wg.Add(1)
		go func(id string) {
			defer wg.Done()
			if err := c.docker.UnpauseContainer(ctx, id); err != nil {
				errs <- err
			}
		}(ct.ID)
	}
	wg.Wait()
	close(errs)
	if err := <-errs; err != nil {
		return fmt.Errorf("unpause standby %s: %w", env.Name, err)
	}
	return nil
}

// pauseDue: an unbound standby of mode Paused is Ready for its
// generation and has running containers.
func (c *Controller) pauseDue(env *v1alpha1.Environment, obs plan.Observed) bool {
	_, running := pausedCount(obs)
	return env.Spec.Standby.Mode == v1alpha1.StandbyPaused && standbyConverged(env) && running > 0
}

// pauseStandby pauses the standby's running containers (at background
// priority: ctx is). Probes are held first, so no probe fails against a
// frozen container.
func (c *Controller) pauseStandby(ctx context.Context, env *v1alpha1.Environment, obs plan.Observed) error {
	c.probes.Hold(env.Name, true)
	for _, ct := range obs.Containers {
		if ct.State == plan.StateRunning && ct.Labels[v1alpha1.LabelEnvironment] == env.Name {
			if err := c.docker.PauseContainer(ctx, ct.ID); err != nil {
				return fmt.Errorf("pause standby %s: %w", env.Name, err)
			}
		}
	}
	c.log.Info("standby paused", "standby", env.Name, "pool", env.Spec.Standby.Pool)
	return nil
}

// standbyConverged: the stored status says Ready for the current
// generation, every service ready.
func standbyConverged(env *v1alpha1.Environment) bool {
	if env.Status.Phase != v1alpha1.PhaseReady || env.Status.ObservedGeneration != env.Generation {
		return false
	}
	for _, s := range env.Status.Services {
		if !s.Ready {
			return false
		}
	}
	return len(env.Status.Services) > 0
}

// standbyRequeue makes an unbound standby that just became Ready come
// back at once to be paused (nothing else would enqueue it).
func standbyRequeue(env *v1alpha1.Environment, status v1alpha1.EnvironmentStatus, res Result) Result {
	sb := env.Spec.Standby
	if sb == nil || sb.ClaimRef != nil || sb.Mode != v1alpha1.StandbyPaused || status.Phase != v1alpha1.PhaseReady {
		return res
	}
	if res.RequeueAfter == 0 || res.RequeueAfter > 50*time.Millisecond {
		res.RequeueAfter = 50 * time.Millisecond
	}
	return res
}

// pausedCount counts the standby's own paused and running containers.
func pausedCount(obs plan.Observed) (paused, running int) {
	for _, ct := range obs.Containers {
		switch ct.State {
		case plan.StatePaused:
			paused++
		case plan.StateRunning:
			running++
		}
	}
	return paused, running
}

// writeFrozenStatus records a paused standby: the last status, for the
// current generation (a claimRef write or release changes no container),
// with each service's state as observed (paused). Probes are held, so
// nothing else is recomputed.
func (c *Controller) writeFrozenStatus(ctx context.Context, env *v1alpha1.Environment, obs plan.Observed) error {
	status := *env.Status.DeepCopy()
	status.ObservedGeneration = env.Generation
	states := map[string]string{}
	for _, ct := range obs.Containers {
		if svc := ct.Labels[v1alpha1.LabelService]; svc != "" && ct.Labels[v1alpha1.LabelEnvironment] == env.Name {
			states[svc] = string(ct.State)
		}
	}
	for i := range status.Services {
		if s, ok := states[status.Services[i].Name]; ok {
			status.Services[i].State = s
		}
	}
	for i := range status.Conditions {
		status.Conditions[i].ObservedGeneration = env.Generation
	}
	return c.writeStatus(ctx, env, status, nil)
}

// undoClaim releases (never served: back to the pool) or deletes a
// standby whose claim will not complete, after confirming the decision
// on the store: the cache may be behind the claimant's step 2.
func (c *Controller) undoClaim(ctx context.Context, env *v1alpha1.Environment, a plan.StandbyAction, pristine bool) error {
	envs := c.clientset.BerthV1alpha1().Environments()
	live, err := envs.Get(ctx, env.Name, metav1.GetOptions{})
	if apierrors.IsNotFound(err) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("get standby %s: %w", env.Name, err)
	}
	if live.Spec.Standby == nil || live.Spec.Standby.ClaimRef == nil {
		return nil
	}
	var claimant *v1alpha1.Environment
	cl, err := envs.Get(ctx, live.Spec.Standby.ClaimRef.Name, metav1.GetOptions{})
	switch {
	case err == nil:
		claimant = cl
	case !apierrors.IsNotFound(err):
		return fmt.Errorf("get claimant %s: %w", live.Spec.Standby.ClaimRef.Name, err)
	}
	if plan.DecideStandby(live, claimant, pristine) != a {
		c.enqueue(env.Name)
		return nil
	}
	who := live.Spec.Standby.ClaimRef.Name
	if a == plan.StandbyDelete {
		return c.deleteStandby(ctx, env.Name, "its claim by "+who+" is over")
	}
	live.Spec.Standby.ClaimRef = nil
	if _, err := envs.Update(ctx, live, metav1.UpdateOptions{}); err != nil && !apierrors.IsConflict(err) && !apierrors.IsNotFound(err) {
		return fmt.Errorf("release standby %s: %w", env.Name, err)
	}
	c.log.Info("standby released: its claimant did not complete the binding", "standby", env.Name, "claimant", who)
	return nil
}
