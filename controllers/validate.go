package controllers

import (
	"context"
	"time"

	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/validation/field"

	"berth.dev/berth/apis/v1alpha1"
	"berth.dev/berth/controllers/plan"
)

// validate runs berth's validation and the manager's policy on a defaulted
// Environment, as the embedded API server does at admission. On a
// Kubernetes API the CRD's schema catches only part of it (types, enums,
// patterns, bounds, some CEL rules); dependency cycles, quantities, volume
// references and the policy are checked here.
func (c *Controller) validate(env *v1alpha1.Environment) field.ErrorList {
	errs := v1alpha1.ValidateEnvironment(env)
	return append(errs, v1alpha1.ValidatePolicy(&env.Spec, c.opts.Policy)...)
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
