package plan

import (
	"fmt"
	"time"

	"berth.dev/berth/apis/v1alpha1"
)

// OpKind is the kind of a single Docker operation.
type OpKind string

// The operations a plan is made of; each is one Docker call (a removal is
// the Docker layer's graceful stop-then-remove primitive).
const (
	OpEnsureNetwork   OpKind = "EnsureNetwork"
	OpEnsureVolume    OpKind = "EnsureVolume"
	OpPullImage       OpKind = "PullImage"
	OpCreateContainer OpKind = "CreateContainer"
	OpStartContainer  OpKind = "StartContainer"
	// OpCopyFiles writes a service's files and secrets into its container
	// between create and first start (one CopyToContainer call).
	OpCopyFiles       OpKind = "CopyFiles"
	OpRemoveContainer OpKind = "RemoveContainer"
	OpRemoveNetwork   OpKind = "RemoveNetwork"
	// OpDisconnectStaleEndpoints clears, from a network whose removal was
	// refused for active endpoints, the endpoints of berth's own
	// containers that no longer exist (the Docker layer's
	// DisconnectStaleEndpoints; never a removal).
	OpDisconnectStaleEndpoints OpKind = "DisconnectStaleEndpoints"
	OpRemoveVolume             OpKind = "RemoveVolume"
	// OpConnectNetwork joins a container to one more network (Docker API
	// 1.41 creates a container on one network only) under Aliases; an
	// existing attachment counts as done.
	OpConnectNetwork OpKind = "ConnectNetwork"
)

// RemoveReason says why a container is removed.
type RemoveReason string

// Why containers are removed.
const (
	RemoveSpecChanged      RemoveReason = "SpecChanged"
	RemoveServiceRemoved   RemoveReason = "ServiceRemoved"
	RemoveDuplicate        RemoveReason = "Duplicate"
	RemoveStaleIncarnation RemoveReason = "StaleIncarnation"
	RemoveDead             RemoveReason = "Dead"
	RemoveTeardown         RemoveReason = "Teardown"
	RemoveOrphan           RemoveReason = "Orphan"
)

// Op is one Docker operation. Only the fields of its Kind are set.
type Op struct {
	Kind OpKind
	// Reason is a sentence for the event record and the log.
	Reason string
	// Needs are indexes in Plan.Ops of operations that must have succeeded
	// before this one runs. Ops is already in an order that respects them,
	// so running it top to bottom is correct; Needs lets an executor run
	// independent operations at the same time.
	Needs []int

	// Environment is the Environment an object belongs to (set for every
	// op; orphans have no spec to get it from).
	Environment string
	// Service is set on container operations.
	Service string
	// ContainerID is the container to start or remove. A StartContainer
	// right after its CreateContainer has none: the container does not
	// exist yet, so the executor starts it by ContainerName.
	ContainerID   string
	ContainerName string
	// Config is the container to create.
	Config *ContainerConfig
	// Files are what a CopyFiles op writes.
	Files []FileCopy
	// Grace is how long a removal waits after the stop signal before
	// Docker kills the container.
	Grace        time.Duration
	RemoveReason RemoveReason
	// Cached is what the cache knew of the container or network a removal
	// is about (see removal.go); nil: the Docker layer inspects first.
	Cached *Cached
	// Restart marks a StartContainer of a container that exited, as opposed
	// to the first start of a new one.
	Restart bool

	// Network and NetworkID name the network of network operations.
	Network   string
	NetworkID string
	// Endpoints are the container names a DisconnectStaleEndpoints op may
	// clear from the network: every container berth created on it.
	Endpoints []string
	// Aliases are the DNS names of a ConnectNetwork's container on
	// Network.
	Aliases []string
	// Volume is the Docker volume name of volume operations.
	Volume string
	// Labels go on the network or volume an Ensure op creates.
	Labels map[string]string

	// Image and PullPolicy describe a pull.
	Image      string
	PullPolicy v1alpha1.PullPolicy
}

// String is a short, stable rendering for logs and tests.
func (o Op) String() string {
	switch o.Kind {
	case OpEnsureNetwork, OpRemoveNetwork, OpDisconnectStaleEndpoints:
		return fmt.Sprintf("%s %s", o.Kind, o.Network)
	case OpEnsureVolume, OpRemoveVolume:
		return fmt.Sprintf("%s %s", o.Kind, o.Volume)
	case OpPullImage, OpBuildImage:
		return fmt.Sprintf("%s %s", o.Kind, o.Image)
	case OpCreateContainer:
		return fmt.Sprintf("%s %s", o.Kind, o.Service)
	case OpConnectNetwork:
		return fmt.Sprintf("%s %s %s", o.Kind, o.ContainerName, o.Network)
	case OpStartContainer, OpCopyFiles:
		return fmt.Sprintf("%s %s %s", o.Kind, o.Service, o.ContainerID)
	case OpRemoveContainer:
		return fmt.Sprintf("%s %s %s", o.Kind, o.Service, o.ContainerID)
	}
	return string(o.Kind)
}

// WaitReason says why a service is not converging yet.
type WaitReason string

// Why a service waits. The names double as condition reasons.
const (
	WaitingForDependency WaitReason = "WaitingForDependency"
	WaitCrashLoopBackOff WaitReason = "CrashLoopBackOff"
	WaitImagePullFailed  WaitReason = "ImagePullFailed"
	// WaitErrImageNeverPull is the kubelet's name for an image that is
	// absent under imagePullPolicy Never: no retry can fix it.
	WaitErrImageNeverPull WaitReason = "ErrImageNeverPull"
	// WaitNameConflict is a Docker object with berth's name that this
	// manager does not own: berth never touches it, so it cannot proceed.
	WaitNameConflict WaitReason = "NameConflict"
	// WaitContainerRemoving is a container Docker is still removing.
	WaitContainerRemoving WaitReason = "ContainerRemoving"
	// WaitInvalidSpec is a spec the container config cannot be built from
	// (validation should have caught it).
	WaitInvalidSpec WaitReason = "InvalidSpec"
	// WaitHostPathUnavailable is a file, secret or hostPath volume whose
	// host path the manager cannot read or may not use; it tries again.
	WaitHostPathUnavailable WaitReason = "HostPathUnavailable"
)

// Waiting is why one service is held back.
type Waiting struct {
	Reason WaitReason
	// Dependency and Condition are set for WaitingForDependency.
	Dependency string
	Condition  v1alpha1.DependencyCondition
	// Until is when a back-off ends.
	Until   time.Time
	Message string
}

// Plan is what to do next for one Environment.
type Plan struct {
	// Ops are single Docker operations, in an order that is safe to run one
	// after the other; stop at the first failure.
	Ops []Op
	// Waiting holds, per service, why it is held back.
	Waiting map[string]Waiting
	// RequeueAfter is when something time-based falls due (a back-off ends,
	// a dependency wait is rechecked, the TTL expires); zero when nothing is.
	RequeueAfter time.Duration
	// TTLExpired says the Environment's ttlSecondsAfterReady has run out:
	// the reconciler should delete it.
	TTLExpired bool
	// Teardown marks a plan that removes the Environment.
	Teardown bool
	// LeftNetwork, on a teardown plan, is the network the daemon keeps
	// refusing to remove for stale endpoints: teardown is complete without
	// it (it holds no state) and the orphan collector removes it once the
	// daemon lets it.
	LeftNetwork *LeftNetwork
}

// LeftNetwork is a network a teardown gave up on.
type LeftNetwork struct {
	Name, ID string
	// Refusals is how many removals the daemon refused; Message its last
	// answer.
	Refusals int
	Message  string
}

// Empty reports whether there is nothing to do now.
func (p Plan) Empty() bool { return len(p.Ops) == 0 }

// Strings renders the ops, one String per op.
func (p Plan) Strings() []string {
	out := make([]string, len(p.Ops))
	for i, o := range p.Ops {
		out[i] = o.String()
	}
	return out
}

// add appends op and returns its index.
func (p *Plan) add(op Op) int {
	p.Ops = append(p.Ops, op)
	return len(p.Ops) - 1
}

// wait records why service is held back; the first reason recorded wins.
func (p *Plan) wait(service string, w Waiting) {
	if p.Waiting == nil {
		p.Waiting = map[string]Waiting{}
	}
	if _, ok := p.Waiting[service]; !ok {
		p.Waiting[service] = w
	}
}

// requeueAt lowers RequeueAfter to cover t, if t is in the future.
func (p *Plan) requeueAt(now, t time.Time) {
	d := t.Sub(now)
	if d <= 0 {
		return
	}
	if p.RequeueAfter == 0 || d < p.RequeueAfter {
		p.RequeueAfter = d
	}
}
