package session

import (
	"fmt"
	"strings"

	"k8s.io/apimachinery/pkg/api/meta"

	"berth.dev/berth/apis/v1alpha1"
	"berth.dev/berth/controllers/plan"
)

// Outcome is where an Environment stands for someone waiting on it.
type Outcome int

const (
	// Waiting: not Ready yet, and nothing says it never will be.
	Waiting Outcome = iota
	// Ready: every service is Ready and the status describes the current
	// spec.
	Ready
	// Failed: the manager says no retry can fix it (a container failed
	// for good, an image that may never be pulled is absent).
	Failed
	// Gone: the Environment was deleted, or is being deleted.
	Gone
)

func (o Outcome) String() string {
	switch o {
	case Ready:
		return "Ready"
	case Failed:
		return "Failed"
	case Gone:
		return "Gone"
	default:
		return "Waiting"
	}
}

// ServiceWait is one service that is not Ready yet, and why.
type ServiceWait struct {
	Name string
	// State is the container's state as the manager reports it (running,
	// created, exited, Pending, Waiting, …).
	State string
	// Message is the manager's explanation, when it has one.
	Message string
}

func (w ServiceWait) String() string {
	s := w.Name
	detail := w.State
	if w.Message != "" {
		if detail != "" {
			detail += ": "
		}
		detail += w.Message
	}
	if detail != "" {
		s += " (" + detail + ")"
	}
	return s
}

// Progress is what a waiting caller shows: how many services are Ready
// and what the Environment still waits on.
type Progress struct {
	Name  string
	Phase v1alpha1.EnvironmentPhase
	// Ready and Total count services (a service with replicas is Ready
	// when all its replicas are).
	Ready, Total int
	// Waiting lists the services that are not Ready, in spec order.
	Waiting []ServiceWait
	// Message is the Ready condition's message: the manager's own summary
	// of what it waits on ("1/2 services ready; db: probe failing").
	Message string
	// Failure is the Ready condition's reason and message when an
	// operation keeps failing ("NetworkCreateFailed: create network …
	// failed 3 times in a row, retrying with back-off: …"), else empty.
	Failure string
	// Stale is true while the status still describes an older generation
	// of the spec (the manager has not looked at the new one yet).
	Stale bool
}

// String renders p on one line, e.g.
// "Progressing, 1/2 services ready; waiting on db (running: readiness probe failing)".
func (p Progress) String() string {
	var b strings.Builder
	phase := string(p.Phase)
	if phase == "" {
		phase = string(v1alpha1.PhasePending)
	}
	fmt.Fprintf(&b, "%s, %d/%d services ready", phase, p.Ready, p.Total)
	if p.Failure != "" && !p.Stale {
		b.WriteString("; ")
		b.WriteString(p.Failure)
	}
	switch {
	case p.Stale:
		b.WriteString("; the manager has not observed this spec yet")
	case len(p.Waiting) > 0:
		parts := make([]string, len(p.Waiting))
		for i, w := range p.Waiting {
			parts[i] = w.String()
		}
		b.WriteString("; waiting on ")
		b.WriteString(strings.Join(parts, ", "))
	case p.Message != "" && p.Phase != v1alpha1.PhaseReady:
		b.WriteString("; ")
		b.WriteString(p.Message)
	}
	return b.String()
}

// Assess reads env's status as someone waiting for it to become Ready.
// It is pure: the wait loop, `berth run`'s progress line and the unit tests
// all use it.
func Assess(env *v1alpha1.Environment) (Progress, Outcome) {
	services := env.Spec.Services
	if len(services) == 0 && env.Spec.PoolRef != nil {
		// A pool claimant: its services are its standby's, mirrored in
		// its status.
		for _, st := range env.Status.Services {
			services = append(services, v1alpha1.Service{Name: st.Name})
		}
	}
	p := Progress{Name: env.Name, Phase: env.Status.Phase, Total: len(services)}
	statuses := make(map[string]*v1alpha1.ServiceStatus, len(env.Status.Services))
	for i := range env.Status.Services {
		statuses[env.Status.Services[i].Name] = &env.Status.Services[i]
	}
	for _, svc := range services {
		st := statuses[svc.Name]
		switch {
		case st == nil:
			p.Waiting = append(p.Waiting, ServiceWait{Name: svc.Name, State: "Pending"})
		case st.Ready:
			p.Ready++
		default:
			w := ServiceWait{Name: svc.Name, State: st.State, Message: st.Message}
			if st.Replicas > 1 {
				w.State = fmt.Sprintf("%d/%d replicas ready", st.ReadyReplicas, st.Replicas)
				if st.State != "" {
					w.State = st.State + ", " + w.State
				}
			}
			p.Waiting = append(p.Waiting, w)
		}
	}
	cond := meta.FindStatusCondition(env.Status.Conditions, v1alpha1.ConditionReady)
	if cond != nil {
		p.Message = cond.Message
		if cond.Status != "True" && plan.IsOpFailureReason(cond.Reason) {
			// The message starts with the count Progress already shows.
			_, msg, ok := strings.Cut(cond.Message, " services ready; ")
			if !ok {
				msg = cond.Message
			}
			p.Failure = cond.Reason + ": " + msg
		}
	}
	if adm := meta.FindStatusCondition(env.Status.Conditions, v1alpha1.ConditionAdmitted); env.Status.Phase == v1alpha1.PhaseQueued && adm != nil {
		// Queued: no service has started; what it waits for is admission.
		p.Message, p.Waiting = adm.Reason+": "+adm.Message, nil
	}
	p.Stale = env.Status.ObservedGeneration < env.Generation ||
		(cond != nil && cond.ObservedGeneration < env.Generation)

	switch {
	case env.DeletionTimestamp != nil || env.Status.Phase == v1alpha1.PhaseTerminating:
		return p, Gone
	case p.Stale:
		return p, Waiting
	case env.Status.Phase == v1alpha1.PhaseFailed:
		return p, Failed
	case env.Status.Phase == v1alpha1.PhaseReady && cond != nil && cond.Status == "True" && p.Ready == p.Total:
		return p, Ready
	default:
		return p, Waiting
	}
}
