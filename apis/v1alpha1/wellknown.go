package v1alpha1

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
	LabelVolume         = "berth.dev/volume"
	LabelSpecHash       = "berth.dev/spec-hash"
	// LabelRetain marks a volume created while spec.teardown.retainVolumes
	// was set: the orphan collector leaves it alone, since Docker cannot
	// otherwise tell a volume kept on purpose from one leaked by a crash.
	LabelRetain = "berth.dev/retain"
)

// DockerNamePrefix starts the name of every Docker object berth creates.
const DockerNamePrefix = "berth-"

// Docker names are deterministic, so a rerun reconcile finds (and adopts)
// what an interrupted one created.

// NetworkName is the Docker network of an Environment.
func NetworkName(env string) string { return DockerNamePrefix + env }

// ContainerName is the Docker container of one service.
func ContainerName(env, service string) string { return DockerNamePrefix + env + "-" + service }

// VolumeName is the Docker volume of one of an Environment's volumes.
func VolumeName(env, volume string) string { return DockerNamePrefix + env + "-" + volume }
