package plan

import (
	"fmt"

	"berth.dev/berth/apis/v1alpha1"
)

// depView is what dependents may assume of a service once the ops planned
// so far have run. Only a container that matches the current spec counts:
// a one-shot whose spec changed has to complete again before its dependents
// start.
type depView struct {
	running   bool
	completed bool // exited 0 and not restarted by policy: a finished job
	ready     bool
	// startOps are the StartContainer ops planned for those of its
	// replicas that are neither running nor completed; started says each
	// such replica has one.
	startOps []int
	started  bool
}

// holds says whether the dependency condition is met and, if it is met only
// because of an op planned earlier in this plan, which op the dependent
// must wait for.
func (d depView) holds(cond v1alpha1.DependencyCondition) (ok bool, need []int) {
	switch cond {
	case v1alpha1.DependencyReady:
		return d.ready, nil
	case v1alpha1.DependencyCompleted:
		return d.completed, nil
	default: // Started
		if d.running || d.completed {
			return true, nil
		}
		// A start that succeeds leaves the container running, which is all
		// Started asks; waiting for the next reconcile would only cost time.
		if d.started {
			return true, d.startOps
		}
		return false, nil
	}
}

// checkDependencies returns the ops a service's start must wait for, or why
// it cannot start yet (the first unmet dependency in spec order).
func checkDependencies(svc *v1alpha1.Service, views map[string]depView) ([]int, *Waiting) {
	var needs []int
	for _, d := range svc.DependsOn {
		cond := d.Condition
		if cond == "" {
			cond = v1alpha1.DependencyStarted
		}
		view, known := views[d.Service]
		if !known {
			// Validation rejects unknown services; waiting forever on one
			// would hide the mistake less well than ignoring it.
			continue
		}
		ok, need := view.holds(cond)
		if !ok {
			return nil, &Waiting{
				Reason:     WaitingForDependency,
				Dependency: d.Service,
				Condition:  cond,
				Message:    fmt.Sprintf("waiting for %s to be %s", d.Service, cond),
			}
		}
		needs = append(needs, need...)
	}
	return needs, nil
}

// completedJob reports a one-shot that finished well: it exited 0 and its
// restart policy leaves it exited.
func completedJob(svc *v1alpha1.Service, c *ObservedContainer) bool {
	return c != nil && c.exited() && c.ExitCode == 0 && restartPolicy(svc) != v1alpha1.RestartAlways
}

// failedJob reports a container that exited non-zero and will not be
// restarted: restartPolicy Never, or OnFailure with its restartLimit used
// up by the container's restarts so far.
func failedJob(svc *v1alpha1.Service, c *ObservedContainer, restarts int32) bool {
	if c == nil || !c.exited() || c.ExitCode == 0 {
		return false
	}
	return restartPolicy(svc) == v1alpha1.RestartNever || retriesExhausted(svc, c.ExitCode, restarts)
}

// retriesExhausted reports an OnFailure failure after restartLimit
// restarts: like Docker's on-failure:N, the container is left exited.
func retriesExhausted(svc *v1alpha1.Service, exitCode, restarts int32) bool {
	return restartPolicy(svc) == v1alpha1.RestartOnFailure && svc.RestartLimit != nil &&
		exitCode != 0 && restarts >= *svc.RestartLimit
}

// containerReady is the service's readiness as observed: running and
// passing its probe (if it has one), or a completed one-shot.
func containerReady(svc *v1alpha1.Service, c *ObservedContainer, probes map[string]ProbeResult) bool {
	if c == nil {
		return false
	}
	if completedJob(svc, c) {
		return true
	}
	if !c.running() {
		return false
	}
	if healthGated(svc, c) {
		return c.Health == HealthHealthy
	}
	if svc.ReadinessProbe == nil {
		return true
	}
	r, ok := probes[c.ID]
	return ok && r.Known && r.Ready
}

// wantsRestart says whether the restart policy restarts an exited container.
func wantsRestart(svc *v1alpha1.Service, exitCode int32) bool {
	switch restartPolicy(svc) {
	case v1alpha1.RestartNever:
		return false
	case v1alpha1.RestartOnFailure:
		return exitCode != 0
	}
	return true
}

func restartPolicy(svc *v1alpha1.Service) v1alpha1.RestartPolicy {
	if svc.RestartPolicy == "" {
		return v1alpha1.RestartAlways
	}
	return svc.RestartPolicy
}

func pullPolicy(svc *v1alpha1.Service) v1alpha1.PullPolicy {
	if svc.ImagePullPolicy == "" {
		return v1alpha1.PullIfNotPresent
	}
	return svc.ImagePullPolicy
}
