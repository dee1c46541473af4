package plan

import (
	"strings"
	"time"

	"berth.dev/berth/apis/v1alpha1"
)

// Observed is what the caches saw for one Environment at one moment. The
// reconciler fills it from the Docker informer, the probe runner and the
// Environment's own status; Compute and ComputeStatus only read it.
type Observed struct {
	// Network is the Docker network named NetworkName(env) (berth_<env>),
	// whoever owns it, preferring one of this Environment's incarnation;
	// nil when there is none.
	Network *ObservedNetwork
	// Networks are the Environment's networks of spec.networks other than
	// the default one, by Docker name (berth_<env>__<net>), whoever owns
	// them, preferring one of this incarnation.
	Networks map[string]ObservedNetwork
	// OtherNetworks are the other networks labelled with this Environment:
	// ones an older berth named berth-<env>, and ones of an earlier
	// incarnation under the current name. They are drained and removed.
	OtherNetworks []ObservedNetwork
	// Volumes are Docker volumes by Docker name: those labelled with this
	// Environment and those named like one of its volumes. A spec volume
	// is mounted from the one its labels say is its (see resolveVolumes),
	// whatever its name.
	Volumes map[string]ObservedVolume
	// Containers are those labelled with this Environment, plus any
	// container named like one of its services (owned or not): berth sorts
	// out which is which, so the informer need not.
	Containers []ObservedContainer
	// Images are by image reference as written in the spec.
	Images map[string]ObservedImage
	// Builds are, per service with a build, its context's tag and what
	// builds did (see build.go).
	Builds map[string]ObservedBuild
	// Probes are readiness results by container ID.
	Probes map[string]ProbeResult
	// NetworkRemoval is what the reconciler remembers of this incarnation's
	// network removals that the daemon refused for active endpoints; nil
	// when none was refused.
	NetworkRemoval *NetworkRemoval
	// Memory is what the previous status said about each service; nil means
	// "take it from env.Status" (MemoryFromStatus), which is what a manager
	// that just restarted has.
	Memory map[string]ServiceMemory
	// Outages are the Docker daemon outages the informer saw, oldest
	// first: exits inside one do not count as crashes.
	Outages []Outage
	// Host is what the reconciler read on the manager's host for the
	// spec's files, secrets and host paths.
	Host HostReads
	// Failure is the operation that failed in the latest reconcile (the
	// one whose status is computed), nil when none did.
	Failure *OpFailure
}

// ObservedNetwork is a Docker network.
type ObservedNetwork struct {
	Name   string
	ID     string
	Labels map[string]string
	// Attached are the IDs of the containers on it, as far as the cache
	// knows.
	Attached []string
}

// NetworkRemoval is the history of refused removals of one network. The
// informer cannot see a stale endpoint (inspect lists no container), so the
// only evidence is the daemon's refusal, which the reconciler records.
type NetworkRemoval struct {
	// NetworkID is the network the refusals were about; a different
	// network (re-created) starts a new history.
	NetworkID string
	// Refusals counts removals refused for active endpoints.
	Refusals int
	// Disconnected says a DisconnectStaleEndpoints op succeeded;
	// RefusalsAfterDisconnect counts the refusals since.
	Disconnected            bool
	RefusalsAfterDisconnect int
	// Containers are the names of containers of this Environment that
	// berth removed: endpoints on the network may be named after them
	// although no spec names them any more (an earlier incarnation, a
	// service dropped from the spec).
	Containers []string
	// Message is the daemon's last refusal.
	Message string
}

// ObservedVolume is a Docker volume.
type ObservedVolume struct {
	Name   string
	Labels map[string]string
}

// ContainerState is Docker's State.Status.
type ContainerState string

// Docker's container states.
const (
	StateCreated    ContainerState = "created"
	StateRunning    ContainerState = "running"
	StateRestarting ContainerState = "restarting"
	StatePaused     ContainerState = "paused"
	StateExited     ContainerState = "exited"
	StateDead       ContainerState = "dead"
	StateRemoving   ContainerState = "removing"
)

// ObservedContainer is a Docker container as the informer last saw it.
type ObservedContainer struct {
	ID string
	// Name without Docker's leading slash (one is tolerated).
	Name       string
	Labels     map[string]string
	State      ContainerState
	ExitCode   int32
	OOMKilled  bool
	Error      string // Docker's State.Error, e.g. a failed start
	StartedAt  time.Time
	FinishedAt time.Time
	// Ports are the host bindings Docker reports.
	Ports []ObservedPort
	// StopTimeout is the container's own stop timeout, used when no spec
	// says how long to wait (a service removed from the spec, an orphan);
	// zero means unknown.
	StopTimeout time.Duration
	// Health is Docker's health state: starting, healthy, unhealthy, or
	// empty when the container has no healthcheck.
	Health string
	// HealthUnknown: Docker has not yet said whether the container has a
	// healthcheck (it started a moment ago and is not inspected yet).
	HealthUnknown bool
	// HasBeenHealthy: this container has been reported healthy before, so
	// unhealthy now is a regression, not start-up.
	HasBeenHealthy bool
	// PreviousExit is the exit code of the run before the current one,
	// when berth saw that run end in the same pass that restarted it:
	// Docker resets State.ExitCode at start, and the status written after
	// the restart must still say how the last run ended.
	PreviousExit *int32
}

// ObservedPort is a published port as Docker reports it.
type ObservedPort struct {
	ContainerPort int32
	Protocol      string // "tcp" or "udp", any case
	HostIP        string
	HostPort      int32
}

// ObservedImage is what berth knows about one image reference. The
// reconciler keeps the pull bookkeeping in memory: losing it on a restart
// costs one extra pull at most.
type ObservedImage struct {
	Present bool
	// PulledGeneration is the Environment generation this image was last
	// pulled for (imagePullPolicy Always pulls once per generation).
	PulledGeneration int64
	// PullFailures counts consecutive failed pulls; a success resets it.
	PullFailures    int32
	LastPullFailure time.Time
	PullError       string
}

// ProbeResult is the readiness probe runner's verdict on one container.
type ProbeResult struct {
	// Known is false until the probe has reached a verdict.
	Known bool
	Ready bool
	// ConsecutiveFailures since the last success.
	ConsecutiveFailures int32
	Message             string
	// HasBeenReady is true once this container has passed its probe: a
	// failure after that makes the Environment Degraded, one before it is
	// still start-up.
	HasBeenReady bool
}

// IsOwned reports whether labels carry this manager's identity: the only
// objects berth may stop, remove or adopt.
func IsOwned(labels map[string]string, managerID string) bool {
	return managerID != "" && labels[v1alpha1.LabelManagedBy] == managerID
}

// ownedBy reports whether labels mark the object as this manager's, for the
// Environment env.
func ownedBy(labels map[string]string, env string, opts Options) bool {
	return IsOwned(labels, opts.ManagerID) && labels[v1alpha1.LabelEnvironment] == env
}

func (c ObservedContainer) name() string { return strings.TrimPrefix(c.Name, "/") }

func (c ObservedContainer) service() string { return c.Labels[v1alpha1.LabelService] }

func (c ObservedContainer) specHash() string { return c.Labels[v1alpha1.LabelSpecHash] }

func (c ObservedContainer) running() bool { return c.State == StateRunning }

func (c ObservedContainer) exited() bool { return c.State == StateExited }

// hasRun tells a container that was started at least once from one that was
// only created: its first start is gated by dependencies, a restart is not.
func (c ObservedContainer) hasRun() bool { return !c.StartedAt.IsZero() }
