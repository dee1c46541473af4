package plan

import (
	"fmt"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"berth.dev/berth/apis/v1alpha1"
)

// EventLeaseExpired is the reason of the warning recorded when a lease's
// holder stopped renewing and the Environment is deleted for it.
const EventLeaseExpired = "LeaseExpired"

// LeaseRenewal is the last renewal of env's lease as stored: the record's
// renewTime when the record is this binding's (same holder, owned by this
// Environment), otherwise the Environment's creation, so a holder that
// died before its first renewal still expires. ok is false when env holds
// no lease.
func LeaseRenewal(env *v1alpha1.Environment, rec *v1alpha1.EnvironmentLease) (renew time.Time, ok bool) {
	if env == nil || env.Spec.Lease == nil {
		return time.Time{}, false
	}
	renew = env.CreationTimestamp.Time
	if rec != nil && rec.Spec.RenewTime != nil && rec.Spec.HolderIdentity == env.Spec.Lease.HolderIdentity && LeaseOwnedBy(rec, env) {
		renew = rec.Spec.RenewTime.Time
	}
	return renew, true
}

// LeaseOwnedBy reports whether the record belongs to env: it names env's
// UID as owner (a record without owner, written by hand, goes with the
// Environment of its name).
func LeaseOwnedBy(rec *v1alpha1.EnvironmentLease, env *v1alpha1.Environment) bool {
	if len(rec.OwnerReferences) == 0 {
		return true
	}
	for _, o := range rec.OwnerReferences {
		if o.Kind == "Environment" && o.UID == env.UID {
			return true
		}
	}
	return false
}

// LeaseClock is what an expiry decision reads. The stored renewal is wall
// time (it survives the manager); Unchanged and Uptime are the manager's
// own monotonic measurements, which do not survive it, and that is the
// point: a manager counts only time it was there to see.
type LeaseClock struct {
	// Renew is the stored last renewal (LeaseRenewal).
	Renew time.Time
	// Duration is spec.lease.durationSeconds.
	Duration time.Duration
	// Now is the wall clock.
	Now time.Time
	// Unchanged is how long this manager process has seen Renew without a
	// change (monotonic; from the first time it saw this value).
	Unchanged time.Duration
	// Uptime is how long this manager process has been running
	// (monotonic).
	Uptime time.Duration
}

// LeaseDecision says whether a lease has expired, and if not, how long
// until it could.
type LeaseDecision struct {
	Expired bool
	// Wait is when to look again (the earliest possible expiry); zero when
	// expired.
	Wait time.Duration
}

// DecideLease expires a lease only when all three clocks agree: the
// stored renewal is older than the duration (wall clock), this manager has
// itself watched it not change for the duration (so clock skew between
// holder and manager, or a jump of the wall clock, cannot expire a live
// holder), and this manager has been up that long (grace after start: a
// holder could not renew while the manager was down, so the manager's own
// downtime never counts against it).
func DecideLease(c LeaseClock) LeaseDecision {
	wait := c.Renew.Add(c.Duration).Sub(c.Now)
	if w := c.Duration - c.Unchanged; w > wait {
		wait = w
	}
	if w := c.Duration - c.Uptime; w > wait {
		wait = w
	}
	if wait <= 0 {
		return LeaseDecision{Expired: true}
	}
	return LeaseDecision{Wait: wait}
}

// LeaseExpiredEvent is the warning recorded before the Environment is
// deleted: who held it and for how long nothing was renewed.
func LeaseExpiredEvent(env *v1alpha1.Environment, renew, now time.Time) v1alpha1.EnvironmentEvent {
	holder := ""
	if env.Spec.Lease != nil {
		holder = env.Spec.Lease.HolderIdentity
	}
	since := now.Sub(renew).Truncate(time.Second)
	return v1alpha1.EnvironmentEvent{
		Time: metav1.NewTime(now.Truncate(time.Second)), Type: EventWarning, Reason: EventLeaseExpired,
		Message: fmt.Sprintf("lease held by %s expired: not renewed for %s; deleting the Environment", holder, since),
	}
}
