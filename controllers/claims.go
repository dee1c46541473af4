package controllers

import (
	"context"
	"fmt"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"

	"berth.dev/berth/apis/v1alpha1"
	"berth.dev/berth/controllers/plan"
)

// Claimants: an Environment with spec.poolRef and no services of its own.
// It never creates Docker objects: it binds to a standby (plan.DecideClaim
// says which step is next), mirrors the standby's status, and deletes the
// standby when it is deleted itself. With no free standby it copies the
// pool's template into its spec and from then on is reconciled as an
// ordinary Environment.

// Event reasons on a claimant.
const (
	EventBound        = "Bound"
	EventPoolEmpty    = "PoolEmpty"
	EventStandbyLost  = "StandbyLost"
	claimWaitPoolPoll = 5 * time.Second
	claimServingPoll  = 2 * time.Second
)

func (c *Controller) reconcileClaimant(ctx context.Context, env *v1alpha1.Environment) (Result, error) {
	pool, standbys, err := c.claimView(env)
	if err != nil {
		return Result{}, err
	}
	d := plan.DecideClaim(env, standbys, pool)
	now := metav1.NewTime(time.Now().Truncate(time.Second))
	envs := c.clientset.BerthV1alpha1().Environments()
	log := c.log.WithValues("environment", env.Name, "pool", env.Spec.PoolRef.Name)
	switch d.Action {
	case plan.ClaimBound:
		status := plan.MirrorStatus(env, d.Standby, now)
		if err := c.writeStatus(ctx, env, status, nil); err != nil {
			return Result{}, err
		}
		if !plan.StandbyServing(d.Standby) {
			return Result{RequeueAfter: claimServingPoll}, nil
		}
		return c.claimTTL(ctx, env, status)

	case plan.ClaimBind:
		// Step 1: the standby names the claimant, conditional on the
		// standby's resourceVersion, so two claimants cannot both win.
		sb := d.Standby.DeepCopy()
		sb.Spec.Standby.ClaimRef = &v1alpha1.ClaimRef{Name: env.Name, UID: string(env.UID)}
		if _, err := envs.Update(ctx, sb, metav1.UpdateOptions{}); err != nil {
			if apierrors.IsConflict(err) || apierrors.IsNotFound(err) {
				// Another claimant took it, or it changed: decide again.
				return Result{RequeueAfter: 50 * time.Millisecond}, nil
			}
			return Result{}, fmt.Errorf("claim standby %s: %w", sb.Name, err)
		}
		log.Info("claimed a standby", "standby", sb.Name)
		return c.finishBinding(ctx, env, sb.Name, now)

	case plan.ClaimFinish:
		return c.finishBinding(ctx, env, d.Standby.Name, now)

	case plan.ClaimUnbind:
		// The cache may not show the standby's claimRef yet: confirm on
		// the store before undoing the claimant's side.
		live, err := envs.Get(ctx, env.Spec.PoolRef.Standby, metav1.GetOptions{})
		if err == nil && plan.ClaimedBy(live, env) {
			return Result{RequeueAfter: 100 * time.Millisecond}, nil
		}
		if err != nil && !apierrors.IsNotFound(err) {
			return Result{}, fmt.Errorf("get standby %s: %w", env.Spec.PoolRef.Standby, err)
		}
		lost := env.Spec.PoolRef.Standby
		updated := env.DeepCopy()
		updated.Spec.PoolRef.Standby = ""
		if _, err := envs.Update(ctx, updated, metav1.UpdateOptions{}); err != nil {
			return Result{}, fmt.Errorf("unbind %s from standby %s: %w", env.Name, lost, err)
		}
		log.Info("standby no longer names the claimant; claiming again", "standby", lost)
		ev := v1alpha1.EnvironmentEvent{Time: now, Type: plan.EventWarning, Reason: EventStandbyLost,
			Message: fmt.Sprintf("standby %s is gone or no longer bound to this Environment; claiming again", lost)}
		return Result{}, c.writeStatus(ctx, updated, env.Status, []v1alpha1.EnvironmentEvent{ev})

	case plan.ClaimWaitPool:
		status := plan.WaitingClaimStatus(env, plan.ReasonPoolNotFound,
			fmt.Sprintf("spec.poolRef.name: EnvironmentPool %q does not exist", env.Spec.PoolRef.Name), now)
		status.Phase = v1alpha1.PhasePending
		return Result{RequeueAfter: claimWaitPoolPoll}, c.writeStatus(ctx, env, status, nil)

	case plan.ClaimFallback:
		return c.fallBack(ctx, env, now)
	}
	return Result{}, nil
}

// claimView is the claimant's pool (nil when it does not exist) and the
// pool's standbys, from the caches.
func (c *Controller) claimView(env *v1alpha1.Environment) (*v1alpha1.EnvironmentPool, []*v1alpha1.Environment, error) {
	name := env.Spec.PoolRef.Name
	pool, err := c.poolLister.Get(name)
	if apierrors.IsNotFound(err) {
		pool = nil
	} else if err != nil {
		return nil, nil, fmt.Errorf("get pool %s: %w", name, err)
	}
	standbys, err := c.standbysOf(name)
	return pool, standbys, err
}

// finishBinding is step 2: the claimant names its standby. Only then
// does the standby's controller unpause it.
func (c *Controller) finishBinding(ctx context.Context, env *v1alpha1.Environment, standby string, now metav1.Time) (Result, error) {
	updated := env.DeepCopy()
	updated.Spec.PoolRef.Standby = standby
	stored, err := c.clientset.BerthV1alpha1().Environments().Update(ctx, updated, metav1.UpdateOptions{})
	if err != nil {
		// The standby's claimRef stays; the next reconcile finishes
		// (plan.ClaimFinish) or the standby releases itself.
		return Result{}, fmt.Errorf("bind %s to standby %s: %w", env.Name, standby, err)
	}
	c.log.Info("bound to a standby", "environment", env.Name, "standby", standby)
	ev := v1alpha1.EnvironmentEvent{Time: now, Type: plan.EventNormal, Reason: EventBound,
		Message: fmt.Sprintf("bound to standby %s of pool %s", standby, env.Spec.PoolRef.Name)}
	status := plan.WaitingClaimStatus(stored, plan.ReasonUnpausingStandby, "bound to standby "+standby+"; waiting for it to be unpaused and observed", now)
	if err := c.writeStatus(ctx, stored, status, []v1alpha1.EnvironmentEvent{ev}); err != nil {
		return Result{}, err
	}
	c.enqueue(standby)
	return Result{RequeueAfter: claimServingPoll}, nil
}

// fallBack copies the pool's template into the claimant, after checking
// on the store (not the cache) that no standby names it and none is free.
func (c *Controller) fallBack(ctx context.Context, env *v1alpha1.Environment, now metav1.Time) (Result, error) {
	name := env.Spec.PoolRef.Name
	envs := c.clientset.BerthV1alpha1().Environments()
	pool, err := c.clientset.BerthV1alpha1().EnvironmentPools().Get(ctx, name, metav1.GetOptions{})
	if err != nil {
		return Result{}, fmt.Errorf("get pool %s: %w", name, err)
	}
	list, err := envs.List(ctx, metav1.ListOptions{LabelSelector: labels.Set{v1alpha1.LabelPool: name}.String()})
	if err != nil {
		return Result{}, fmt.Errorf("list standbys of pool %s: %w", name, err)
	}
	var standbys []*v1alpha1.Environment
	for i := range list.Items {
		if sb := list.Items[i].Spec.Standby; sb != nil && sb.Pool == name {
			standbys = append(standbys, &list.Items[i])
		}
	}
	live, err := envs.Get(ctx, env.Name, metav1.GetOptions{})
	if err != nil {
		return Result{}, fmt.Errorf("get %s: %w", env.Name, err)
	}
	if plan.DecideClaim(live, standbys, pool).Action != plan.ClaimFallback {
		return Result{RequeueAfter: 50 * time.Millisecond}, nil // the cache was behind
	}
	updated := live.DeepCopy()
	updated.Spec = plan.ClaimantSpec(live, pool)
	stored, err := envs.Update(ctx, updated, metav1.UpdateOptions{})
	if err != nil {
		return Result{}, fmt.Errorf("copy the template of pool %s into %s: %w", name, env.Name, err)
	}
	c.log.Info("no free standby: converging from the pool's template", "environment", env.Name, "pool", name)
	ev := v1alpha1.EnvironmentEvent{Time: now, Type: plan.EventNormal, Reason: EventPoolEmpty,
		Message: fmt.Sprintf("pool %s had no free standby: converging from its template", name)}
	return Result{}, c.writeStatus(ctx, stored, stored.Status, []v1alpha1.EnvironmentEvent{ev})
}

// teardownClaimant deletes the bound standby (its own reconcile tears it
// down gracefully) and releases the claimant's finalizer once the standby
// is gone. An unbound claimant has nothing of its own to remove; a
// standby that names it without being named back releases itself.
func (c *Controller) teardownClaimant(ctx context.Context, env *v1alpha1.Environment) (Result, error) {
	if !hasFinalizer(env) {
		return Result{}, nil
	}
	if name := env.Spec.PoolRef.Standby; name != "" {
		sb, err := c.clientset.BerthV1alpha1().Environments().Get(ctx, name, metav1.GetOptions{})
		if err != nil && !apierrors.IsNotFound(err) {
			return Result{}, fmt.Errorf("get standby %s: %w", name, err)
		}
		if err == nil && plan.ClaimedBy(sb, env) {
			if sb.DeletionTimestamp == nil {
				if err := c.deleteStandby(ctx, name, "its claimant "+env.Name+" is being deleted"); err != nil {
					return Result{}, err
				}
			}
			now := metav1.NewTime(time.Now().Truncate(time.Second))
			status := plan.WaitingClaimStatus(env, "TearingDownStandby", "waiting for standby "+name+" to be torn down", now)
			status.Phase = v1alpha1.PhaseTerminating
			if err := c.writeStatus(ctx, env, status, nil); err != nil {
				return Result{}, err
			}
			return Result{RequeueAfter: 500 * time.Millisecond}, nil
		}
	}
	if err := c.deleteLeaseRecord(ctx, env); err != nil {
		return Result{}, err
	}
	return Result{}, c.removeFinalizer(ctx, env)
}

// claimTTL applies ttlSecondsAfterReady to a bound claimant (an ordinary
// Environment's plan does it for one that converges on its own): deleted
// that long after it first became Ready, which tears its standby down.
func (c *Controller) claimTTL(ctx context.Context, env *v1alpha1.Environment, status v1alpha1.EnvironmentStatus) (Result, error) {
	ttl, firstReady := env.Spec.TTLSecondsAfterReady, status.FirstReadyTime
	if ttl == nil || firstReady == nil {
		return Result{}, nil
	}
	left := time.Until(firstReady.Add(time.Duration(*ttl) * time.Second))
	if left > 0 {
		return Result{RequeueAfter: left}, nil
	}
	ev := v1alpha1.EnvironmentEvent{Time: metav1.NewTime(time.Now().Truncate(time.Second)), Type: plan.EventNormal, Reason: "TTLExpired",
		Message: fmt.Sprintf("deleting: %ds after it first became Ready", *ttl)}
	if err := c.writeStatus(ctx, env, status, []v1alpha1.EnvironmentEvent{ev}); err != nil {
		return Result{}, err
	}
	uid := env.UID
	err := c.clientset.BerthV1alpha1().Environments().Delete(ctx, env.Name, metav1.DeleteOptions{Preconditions: &metav1.Preconditions{UID: &uid}})
	if err != nil && !apierrors.IsNotFound(err) && !apierrors.IsConflict(err) {
		return Result{}, fmt.Errorf("delete %s after its TTL: %w", env.Name, err)
	}
	return Result{}, nil
}
