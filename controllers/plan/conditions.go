package plan

import (
	"fmt"
	"sort"
	"strings"
	"time"

	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"berth.dev/berth/apis/v1alpha1"
)

// Condition reasons beyond the WaitReasons.
const (
	ReasonAllServicesReady    = "AllServicesReady"
	ReasonProgressing         = "Progressing"
	ReasonProbeFailing        = "ProbeFailing"
	ReasonContainerFailed     = "ContainerFailed"
	ReasonWaitingForReadiness = "WaitingForReadiness"
	ReasonConverging          = "Converging"
	ReasonConverged           = "Converged"
	ReasonHealthy             = "Healthy"
	ReasonTearingDown         = "TearingDown"
)

// problem is one reason a condition is not what the user wants, with the
// services it applies to. problems are ranked: the first present names the
// condition's reason, and the message lists them all.
type problem struct {
	reason   string
	what     string
	services []string
	// detail is the first service's own message (a back-off's error), so
	// the condition says why and not only who.
	detail   string
	degrades bool // makes Degraded True
	fails    bool // makes the phase Failed: no retry can fix it
	stalls   bool // nothing berth can do; Progressing is False
}

func collectProblems(facts []serviceFacts) []*problem {
	ranked := []*problem{
		{reason: ReasonContainerFailed, what: "failed", degrades: true, fails: true, stalls: true},
		{reason: string(WaitErrImageNeverPull), what: "image absent under imagePullPolicy Never", degrades: true, fails: true, stalls: true},
		{reason: string(WaitImagePullFailed), what: "image pull failing", degrades: true},
		{reason: string(WaitCrashLoopBackOff), what: "crash-looping", degrades: true},
		{reason: string(WaitNameConflict), what: "name held by an object berth does not own", degrades: true, stalls: true},
		{reason: string(WaitInvalidSpec), what: "invalid spec", degrades: true, stalls: true},
		{reason: string(WaitHostPathUnavailable), what: "host path unavailable", degrades: true},
		{reason: ReasonProbeFailing, what: "readiness probe failing", stalls: true},
		{reason: string(WaitingForDependency), what: "waiting for dependencies"},
		{reason: string(WaitContainerRemoving), what: "waiting for an old container's removal"},
		{reason: ReasonWaitingForReadiness, what: "waiting for the first readiness verdict"},
	}
	byReason := map[string]*problem{}
	for _, p := range ranked {
		byReason[p.reason] = p
	}
	add := func(reason, svc string, detail ...string) {
		if p := byReason[reason]; p != nil {
			p.services = append(p.services, svc)
			if p.detail == "" && len(detail) > 0 {
				p.detail = detail[0]
			}
		}
	}
	for _, f := range facts {
		name := f.status.Name
		switch {
		case f.failed:
			add(ReasonContainerFailed, name)
		case f.crashLoop:
			add(string(WaitCrashLoopBackOff), name)
		case f.waiting != nil && f.waiting.Reason == WaitingForDependency:
			add(string(f.waiting.Reason), fmt.Sprintf("%s (on %s %s)", name, f.waiting.Dependency, f.waiting.Condition))
		case f.waiting != nil:
			add(string(f.waiting.Reason), name, f.waiting.Message)
		case f.probeFailing:
			add(ReasonProbeFailing, name)
		case f.probePending:
			add(ReasonWaitingForReadiness, name)
		}
	}
	var out []*problem
	for _, p := range ranked {
		if len(p.services) > 0 {
			out = append(out, p)
		}
	}
	return out
}

func describeProblems(ps []*problem) string {
	var parts []string
	for _, p := range ps {
		part := fmt.Sprintf("%s: %s", p.what, strings.Join(p.services, ", "))
		if p.detail != "" {
			part += " (" + p.detail + ")"
		}
		parts = append(parts, part)
	}
	return strings.Join(parts, "; ")
}

// setConditions sets Ready, Progressing and Degraded, the phase and
// FirstReadyTime. failure, an operation that failed just now, names Ready's
// and Progressing's reason: it is why the Environment is not converging.
func setConditions(st *v1alpha1.EnvironmentStatus, env *v1alpha1.Environment, facts []serviceFacts, p Plan, failure *OpFailure, now time.Time) {
	gen := env.Generation
	set := func(t string, ok bool, reason, msg string) {
		status := metav1.ConditionFalse
		if ok {
			status = metav1.ConditionTrue
		}
		meta.SetStatusCondition(&st.Conditions, metav1.Condition{
			Type: t, Status: status, Reason: reason, Message: msg,
			ObservedGeneration: gen, LastTransitionTime: metav1.NewTime(now.Truncate(time.Second)),
		})
	}
	if st.Conditions == nil {
		st.Conditions = []metav1.Condition{}
	}

	if env.DeletionTimestamp != nil {
		st.Phase = v1alpha1.PhaseTerminating
		set(v1alpha1.ConditionReady, false, ReasonTearingDown, "the Environment is being deleted")
		if failure != nil && failure.Reason == ReasonRemoveFailed && !p.Empty() {
			// The teardown is retried; say what keeps it from finishing
			// (a failure of converging before the delete is no longer
			// the point).
			set(v1alpha1.ConditionProgressing, true, failure.Reason, failure.Message())
		} else {
			set(v1alpha1.ConditionProgressing, !p.Empty(), ReasonTearingDown, opsSummary(p))
		}
		set(v1alpha1.ConditionDegraded, false, ReasonTearingDown, "the Environment is being deleted")
		sortConditions(st.Conditions)
		return
	}

	problems := collectProblems(facts)
	allReady := true
	anyContainer := false
	for _, f := range facts {
		allReady = allReady && f.status.Ready
		anyContainer = anyContainer || f.hasContainer
	}
	ready := allReady && p.Empty()

	// Ready.
	switch {
	case ready:
		set(v1alpha1.ConditionReady, true, ReasonAllServicesReady, fmt.Sprintf("%s services ready", st.Ready))
	case len(problems) > 0:
		set(v1alpha1.ConditionReady, false, problems[0].reason, fmt.Sprintf("%s services ready; %s", st.Ready, describeProblems(problems)))
	default:
		set(v1alpha1.ConditionReady, false, ReasonProgressing, fmt.Sprintf("%s services ready; %s", st.Ready, opsSummary(p)))
	}

	// Progressing: work remains that berth is doing or waiting on.
	var degrading []*problem
	failed, stalled := false, true
	for _, pr := range problems {
		if pr.degrades {
			degrading = append(degrading, pr)
		}
		failed = failed || pr.fails
		stalled = stalled && pr.stalls
	}
	switch {
	case !p.Empty():
		set(v1alpha1.ConditionProgressing, true, ReasonConverging, opsSummary(p))
	case ready:
		set(v1alpha1.ConditionProgressing, false, ReasonConverged, "nothing left to do")
	case failed:
		// Whatever waits on a failed service waits for the user.
		set(v1alpha1.ConditionProgressing, false, problems[0].reason, describeProblems(problems))
	case len(problems) > 0 && !stalled:
		first := problems[0]
		for _, pr := range problems {
			if !pr.stalls {
				first = pr
				break
			}
		}
		set(v1alpha1.ConditionProgressing, true, first.reason, describeProblems(problems))
	case len(problems) > 0:
		set(v1alpha1.ConditionProgressing, false, problems[0].reason, describeProblems(problems))
	default:
		set(v1alpha1.ConditionProgressing, true, ReasonProgressing, "waiting for containers to settle")
	}

	if failure != nil && !ready {
		// An op failed and is retried by the queue's back-off: that is
		// what holds the Environment back, whatever else waits on it.
		msg := failure.Message()
		readyMsg := fmt.Sprintf("%s services ready; %s", st.Ready, msg)
		if len(problems) > 0 {
			readyMsg += "; " + describeProblems(problems)
		}
		set(v1alpha1.ConditionReady, false, failure.Reason, readyMsg)
		set(v1alpha1.ConditionProgressing, true, failure.Reason, msg)
	}

	// Degraded: something is wrong that will not fix itself quickly.
	// A probe failing during start-up is only slow; failing after having
	// passed means a working service broke.
	regressed := regressedServices(facts)
	switch {
	case len(degrading) > 0:
		set(v1alpha1.ConditionDegraded, true, degrading[0].reason, describeProblems(degrading))
	case len(regressed) > 0:
		set(v1alpha1.ConditionDegraded, true, ReasonProbeFailing,
			"readiness probe failing after having passed: "+strings.Join(regressed, ", "))
	default:
		set(v1alpha1.ConditionDegraded, false, ReasonHealthy, "no service is failing")
	}

	switch {
	case failed:
		st.Phase = v1alpha1.PhaseFailed
	case len(degrading) > 0 || len(regressed) > 0:
		st.Phase = v1alpha1.PhaseDegraded
	case ready:
		st.Phase = v1alpha1.PhaseReady
	case !anyContainer:
		st.Phase = v1alpha1.PhasePending
	default:
		st.Phase = v1alpha1.PhaseProgressing
	}
	if ready && st.FirstReadyTime == nil {
		st.FirstReadyTime = secondTime(now)
	}
	sortConditions(st.Conditions)
}

func regressedServices(facts []serviceFacts) []string {
	var out []string
	for _, f := range facts {
		if f.regressed {
			out = append(out, f.status.Name)
		}
	}
	return out
}

// opsSummary counts the pending ops by kind, in a fixed order.
func opsSummary(p Plan) string {
	if p.Empty() {
		return "no operations pending"
	}
	counts := map[OpKind]int{}
	var kinds []OpKind
	for _, o := range p.Ops {
		if counts[o.Kind] == 0 {
			kinds = append(kinds, o.Kind)
		}
		counts[o.Kind]++
	}
	parts := make([]string, len(kinds))
	for i, k := range kinds {
		parts[i] = fmt.Sprintf("%d %s", counts[k], k)
	}
	return fmt.Sprintf("%d operations pending: %s", len(p.Ops), strings.Join(parts, ", "))
}

// sortConditions keeps a fixed order, so an unchanged status is equal.
func sortConditions(cs []metav1.Condition) {
	rank := map[string]int{v1alpha1.ConditionReady: 0, v1alpha1.ConditionProgressing: 1, v1alpha1.ConditionDegraded: 2}
	sort.SliceStable(cs, func(i, j int) bool {
		ri, oki := rank[cs[i].Type]
		rj, okj := rank[cs[j].Type]
		switch {
		case oki && okj:
			return ri < rj
		case oki != okj:
			return oki
		}
		return cs[i].Type < cs[j].Type
	})
}
