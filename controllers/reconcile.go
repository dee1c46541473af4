package controllers

import (
	"context"
	"errors"
	"fmt"
	"time"

	"k8s.io/apimachinery/pkg/api/equality"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/util/retry"

	"berth.dev/berth/apis/v1alpha1"
	"berth.dev/berth/controllers/plan"
	"berth.dev/berth/internal/governor"
	"berth.dev/berth/internal/probe"
)

// settleDelay re-checks soon after ops ran, in case the events that
// normally enqueue the Environment were lost (a stream break is repaired
// by a relist, which enqueues too; this is the belt to that brace).
const settleDelay = 2 * time.Second

// reconcile converges one Environment: observe (caches only), plan (pure),
// execute (through the governor), then write status when it changed. A
// reconcile may stop after any step; the next one continues from what it
// observes.
func (c *Controller) reconcile(ctx context.Context, name string) (Result, error) {
	stored, err := c.lister.Get(name)
	if apierrors.IsNotFound(err) {
		// Gone from the store: whatever Docker objects are left are
		// orphans now.
		c.probes.Sync(name, nil)
		c.images.forget(name)
		c.builds.forget(name)
		c.buildLogs.Forget(name)
		c.runs.forget(name)
		c.stale.forget(name)
		c.refusals.forget(name)
		c.valid.forget(name)
		c.failures.forget(name)
		c.written.forget(name)
		if c.opts.Admission != nil {
			// Its room is free now that its teardown is done.
			c.opts.Admission.Forget(name)
			c.admissionChanged()
		}
		return c.collectOrphans(ctx)
	}
	if err != nil {
		return Result{}, fmt.Errorf("get environment %s: %w", name, err)
	}
	stored = c.written.fresher(stored)
	bind := false
	switch c.route(stored) {
	case routeSkip:
		return Result{}, nil // another host's
	case routeRelease:
		return c.releaseUnbound(ctx, stored)
	case routeUnserved:
		return c.markUnserved(ctx, stored)
	case routeBind:
		// The binding goes to the store with the admission, in one
		// write, or on its own right after it: either way before any
		// Docker object exists.
		bind = true
	}
	env := c.working(stored)
	if bind {
		env.Status.Host = c.opts.Host
	}
	log := c.log.WithValues("environment", name)

	// A pool claimant with no services of its own has no Docker objects:
	// it binds, mirrors and deletes its standby (claims.go).
	claimant := env.Spec.PoolRef != nil && len(env.Spec.Services) == 0
	if env.DeletionTimestamp != nil {
		if claimant {
			return c.teardownClaimant(ctx, env)
		}
		if sb := env.Spec.Standby; sb != nil && sb.ClaimRef == nil {
			// An unbound standby going (trimmed, replaced, its pool
			// deleted) is background work like its refill.
			release, ok := c.background.tryAcquire()
			if !ok {
				return Result{RequeueAfter: backgroundRetry}, nil
			}
			defer release()
			ctx = governor.WithBackground(ctx)
		}
		return c.teardown(ctx, env)
	}
	if !hasFinalizer(env) {
		// The embedded API server adds it on create; a plain Kubernetes
		// API with the CRD does not, so the controller does, before any
		// Docker object exists. The stored object, not the defaulted
		// copy, is written back: the user's spec stays as applied.
		withFinalizer := stored.DeepCopy()
		withFinalizer.Finalizers = append(withFinalizer.Finalizers, v1alpha1.Finalizer)
		written, err := c.clientset.BerthV1alpha1().Environments().Update(ctx, withFinalizer, metav1.UpdateOptions{})
		if err != nil {
			return Result{}, fmt.Errorf("add finalizer: %w", err)
		}
		c.written.record(stored, written)
		return Result{}, nil // the update enqueues the Environment again
	}
	if c.opts.ExternalAPI {
		if errs := c.validate(env); len(errs) > 0 {
			return c.refuseInvalid(ctx, env, errs)
		}
	}
	if claimant {
		if bind {
			// Its writes start from stored copies: bind first.
			bound, err := c.bindHost(ctx, env)
			if err != nil || bound == nil {
				return Result{}, err
			}
			env = c.working(bound)
		}
		return c.reconcileClaimant(ctx, env)
	}
	unwritten := env.ResourceVersion
	env, admit, err := c.admit(ctx, env)
	if err == nil && bind && env != nil && (env.ResourceVersion == unwritten || env.Status.Host != c.opts.Host) {
		// The admission wrote nothing, or its write was retried on a
		// stored copy that did not carry the binding.
		env, err = c.bindHost(ctx, env)
	}
	if env != nil && env.ResourceVersion != unwritten {
		env = c.working(env)
	}
	if err != nil || !admit || env == nil {
		// Queued: the ledger enqueues it when room frees.
		return Result{}, err
	}

	now := time.Now()
	obs := c.observe(env)
	if env.Spec.Standby != nil {
		var res Result
		var done bool
		var release func()
		if ctx, release, res, done, err = c.standbyStep(ctx, env, obs); done {
			return res, err
		}
		defer release()
	}
	obs.Host = readHost(env, c.opts.AllowedHostPaths)
	// Services with a build get their content tag as image (planEnv);
	// env itself stays as stored.
	planEnv, builds, buildWarnings := c.resolveBuilds(env, now)
	obs.Builds = builds
	p := plan.Compute(planEnv, obs, c.opts.Plan, now)
	if p.TTLExpired {
		log.Info("ttlSecondsAfterReady has run out: deleting the Environment", "ttl", *env.Spec.TTLSecondsAfterReady)
		ev := v1alpha1.EnvironmentEvent{
			Time: metav1.NewTime(now.Truncate(time.Second)), Type: plan.EventNormal, Reason: "TTLExpired",
			Message: fmt.Sprintf("deleting: %ds after it first became Ready", *env.Spec.TTLSecondsAfterReady),
		}
		if err := c.writeStatus(ctx, env, env.Status, []v1alpha1.EnvironmentEvent{ev}); err != nil {
			return Result{}, err
		}
		err := c.clientset.BerthV1alpha1().Environments().Delete(ctx, name, metav1.DeleteOptions{})
		if err != nil && !apierrors.IsNotFound(err) {
			return Result{}, fmt.Errorf("delete after TTL: %w", err)
		}
		return Result{}, nil
	}

	outcomes, execErr := c.execute(ctx, env, p)
	// A refused removal of an earlier incarnation's network decides
	// whether the next plan adopts it.
	c.refusals.record(env, outcomes)
	obs.Failure = c.failures.record(env, outcomes)
	// p stays the executed plan (the stale guard and the requeue read
	// it); the status reads the plan of what is left.
	statusPlan := p
	if execErr == nil && len(outcomes) > 0 {
		// What the ops just did is in the cache already (the informer
		// learns berth's own creates, starts and removals from Docker's
		// answers), so the status says what they made, Ready included,
		// in this pass rather than in one an event brings later.
		obs, statusPlan = c.observeAgain(env, planEnv, obs, now)
	}
	status := plan.ComputeStatus(planEnv, obs, c.opts.Plan, statusPlan, env.Status, now)
	c.runs.remember(env, rememberRestarts(plan.RememberRuns(status, obs), obs, outcomes, now))
	events := append(buildWarnings, outcomeEvents(outcomes, now)...)
	events = append(events, hostErrorEvents(obs.Host, env.Status.Events, now)...)
	if err := c.writeStatus(ctx, env, status, events); err != nil && execErr == nil {
		execErr = err
	}
	if execErr == nil {
		execErr = hostError(obs.Host)
	}
	c.syncProbes(env, obs)

	if execErr != nil {
		return Result{}, execErr
	}
	if c.stale.repeated(name, p) {
		// The same ops succeeded last time and are planned again: the
		// cache has not seen their effect. Ops are idempotent, so this
		// costs nothing but time; a relist puts the cache right.
		log.Info("planned ops repeat after succeeding; relisting Docker objects", "ops", len(p.Ops))
		c.cache.Relist()
	}
	res := Result{RequeueAfter: p.RequeueAfter}
	if r := statusPlan.RequeueAfter; r > 0 && (res.RequeueAfter == 0 || r < res.RequeueAfter) {
		res.RequeueAfter = r
	}
	if len(outcomes) > 0 && (res.RequeueAfter == 0 || res.RequeueAfter > settleDelay) {
		res.RequeueAfter = settleDelay
	}
	return standbyRequeue(env, status, res), nil
}

// working is the copy of a stored Environment a reconcile works on. A
// Kubernetes API stores the spec as written; berth's embedded server
// defaulted it on the way in.
func (c *Controller) working(stored *v1alpha1.Environment) *v1alpha1.Environment {
	env := stored.DeepCopy()
	if c.opts.ExternalAPI {
		v1alpha1.SetDefaults(env)
	}
	return env
}

// outcomeEvents turns executed ops into entries of the event record.
func outcomeEvents(outcomes []outcome, now time.Time) []v1alpha1.EnvironmentEvent {
	var evs []v1alpha1.EnvironmentEvent
	for _, o := range outcomes {
		if o.quiet {
			continue
		}
		ev := o.op.Event(now)
		if o.op.Kind == plan.OpBuildImage {
			evs = append(evs, buildingEvent(o.op, now))
		}
		if o.err != nil {
			ev.Type = plan.EventWarning
			ev.Reason = "Failed" + string(o.op.Kind)
			if o.op.Kind == plan.OpBuildImage {
				ev.Reason = EventBuildFailed
			}
			ev.Message = fmt.Sprintf("%s failed: %v", o.op.Reason, o.err)
		}
		evs = append(evs, ev)
	}
	return evs
}

// writeStatus writes status through the status subresource, only when it
// differs from what is stored. newEvents are appended to the stored event
// record. The lister can lag behind the controller's own last write, so a
// conflict is retried on the latest object: status is recomputed from
// observation anyway, only the event record has to be merged.
func (c *Controller) writeStatus(ctx context.Context, env *v1alpha1.Environment, status v1alpha1.EnvironmentStatus, newEvents []v1alpha1.EnvironmentEvent) error {
	_, err := c.writeStatusLatest(ctx, env, status, newEvents)
	return err
}

// writeStatusLatest is writeStatus that also returns the object as stored
// after the write (env itself when nothing needed writing, nil when the
// Environment is gone), for a reconcile that goes on with it.
func (c *Controller) writeStatusLatest(ctx context.Context, env *v1alpha1.Environment, status v1alpha1.EnvironmentStatus, newEvents []v1alpha1.EnvironmentEvent) (*v1alpha1.Environment, error) {
	envs := c.clientset.BerthV1alpha1().Environments()
	current, stored := env, env
	err := retry.RetryOnConflict(retry.DefaultBackoff, func() error {
		desired := *status.DeepCopy()
		// The binding is the placement's, written once: a status
		// computed from an older copy must not drop it.
		desired.Host = current.Status.Host
		desired.Events = append([]v1alpha1.EnvironmentEvent(nil), current.Status.Events...)
		for _, ev := range newEvents {
			plan.AppendEvent(&desired, ev, 0)
		}
		if equality.Semantic.DeepEqual(current.Status, desired) {
			stored = current
			return nil
		}
		updated := current.DeepCopy()
		updated.Status = desired
		written, err := envs.UpdateStatus(ctx, updated, metav1.UpdateOptions{})
		if apierrors.IsConflict(err) {
			// This status is not a new incarnation's.
			latest, getErr := c.sameIncarnation(ctx, env)
			if getErr != nil {
				return getErr
			}
			current = latest
		}
		if err == nil {
			c.written.record(current, written)
			stored = written
		}
		return err
	})
	if apierrors.IsNotFound(err) || errors.Is(err, errOtherIncarnation) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("update status of %s: %w", env.Name, err)
	}
	return stored, nil
}

// errOtherIncarnation ends a write whose Environment was deleted and
// created again under the same name meanwhile.
var errOtherIncarnation = errors.New("another incarnation of the Environment")

// sameIncarnation reads env as stored now: errOtherIncarnation when the name
// belongs to a new Environment since.
func (c *Controller) sameIncarnation(ctx context.Context, env *v1alpha1.Environment) (*v1alpha1.Environment, error) {
	latest, err := c.clientset.BerthV1alpha1().Environments().Get(ctx, env.Name, metav1.GetOptions{})
	if err != nil {
		return nil, err
	}
	if latest.UID != env.UID {
		return nil, errOtherIncarnation
	}
	return latest, nil
}

func hasFinalizer(env *v1alpha1.Environment) bool {
	for _, f := range env.Finalizers {
		if f == v1alpha1.Finalizer {
			return true
		}
	}
	return false
}

// removeFinalizer releases the object: the API server deletes it once no
// finalizer is left. It starts from env, the latest copy the caller has (its
// own last write, usually); a conflict with a write it has not seen is
// retried on the stored object.
func (c *Controller) removeFinalizer(ctx context.Context, env *v1alpha1.Environment) error {
	envs := c.clientset.BerthV1alpha1().Environments()
	current := env
	err := retry.RetryOnConflict(retry.DefaultBackoff, func() error {
		if current == nil {
			latest, err := c.sameIncarnation(ctx, env)
			if err != nil {
				return err
			}
			current = latest
		}
		if !hasFinalizer(current) {
			return nil
		}
		updated := current.DeepCopy()
		updated.Finalizers = removeString(updated.Finalizers, v1alpha1.Finalizer)
		released, err := envs.Update(ctx, updated, metav1.UpdateOptions{})
		if apierrors.IsConflict(err) {
			current = nil
		}
		if err == nil {
			// A pass that runs before the lister sees the release
			// must not release it again.
			c.written.record(current, released)
		}
		return err
	})
	if apierrors.IsNotFound(err) || errors.Is(err, errOtherIncarnation) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("remove finalizer of %s: %w", env.Name, err)
	}
	c.log.Info("torn down", "environment", env.Name)
	return nil
}

// syncProbes tells the probe manager which containers of env to probe:
// running containers of services with a readiness probe.
func (c *Controller) syncProbes(env *v1alpha1.Environment, obs plan.Observed) {
	services := map[string]*v1alpha1.Service{}
	for i := range env.Spec.Services {
		services[env.Spec.Services[i].Name] = &env.Spec.Services[i]
	}
	var specs []probe.Spec
	for _, oc := range obs.Containers {
		svc := services[oc.Labels[v1alpha1.LabelService]]
		// Only this Environment's own containers: observe also lists
		// another's that holds one of its names, as a conflict.
		if svc == nil || svc.ReadinessProbe == nil || oc.State != plan.StateRunning || oc.Labels[v1alpha1.LabelEnvironment] != env.Name {
			continue
		}
		ct, ok := c.cache.Container(oc.ID)
		if !ok {
			continue
		}
		var ip string
		for _, n := range plan.ProbeNetworks(env) {
			if ip = ct.Networks[n]; ip != "" {
				break
			}
		}
		if ip == "" && len(ct.Networks) == 1 {
			// A container an older berth attached to berth-<env>, until
			// it is replaced.
			for _, addr := range ct.Networks {
				ip = addr
			}
		}
		if ip == "" && plan.DialsContainer(svc.ReadinessProbe) {
			// Started without an inspect (the cache took the start from
			// what this process created): fetch the address to dial.
			c.cache.NeedAddress(ct.ID)
		}
		target := probe.Target{
			ContainerID: ct.ID,
			IP:          ip,
			Ports:       svc.Ports,
		}
		for _, p := range ct.Ports {
			target.Published = append(target.Published, probe.PublishedPort{
				ContainerPort: p.ContainerPort, Protocol: p.Protocol, HostIP: p.HostIP, HostPort: p.HostPort,
			})
		}
		// Keyed by replica (service/i), so each replica has a probe.
		specs = append(specs, probe.Spec{
			Environment: env.Name,
			Service:     plan.ProbeKey(oc.Labels),
			Probe:       svc.ReadinessProbe,
			Target:      target,
			StartedAt:   ct.StartedAt,
		})
	}
	c.probes.Sync(env.Name, specs)
}
