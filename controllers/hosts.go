package controllers

import (
	"cmp"
	"context"
	"fmt"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"berth.dev/berth/apis/v1alpha1"
)

// hostRoute is what this manager does with an Environment, by the host it
// is bound to (status.host) or pinned to (spec.host).
type hostRoute int

const (
	// routeSkip: another host's; not enqueued, never touched.
	routeSkip hostRoute = iota
	// routeServe: bound to this host; reconciled as usual.
	routeServe
	// routeBind: this host's to bind (pinned to it, or, when this
	// manager places alone, unpinned): status.host first, then as usual.
	routeBind
	// routeUnserved: pinned or bound to a host no manager serves, seen
	// by a manager that places alone: Ready=Unknown HostUnreachable.
	routeUnserved
	// routeRelease: being deleted and bound to no host, so it has no
	// Docker objects (or, placing alone, bound to a host nobody serves):
	// the finalizer goes.
	routeRelease
)

// routeOf decides the route of env for the manager of host. host "" is a
// controller that serves every Environment (tests, and before hosts).
// solo is a manager that places Environments itself (the embedded
// server's only manager) instead of a placement holder doing it.
func routeOf(env *v1alpha1.Environment, host string, solo bool) hostRoute {
	switch {
	case host == "":
		return routeServe
	case env.Status.Host == host:
		return routeServe
	case env.Status.Host != "" && solo:
		// Bound to a host this only manager does not serve (its --host
		// changed since): nobody else will, so say so, and let a delete
		// through (what is left on this daemon is then an orphan, and
		// collected as one).
		if env.DeletionTimestamp != nil {
			return routeRelease
		}
		return routeUnserved
	case env.Status.Host != "":
		return routeSkip
	case env.DeletionTimestamp != nil:
		// Unbound: no manager made anything for it (the binding comes
		// before every Docker object). Whoever sees it first releases
		// it; the update is conflict-checked, so a binding written
		// meanwhile wins.
		return routeRelease
	case env.Spec.Host == host:
		return routeBind
	case env.Spec.Host != "":
		if solo {
			return routeUnserved
		}
		return routeSkip
	case solo:
		return routeBind
	default:
		return routeSkip // the placement holder binds it
	}
}

// route is routeOf for this controller, with one exception routeOf
// cannot see: an unbound Environment whose containers this manager
// already runs (made before berth bound Environments to hosts) is this
// host's, to bind (or, being deleted, to tear down), wherever the
// placement would have put it.
func (c *Controller) route(env *v1alpha1.Environment) hostRoute {
	r := routeOf(env, c.opts.Host, c.opts.PlaceLocally)
	if env.Status.Host == "" && env.Spec.Host == "" && (r == routeSkip || r == routeRelease) && c.runsContainers(env) {
		if r == routeRelease {
			return routeServe
		}
		return routeBind
	}
	return r
}

// wants reports whether an event about obj should enqueue it: Environments
// of other hosts are dropped here, before the queue.
func (c *Controller) wants(obj interface{}) bool {
	env, ok := obj.(*v1alpha1.Environment)
	if !ok {
		return true // a tombstone: the reconcile finds it gone
	}
	return c.route(env) != routeSkip
}

// mine reports whether env counts against this host: bound to it, or
// about to be.
func (c *Controller) mine(env *v1alpha1.Environment) bool {
	r := c.route(env)
	return r == routeServe || r == routeBind
}

// bindHost writes status.host = this host before anything else happens to
// env, and returns the stored object (nil when env is gone).
func (c *Controller) bindHost(ctx context.Context, env *v1alpha1.Environment) (*v1alpha1.Environment, error) {
	status := env.Status.DeepCopy()
	status.Host = c.opts.Host
	updated := env.DeepCopy()
	updated.Status = *status
	// No retry on conflict: the next pass decides again on what is
	// stored then (the placement may have bound it elsewhere meanwhile).
	bound, err := c.clientset.BerthV1alpha1().Environments().UpdateStatus(ctx, updated, metav1.UpdateOptions{})
	if apierrors.IsNotFound(err) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("bind %s to host %s: %w", env.Name, c.opts.Host, err)
	}
	c.written.record(env, bound)
	c.log.Info("bound to this host", "environment", env.Name, "host", c.opts.Host, "pinned", env.Spec.Host != "")
	return bound, nil
}

// releaseUnbound drops the finalizer of a deleted Environment that was
// never bound to a host.
func (c *Controller) releaseUnbound(ctx context.Context, env *v1alpha1.Environment) (Result, error) {
	if !hasFinalizer(env) {
		return Result{}, nil
	}
	updated := env.DeepCopy()
	updated.Finalizers = removeString(updated.Finalizers, v1alpha1.Finalizer)
	if _, err := c.clientset.BerthV1alpha1().Environments().Update(ctx, updated, metav1.UpdateOptions{}); err != nil {
		return Result{}, fmt.Errorf("release unbound %s: %w", env.Name, err)
	}
	return Result{}, nil
}

// markUnserved says, once, that no manager serves env's pinned host.
func (c *Controller) markUnserved(ctx context.Context, env *v1alpha1.Environment) (Result, error) {
	host := cmp.Or(env.Status.Host, env.Spec.Host)
	msg := fmt.Sprintf("no manager serves host %s: this manager serves %s only (start it with --host %s to converge this Environment)",
		host, c.opts.Host, host)
	cond, changed := HostUnreachableCondition(env, msg, time.Now())
	if !changed {
		return Result{}, nil
	}
	status := env.Status.DeepCopy()
	meta.SetStatusCondition(&status.Conditions, cond)
	return Result{}, c.writeStatus(ctx, env, *status, nil)
}

// HostUnreachableCondition is the Ready=Unknown condition of an
// Environment whose host has no live manager, and whether env does not
// say so already (the reason, not the message, decides: a message that
// counts seconds must not rewrite the status every pass).
func HostUnreachableCondition(env *v1alpha1.Environment, msg string, now time.Time) (metav1.Condition, bool) {
	return unknownCondition(env, v1alpha1.ReasonHostUnreachable, msg, now)
}

// NoLiveHostCondition is the Ready=Unknown condition of an unbound
// Environment that no live host can take.
func NoLiveHostCondition(env *v1alpha1.Environment, msg string, now time.Time) (metav1.Condition, bool) {
	return unknownCondition(env, v1alpha1.ReasonNoLiveHost, msg, now)
}

func unknownCondition(env *v1alpha1.Environment, reason, msg string, now time.Time) (metav1.Condition, bool) {
	cond := metav1.Condition{
		Type: v1alpha1.ConditionReady, Status: metav1.ConditionUnknown, Reason: reason, Message: msg,
		ObservedGeneration: env.Generation, LastTransitionTime: metav1.NewTime(now.Truncate(time.Second)),
	}
	old := meta.FindStatusCondition(env.Status.Conditions, v1alpha1.ConditionReady)
	return cond, old == nil || old.Status != metav1.ConditionUnknown || old.Reason != reason
}

func removeString(list []string, s string) []string {
	out := list[:0:0]
	for _, v := range list {
		if v != s {
			out = append(out, v)
		}
	}
	return out
}

// markedUnreachable reports whether the placement just marked newEnv's
// host unreachable: if this manager is that host's and alive after all
// (a heartbeat that came late), its reconcile puts Ready right.
func markedUnreachable(oldEnv, newEnv *v1alpha1.Environment) bool {
	reason := func(e *v1alpha1.Environment) string {
		if c := meta.FindStatusCondition(e.Status.Conditions, v1alpha1.ConditionReady); c != nil {
			return c.Reason
		}
		return ""
	}
	return reason(newEnv) == v1alpha1.ReasonHostUnreachable && reason(oldEnv) != v1alpha1.ReasonHostUnreachable
}
