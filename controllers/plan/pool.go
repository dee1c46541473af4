package plan

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"sort"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"berth.dev/berth/apis/v1alpha1"
)

// Pools: a claimant binds to a standby the way a PersistentVolumeClaim
// binds to a PersistentVolume, in two store writes, each conditional on
// the resourceVersion it was decided on:
//
//  1. the standby's spec.standby.claimRef names the claimant;
//  2. the claimant's spec.poolRef.standby names the standby;
//  3. only then is the standby unpaused and served.
//
// A crash (or a stale cache) can stop the sequence after any write. Both
// controllers decide what to do from what is stored, with the functions
// below, so the next reconcile of either side finishes or undoes it: a
// standby naming a claimant that does not name it back is waited for
// (the claimant finishes step 2) or released (the claimant is gone, took
// another standby or converged on its own). A standby is served only when
// both sides name each other, so one standby never serves two claimants.

// ClaimAction is what a claimant's controller does next.
type ClaimAction int

const (
	// ClaimOrdinary: the claimant has services of its own (berth copied
	// the pool's template when no standby was free): it converges as an
	// ordinary Environment.
	ClaimOrdinary ClaimAction = iota
	// ClaimBound: both sides name each other; mirror the standby.
	ClaimBound
	// ClaimFinish: a standby names the claimant, which does not name it
	// yet (crash after step 1): write step 2.
	ClaimFinish
	// ClaimUnbind: the claimant names a standby that does not name it
	// back (gone, or released): clear spec.poolRef.standby and claim again.
	ClaimUnbind
	// ClaimBind: write step 1 on Standby, a free standby.
	ClaimBind
	// ClaimFallback: no free standby: copy the pool's template into the
	// claimant's spec, which then converges on its own.
	ClaimFallback
	// ClaimWaitPool: the pool does not exist (yet).
	ClaimWaitPool
)

// ClaimDecision is DecideClaim's answer.
type ClaimDecision struct {
	Action ClaimAction
	// Standby is the standby the action is about (Bound, Finish, Bind).
	Standby *v1alpha1.Environment
}

// ClaimedBy says whether standby's claimRef names claimant (by name and,
// when recorded, UID).
func ClaimedBy(standby, claimant *v1alpha1.Environment) bool {
	if standby == nil || claimant == nil || standby.Spec.Standby == nil || standby.Spec.Standby.ClaimRef == nil {
		return false
	}
	ref := standby.Spec.Standby.ClaimRef
	return ref.Name == claimant.Name && (ref.UID == "" || ref.UID == string(claimant.UID))
}

// DecideClaim is the claimant side. standbys are the Environments whose
// spec.standby.pool is the claimant's pool; pool is nil when it does not
// exist. A claimant binds only a standby on its own host (SameHost): its
// status.host was written before anything else and never changes, and
// what it serves must run where it says.
func DecideClaim(claimant *v1alpha1.Environment, standbys []*v1alpha1.Environment, pool *v1alpha1.EnvironmentPool) ClaimDecision {
	ref := claimant.Spec.PoolRef
	if ref == nil || len(claimant.Spec.Services) > 0 {
		return ClaimDecision{Action: ClaimOrdinary}
	}
	if ref.Standby != "" {
		for _, s := range standbys {
			if s.Name == ref.Standby && ClaimedBy(s, claimant) {
				return ClaimDecision{Action: ClaimBound, Standby: s}
			}
		}
		return ClaimDecision{Action: ClaimUnbind}
	}
	for _, s := range sortedStandbys(standbys) {
		if ClaimedBy(s, claimant) && s.DeletionTimestamp == nil {
			return ClaimDecision{Action: ClaimFinish, Standby: s}
		}
	}
	if pool == nil {
		return ClaimDecision{Action: ClaimWaitPool}
	}
	for _, s := range sortedStandbys(standbys) {
		if StandbyAvailable(s) && s.Spec.Standby.Pool == pool.Name && StandbyCurrent(pool, s) && SameHost(claimant, s) {
			return ClaimDecision{Action: ClaimBind, Standby: s}
		}
	}
	return ClaimDecision{Action: ClaimFallback}
}

// SameHost says whether standby is bound to the claimant's host. Both
// unbound ("") is a controller that serves every host (no --host); a
// standby not bound yet is on no host, so no bound claimant takes it.
func SameHost(claimant, standby *v1alpha1.Environment) bool {
	return claimant.Status.Host == standby.Status.Host
}

// sortedStandbys orders standbys oldest first (then by name), so claims
// take the standby that has waited longest and decisions are stable.
func sortedStandbys(in []*v1alpha1.Environment) []*v1alpha1.Environment {
	out := append([]*v1alpha1.Environment(nil), in...)
	sort.SliceStable(out, func(i, j int) bool {
		a, b := out[i].CreationTimestamp, out[j].CreationTimestamp
		if !a.Equal(&b) {
			return a.Before(&b)
		}
		return out[i].Name < out[j].Name
	})
	return out
}

// StandbyAvailable says whether a claim may take standby now: unbound,
// not being deleted, and converged for its current generation (Ready,
// and, in mode Paused, every running service observed paused, so a
// claimant never mirrors a status from before the pause).
func StandbyAvailable(s *v1alpha1.Environment) bool {
	sb := s.Spec.Standby
	if sb == nil || sb.ClaimRef != nil || s.DeletionTimestamp != nil {
		return false
	}
	if s.Status.Phase != v1alpha1.PhaseReady || s.Status.ObservedGeneration != s.Generation || len(s.Status.Services) == 0 {
		return false
	}
	// A one-shot service that completed (exited) is neither paused nor
	// running; every other service must be paused (mode Paused) or not
	// paused (mode Running).
	paused, running := 0, 0
	for _, st := range s.Status.Services {
		switch st.State {
		case string(StatePaused):
			paused++
		case string(StateRunning):
			running++
		}
	}
	if sb.Mode == v1alpha1.StandbyPaused {
		return paused > 0 && running == 0
	}
	return paused == 0
}

// StandbyServing says whether a bound standby's status describes it as
// serving: observed for its current generation (the one its claimRef
// write made) with no service paused. Until then the claimant is not
// Ready, even though the standby's last status before its pause said so.
func StandbyServing(s *v1alpha1.Environment) bool {
	if s.Status.ObservedGeneration != s.Generation || len(s.Status.Services) == 0 {
		return false
	}
	for _, st := range s.Status.Services {
		if st.State == string(StatePaused) {
			return false
		}
	}
	return true
}

// StandbyAction is what a standby's controller does about its binding.
type StandbyAction int

const (
	// StandbyIdle: unbound; converge, then pause (mode Paused).
	StandbyIdle StandbyAction = iota
	// StandbyWait: claimed, the claimant has not written step 2 yet.
	StandbyWait
	// StandbyServe: both sides agree: unpause and converge.
	StandbyServe
	// StandbyRelease: the claim will never complete; clear claimRef (the
	// standby was never served, so it goes back to the pool).
	StandbyRelease
	// StandbyDelete: the claim is over and the standby may have served:
	// delete it (graceful teardown); the pool refills.
	StandbyDelete
)

// DecideStandby is the standby side. claimant is the Environment its
// claimRef names (nil when none exists). pristine says the standby was
// never served: every container still paused (mode Paused), or mode
// Running (a Running standby is only served once both sides agree, and a
// claimant that agreed deletes it on its way out).
func DecideStandby(standby, claimant *v1alpha1.Environment, pristine bool) StandbyAction {
	sb := standby.Spec.Standby
	if sb == nil || sb.ClaimRef == nil {
		return StandbyIdle
	}
	undo := StandbyDelete
	if pristine {
		undo = StandbyRelease
	}
	if claimant == nil || !ClaimedBy(standby, claimant) {
		return undo // gone, or another Environment under the same name
	}
	ref := claimant.Spec.PoolRef
	switch {
	case ref == nil || ref.Name != sb.Pool:
		return undo
	case ref.Standby == standby.Name:
		if claimant.DeletionTimestamp != nil {
			return StandbyDelete
		}
		return StandbyServe
	case claimant.DeletionTimestamp != nil, ref.Standby != "", len(claimant.Spec.Services) > 0:
		// Leaving, bound elsewhere, or converging on its own.
		return undo
	default:
		return StandbyWait
	}
}

// ClaimantSpec is the spec a claimant with no free standby converges to:
// the pool's template, keeping what the claimant itself says (its pool
// reference, lease and TTL).
func ClaimantSpec(claimant *v1alpha1.Environment, pool *v1alpha1.EnvironmentPool) v1alpha1.EnvironmentSpec {
	spec := *pool.Spec.Template.DeepCopy()
	spec.PoolRef = claimant.Spec.PoolRef.DeepCopy()
	spec.PoolRef.Standby = ""
	spec.Lease = claimant.Spec.Lease.DeepCopy()
	spec.TTLSecondsAfterReady = claimant.Spec.TTLSecondsAfterReady
	// spec.host is create-only: the claimant keeps its own pin (or none),
	// whatever the template says.
	spec.Host = claimant.Spec.Host
	spec.Standby = nil
	return spec
}

// TemplateHash identifies a pool's template and standby mode. It is
// computed from the pool object only (never from a stored standby, whose
// spec the API server defaults), so a standby created from the current
// template always carries the current hash.
func TemplateHash(pool *v1alpha1.EnvironmentPool) string {
	data, err := json.Marshal(struct {
		T v1alpha1.EnvironmentSpec
		M v1alpha1.StandbyMode
	}{pool.Spec.Template, pool.Spec.Standby})
	if err != nil {
		return ""
	}
	sum := sha256.Sum256(data)
	return hex.EncodeToString(sum[:8])
}

// StandbyCurrent says whether standby was created from pool's current
// template.
func StandbyCurrent(pool *v1alpha1.EnvironmentPool, standby *v1alpha1.Environment) bool {
	return pool != nil && standby.Annotations[v1alpha1.AnnotationPoolTemplate] == TemplateHash(pool)
}

// NewStandbySpec is the spec of a standby the pool creates.
func NewStandbySpec(pool *v1alpha1.EnvironmentPool) v1alpha1.EnvironmentSpec {
	spec := *pool.Spec.Template.DeepCopy()
	mode := pool.Spec.Standby
	if mode == "" {
		// The embedded server defaults the pool's mode; a cluster's CRD
		// does not, and a standby must name one.
		mode = v1alpha1.StandbyPaused
	}
	spec.Standby = &v1alpha1.StandbySpec{Pool: pool.Name, Mode: mode}
	return spec
}

// PoolDecision is what the pool controller does for one pool.
type PoolDecision struct {
	// Create is how many standbys to create.
	Create int
	// Delete are unbound standbys beyond the size (or of a pool that is
	// gone), newest first.
	Delete []string
	Status v1alpha1.EnvironmentPoolStatus
}

// DecidePool keeps size unbound standbys of the current template: bound
// ones (claimRef set) no longer count, so a claim triggers a refill at
// once; unbound ones of an older template are deleted and replaced. pool
// nil: the pool is gone and its unbound standbys go too.
func DecidePool(pool *v1alpha1.EnvironmentPool, standbys []*v1alpha1.Environment) PoolDecision {
	var d PoolDecision
	var unbound []*v1alpha1.Environment
	for _, s := range sortedStandbys(standbys) {
		switch {
		case s.Spec.Standby == nil || s.DeletionTimestamp != nil:
		case s.Spec.Standby.ClaimRef != nil:
			d.Status.Bound++
		case pool != nil && !StandbyCurrent(pool, s):
			// Of an older template: replaced.
			d.Delete = append(d.Delete, s.Name)
		default:
			unbound = append(unbound, s)
			if StandbyAvailable(s) {
				d.Status.Available++
			}
		}
	}
	d.Status.Standbys = int32(len(unbound))
	size := 0
	if pool != nil {
		size = int(pool.Spec.Size)
		d.Status.ObservedGeneration = pool.Generation
	}
	if n := len(unbound); n < size {
		d.Create = size - n
	} else {
		for i := n - 1; i >= size; i-- {
			d.Delete = append(d.Delete, unbound[i].Name)
		}
	}
	return d
}

// Claimant conditions' reasons while bound but not yet serving.
const (
	ReasonUnpausingStandby = "UnpausingStandby"
	ReasonBindingStandby   = "BindingStandby"
	ReasonPoolNotFound     = "PoolNotFound"
)

// MirrorStatus is a bound claimant's status: the standby's (phase,
// conditions, services and their endpoints) once it serves; until then
// Progressing with reason UnpausingStandby. The claimant's own event
// record is kept.
func MirrorStatus(claimant, standby *v1alpha1.Environment, now metav1.Time) v1alpha1.EnvironmentStatus {
	if standby == nil || !StandbyServing(standby) {
		name := ""
		if standby != nil {
			name = standby.Name
		}
		return WaitingClaimStatus(claimant, ReasonUnpausingStandby, "bound to standby "+name+"; waiting for it to be unpaused and observed", now)
	}
	st := *standby.Status.DeepCopy()
	st.ObservedGeneration = claimant.Generation
	st.Events = claimant.Status.Events
	st.FirstReadyTime = claimant.Status.FirstReadyTime
	if st.FirstReadyTime == nil && st.Phase == v1alpha1.PhaseReady {
		st.FirstReadyTime = &now
	}
	for i := range st.Conditions {
		st.Conditions[i].ObservedGeneration = claimant.Generation
	}
	return st
}

// WaitingClaimStatus is a claimant's status while it has no standby to
// mirror: Progressing, not Ready, with reason and message.
func WaitingClaimStatus(claimant *v1alpha1.Environment, reason, message string, now metav1.Time) v1alpha1.EnvironmentStatus {
	st := v1alpha1.EnvironmentStatus{
		Phase:              v1alpha1.PhaseProgressing,
		ObservedGeneration: claimant.Generation,
		Events:             claimant.Status.Events,
		FirstReadyTime:     claimant.Status.FirstReadyTime,
	}
	for _, c := range []struct {
		typ    string
		status metav1.ConditionStatus
	}{{v1alpha1.ConditionReady, metav1.ConditionFalse}, {v1alpha1.ConditionProgressing, metav1.ConditionTrue}} {
		cond := metav1.Condition{Type: c.typ, Status: c.status, Reason: reason, Message: message,
			ObservedGeneration: claimant.Generation, LastTransitionTime: now}
		for _, old := range claimant.Status.Conditions {
			if old.Type == c.typ && old.Status == c.status {
				cond.LastTransitionTime = old.LastTransitionTime
			}
		}
		st.Conditions = append(st.Conditions, cond)
	}
	return st
}
