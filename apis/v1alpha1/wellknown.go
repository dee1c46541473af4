package v1alpha1

import "strconv"

// Finalizer is added to every Environment on create, so a delete only sets
// deletionTimestamp and the object stays until the controller has torn the
// Docker objects down and removes it.
const Finalizer = "berth.dev/teardown"

// Labels on every Docker object berth creates. Ownership is decided by
// LabelManagedBy alone: berth never stops or removes an object without its
// own manager identity there.
const (
	LabelManagedBy      = "berth.dev/managed-by"
	LabelEnvironment    = "berth.dev/environment"
	LabelEnvironmentUID = "berth.dev/environment-uid"
	LabelService        = "berth.dev/service"
	// LabelReplica is the replica index of a service's container (see
	// ReplicaContainerName); a container without it is replica 0.
	LabelReplica  = "berth.dev/replica"
	LabelVolume   = "berth.dev/volume"
	LabelSpecHash = "berth.dev/spec-hash"
	// LabelRetain marks a volume created while spec.teardown.retainVolumes
	// was set: the orphan collector leaves it alone, since Docker cannot
	// otherwise tell a volume kept on purpose from one leaked by a crash.
	LabelRetain = "berth.dev/retain"
)

// A restart request is an annotation on the Environment, so it goes through
// the API like every other change and the normal reconcile acts on it: the
// request time becomes part of the container's config, the spec hash moves,
// and the plan replaces just that service's container the graceful way. The
// annotation, not the spec, carries it because a restart is an action, not a
// desired state. The dashboard's restart button writes it.
const (
	// RestartAnnotationPrefix + a service name is the annotation key; its
	// value is the request time (RFC 3339). Any new value restarts again.
	RestartAnnotationPrefix = "berth.dev/restart."
	// LabelRestartedAt carries the annotation's value onto the container,
	// so the request is visible with docker inspect.
	LabelRestartedAt = "berth.dev/restarted-at"
)

// RestartAnnotation is the annotation key that restarts service.
func RestartAnnotation(service string) string { return RestartAnnotationPrefix + service }

// DockerNamePrefix starts the name of every Docker object berth creates.
const DockerNamePrefix = "berth_"

// DockerNameSeparator joins the parts of a Docker name. Environment,
// service and volume names are DNS-1123 labels ([a-z0-9-], see validation),
// which cannot contain it, so a name splits back into its parts in exactly
// one way: two valid Environments never map to one Docker name. A "-"
// joiner would not do: Environment a with service b-data and Environment
// a-b with service data would both be berth-a-b-data.
const DockerNameSeparator = "_"

// Docker names are deterministic, so a rerun reconcile finds what an
// interrupted one created; whether berth may use an object it finds is
// decided by its labels (manager identity, Environment name and UID), never
// by the name.

// NetworkName is the Docker network of an Environment: berth_<env>.
func NetworkName(env string) string { return DockerNamePrefix + env }

// ContainerName is the Docker container of one service: berth_<env>_<service>.
func ContainerName(env, service string) string {
	return DockerNamePrefix + env + DockerNameSeparator + service
}

// VolumeName is the Docker volume of one of an Environment's volumes:
// berth_<env>_<volume>.
func VolumeName(env, volume string) string {
	return DockerNamePrefix + env + DockerNameSeparator + volume
}

// LegacyDockerNamePrefix started the names berth gave Docker objects before
// they were made injective (berth-<env>, berth-<env>-<name>). An upgraded
// manager still meets such objects: it recognises them by their labels
// (the Environment label disambiguates what the name cannot), keeps their
// volumes, and replaces or drains the rest.
const LegacyDockerNamePrefix = "berth-"

// LegacyVolumeName is the name an older berth gave an Environment's volume.
// It is ambiguous on its own; it is only ever compared together with the
// volume's Environment label.
func LegacyVolumeName(env, volume string) string {
	return LegacyDockerNamePrefix + env + "-" + volume
}

// NetworkNameSeparator joins an Environment and one of its spec.networks
// in a Docker network name. It is two DockerNameSeparators, which no other
// Docker name berth gives contains (their parts are DNS-1123 labels, never
// empty), so a network name can never equal a container or volume name,
// nor another Environment's network: berth_<env> has one part after the
// prefix, berth_<env>_<name> two, berth_<env>__<net> two with an empty
// one between.
const NetworkNameSeparator = DockerNameSeparator + DockerNameSeparator

// SpecNetworkName is the Docker network of the spec network net of env:
// berth_<env> for DefaultNetworkName (the network every Environment had
// before spec.networks, kept so an upgrade recreates nothing), else
// berth_<env>__<net>.
func SpecNetworkName(env, net string) string {
	if net == DefaultNetworkName {
		return NetworkName(env)
	}
	return DockerNamePrefix + env + NetworkNameSeparator + net
}

// ReplicaContainerName is the container of replica i of a service (the
// scheme for service.replicas): replica 0
// keeps ContainerName, berth_<env>_<service>, so a service that gains
// replicas keeps its container; replica i > 0 is
// berth_<env>_<service>_<i>, three parts after the prefix where every
// other container and volume name has two, so no two names meet (see
// TestNetworkNamesAreInjectiveAcrossKinds).
func ReplicaContainerName(env, service string, i int) string {
	if i <= 0 {
		return ContainerName(env, service)
	}
	return ContainerName(env, service) + DockerNameSeparator + strconv.Itoa(i)
}

// Reasons of the Ready condition about hosts, written by the placement
// (or, on the embedded server, by the only manager) rather than by the
// host's own manager.
const (
	// ReasonHostUnreachable: the Environment's host has no live manager
	// (its heartbeat is older than --host-grace, or there never was one);
	// its containers, if any, are left where they are.
	ReasonHostUnreachable = "HostUnreachable"
	// ReasonNoLiveHost: unbound, and no host has a live manager to place
	// it on.
	ReasonNoLiveHost = "NoLiveHost"
)
