package plan

// The seed's safe removal is: exists? → graceful stop → stopped? → remove
// without force. Asked of Docker one step at a time it costs an inspect, a
// stop, a wait, another inspect and the remove per container, and under the
// desktop profile (a call start every 0.55 s) calls are what teardown time
// is made of. The Docker informer's cache, fed by events, already answers
// "exists?" and "running?", and Docker's stop only returns once the
// container has exited (the kill after the grace period included), so the
// steps left for Docker are the stop, when the cache says it runs, and the
// remove. The remove is itself the last check: without force Docker refuses
// (409) to remove a container that runs, and the Docker layer then falls
// back to the inspected protocol for that container.

// RemovalPath is how much of the safe removal a container's removal must
// ask of Docker, decided from what the cache knew when the plan was made.
type RemovalPath string

const (
	// RemovalStopThenRemove: the cache says it runs (or restarts): stop
	// with grace, which blocks until it exited, then remove.
	RemovalStopThenRemove RemovalPath = "StopThenRemove"
	// RemovalRemoveOnly: the cache says it is not running (created,
	// exited, dead): remove; Docker refuses if it started meanwhile.
	RemovalRemoveOnly RemovalPath = "RemoveOnly"
	// RemovalInspected: the cache cannot say (paused: a frozen process
	// cannot act on its stop signal and must be unpaused first; removing;
	// a state berth does not know): the full inspected protocol.
	RemovalInspected RemovalPath = "Inspected"
)

// Cached is what the Docker informer's cache said about the object a
// removal is about when the plan was made: the labels the plan's ownership
// check was made on (the Docker layer checks them again, without a call)
// and, for a container, the removal path. Nil on an op means the cache had
// nothing to say and the Docker layer inspects.
type Cached struct {
	Labels  map[string]string
	Removal RemovalPath
}

// ContainerRemoval is the removal path for a container as the cache sees it.
func ContainerRemoval(c ObservedContainer) RemovalPath {
	switch c.State {
	case StateRunning, StateRestarting:
		return RemovalStopThenRemove
	case StateCreated, StateExited, StateDead:
		return RemovalRemoveOnly
	}
	return RemovalInspected
}

// cachedContainer is the Cached of a container's removal; nil when the
// cache has no ID for it (the layer must then find it by name).
func cachedContainer(c ObservedContainer) *Cached {
	if c.ID == "" {
		return nil
	}
	return &Cached{Labels: c.Labels, Removal: ContainerRemoval(c)}
}

// cachedNetwork is the Cached of a network's removal; nil without an ID.
func cachedNetwork(n ObservedNetwork) *Cached {
	if n.ID == "" {
		return nil
	}
	return &Cached{Labels: n.Labels}
}
