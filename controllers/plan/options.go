package plan

import "time"

// Manager-wide defaults used when Options leaves a field zero.
const (
	// DefaultMemoryLimit caps a container whose spec has no memory limit:
	// unbounded containers exhausted Docker Desktop's VM in the seed.
	DefaultMemoryLimit int64 = 512 << 20
	// DefaultMemoryReservation is Docker's soft limit for a container whose
	// spec reserves no memory.
	DefaultMemoryReservation int64 = 256 << 20
	// DefaultGracePeriod is the stop timeout when neither the spec nor the
	// container says otherwise.
	DefaultGracePeriod = 10 * time.Second
	// DefaultWaitPoll re-checks a dependency wait even if no event arrives:
	// probe results and container exits enqueue the Environment anyway, so
	// this is only a safety net and may be long.
	DefaultWaitPoll = 5 * time.Second
)

// Options are the manager-wide settings the plan depends on.
type Options struct {
	// ManagerID is this manager's identity, written to the managed-by label;
	// berth only ever touches objects that carry it.
	ManagerID string
	// DefaultMemoryLimit and DefaultMemoryReservation, in bytes, apply when
	// the spec has none; zero means the package defaults.
	DefaultMemoryLimit       int64
	DefaultMemoryReservation int64
	// Backoff is the crash-loop and image-pull back-off; zero fields take
	// the kubelet's numbers (DefaultBackoff).
	Backoff BackoffPolicy
	// WaitPoll is the RequeueAfter of a dependency wait; zero means
	// DefaultWaitPoll.
	WaitPoll time.Duration
	// CollectOrphanVolumes lets Orphans remove the volumes of Environments
	// that no longer exist. Off by default: Docker cannot tell a volume left
	// behind by a crash from one kept on purpose by teardown.retainVolumes,
	// and losing data is worse than leaking disk.
	CollectOrphanVolumes bool
}

// withDefaults fills zero fields, so callers can pass Options{ManagerID: id}.
func (o Options) withDefaults() Options {
	if o.DefaultMemoryLimit <= 0 {
		o.DefaultMemoryLimit = DefaultMemoryLimit
	}
	if o.DefaultMemoryReservation <= 0 {
		o.DefaultMemoryReservation = DefaultMemoryReservation
	}
	o.Backoff = o.Backoff.withDefaults()
	if o.WaitPoll <= 0 {
		o.WaitPoll = DefaultWaitPoll
	}
	return o
}
