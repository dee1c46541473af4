package controllers

import (
	"context"
	"sync"
	"time"

	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/validation/field"

	"berth.dev/berth/apis/v1alpha1"
	"berth.dev/berth/controllers/plan"
)

// validate runs berth's validation and the manager's policy on a defaulted
// Environment, as the embedded API server does at admission. On a
// Kubernetes API the CRD's schema catches only part of it (types, enums,
// patterns, bounds, some CEL rules); dependency cycles, quantities, volume
// references and the policy are checked here.
//
// A generation found valid is not validated again, as the embedded server
// does not re-check an unchanged spec: remembered by UID and generation,
// and after a restart known from the status (it describes this generation
// and does not say InvalidSpec, so a controller accepted it). Resyncs cost
// no validation, and rules tightened by an upgrade do not strand what was
// already running.
func (c *Controller) validate(env *v1alpha1.Environment) field.ErrorList {
	if c.valid.has(env) || acceptedBefore(env) {
		return nil
	}
	// Not the create rules: a claimant's binding to its standby and its
	// copy of the pool's template are berth's own writes, and their
	// generation must not be refused when the cache shows it before the
	// status that accepts it.
	errs := v1alpha1.ValidateStoredEnvironment(env)
	errs = append(errs, v1alpha1.ValidatePolicy(&env.Spec, c.opts.Policy)...)
	if len(errs) == 0 {
		c.valid.remember(env)
	}
	return errs
}

// acceptedBefore reports whether the status says a controller converged
// this very generation.
func acceptedBefore(env *v1alpha1.Environment) bool {
	if env.Generation == 0 || env.Status.ObservedGeneration != env.Generation {
		return false
	}
	ready := meta.FindStatusCondition(env.Status.Conditions, v1alpha1.ConditionReady)
	return ready != nil && ready.Reason != plan.ReasonInvalidSpec
}

// validMemory is the last generation of each Environment that passed
// validate.
type validMemory struct {
	mu  sync.Mutex
	gen map[string]validGeneration
}

type validGeneration struct {
	uid        types.UID
	generation int64
}

func newValidMemory() *validMemory { return &validMemory{gen: map[string]validGeneration{}} }

func (m *validMemory) has(env *v1alpha1.Environment) bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.gen[env.Name] == validGeneration{env.UID, env.Generation}
}

func (m *validMemory) remember(env *v1alpha1.Environment) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.gen[env.Name] = validGeneration{env.UID, env.Generation}
}

func (m *validMemory) forget(name string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	delete(m.gen, name)
}

// refuseInvalid records why the current generation is refused and makes
// nothing: no Docker object is created, changed or removed for it, and
// whatever an earlier, valid generation made stays as it was until the spec
// is fixed or the Environment deleted. No requeue: a new generation (an
// update) enqueues the Environment again.
func (c *Controller) refuseInvalid(ctx context.Context, env *v1alpha1.Environment, errs field.ErrorList) (Result, error) {
	now := time.Now()
	status := plan.InvalidSpecStatus(env, errs, env.Status, now)
	var events []v1alpha1.EnvironmentEvent
	if ready := meta.FindStatusCondition(env.Status.Conditions, v1alpha1.ConditionReady); ready == nil ||
		ready.Reason != plan.ReasonInvalidSpec || ready.ObservedGeneration != env.Generation {
		c.log.Info("refusing an invalid spec", "environment", env.Name, "generation", env.Generation, "errors", errs.ToAggregate().Error())
		events = append(events, v1alpha1.EnvironmentEvent{
			Time: metav1.NewTime(now.Truncate(time.Second)), Type: plan.EventWarning, Reason: plan.ReasonInvalidSpec, Message: plan.InvalidSpecMessage(errs),
		})
	}
	return Result{}, c.writeStatus(ctx, env, status, events)
}
