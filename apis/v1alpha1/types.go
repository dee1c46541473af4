package v1alpha1

import (
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
)

// Environment is a set of containers, volumes and the network that joins them,
// which berth converges a Docker Engine to and keeps there.
//
// +genclient
// +genclient:nonNamespaced
// +k8s:deepcopy-gen:interfaces=k8s.io/apimachinery/pkg/runtime.Object
// +kubebuilder:object:root=true
// +kubebuilder:resource:scope=Cluster,shortName=env,path=environments,singular=environment
// +kubebuilder:subresource:status
// +kubebuilder:printcolumn:name="Phase",type=string,JSONPath=`.status.phase`
// +kubebuilder:printcolumn:name="Ready",type=string,JSONPath=`.status.ready`
// +kubebuilder:printcolumn:name="Holder",type=string,JSONPath=`.spec.lease.holderIdentity`,priority=1
// +kubebuilder:printcolumn:name="Host",type=string,JSONPath=`.status.host`,priority=1
// +kubebuilder:printcolumn:name="Age",type=date,JSONPath=`.metadata.creationTimestamp`
// +kubebuilder:validation:XValidation:rule="size(self.metadata.name) <= 40",message="metadata.name may not be more than 40 characters (berth's Docker names are built from it)"
type Environment struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`

	Spec   EnvironmentSpec   `json:"spec,omitempty"`
	Status EnvironmentStatus `json:"status,omitempty"`
}

// EnvironmentList is a list of Environments.
//
// +k8s:deepcopy-gen:interfaces=k8s.io/apimachinery/pkg/runtime.Object
// +kubebuilder:object:root=true
type EnvironmentList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata,omitempty"`

	Items []Environment `json:"items"`
}

// EnvironmentSpec is what the user asks for.
// +kubebuilder:validation:XValidation:rule="has(self.poolRef) || (has(self.services) && size(self.services) > 0)",message="spec.services: at least one service is required unless spec.poolRef is set",fieldPath=".services"
// +kubebuilder:validation:XValidation:rule="!has(self.poolRef) || !has(self.standby)",message="spec.standby may not be set together with spec.poolRef",fieldPath=".standby"
// +kubebuilder:validation:XValidation:rule="has(self.poolRef) == has(oldSelf.poolRef) && (!has(self.poolRef) || self.poolRef.name == oldSelf.poolRef.name)",message="spec.poolRef.name may not change after create",fieldPath=".poolRef"
// +kubebuilder:validation:XValidation:rule="has(self.standby) == has(oldSelf.standby) && (!has(self.standby) || (self.standby.pool == oldSelf.standby.pool && self.standby.mode == oldSelf.standby.mode))",message="spec.standby: pool and mode may not change after create",fieldPath=".standby"
// +kubebuilder:validation:XValidation:rule="has(self.host) == has(oldSelf.host) && (!has(self.host) || self.host == oldSelf.host)",message="spec.host may not be set, changed or removed after create",fieldPath=".host"
type EnvironmentSpec struct {
	// Services are the containers of the Environment, one container each:
	// at least one, unless spec.poolRef is set (a claimant's come from the
	// pool's template).
	// +optional
	// +kubebuilder:validation:MaxItems=200
	// +listType=map
	// +listMapKey=name
	// +patchMergeKey=name
	// +patchStrategy=merge
	Services []Service `json:"services,omitempty" patchStrategy:"merge" patchMergeKey:"name"`

	// Volumes are named Docker volumes that services mount.
	// +optional
	// +kubebuilder:validation:MaxItems=200
	// +listType=map
	// +listMapKey=name
	// +patchMergeKey=name
	// +patchStrategy=merge
	Volumes []Volume `json:"volumes,omitempty" patchStrategy:"merge" patchMergeKey:"name"`

	// Files are contents written into the services that mount them
	// (service files), inline or from a host path.
	// +optional
	// +listType=map
	// +listMapKey=name
	// +patchMergeKey=name
	// +patchStrategy=merge
	Files []File `json:"files,omitempty" patchStrategy:"merge" patchMergeKey:"name"`

	// Secrets are like files, but never shown in status, events, the
	// dashboard or berth's logs.
	// +optional
	// +listType=map
	// +listMapKey=name
	// +patchMergeKey=name
	// +patchStrategy=merge
	Secrets []Secret `json:"secrets,omitempty" patchStrategy:"merge" patchMergeKey:"name"`

	// Networks are the Environment's Docker networks; each service joins
	// the ones its own networks list (all of them when it lists none).
	// Omitted: one network, "default", that every service joins.
	// +optional
	// +listType=map
	// +listMapKey=name
	// +patchMergeKey=name
	// +patchStrategy=merge
	Networks []Network `json:"networks,omitempty" patchStrategy:"merge" patchMergeKey:"name"`

	// Teardown says what deleting the Environment leaves behind.
	// +optional
	Teardown Teardown `json:"teardown,omitempty"`

	// TTLSecondsAfterReady, when set, deletes the Environment that many
	// seconds after it first became Ready: a lease for disposable test stacks.
	// +optional
	TTLSecondsAfterReady *int64 `json:"ttlSecondsAfterReady,omitempty"`

	// Lease, when set, binds the Environment to a holder that renews its
	// EnvironmentLease (same name); when renewals stop for
	// lease.durationSeconds, berth deletes the Environment.
	// +optional
	Lease *LeaseBinding `json:"lease,omitempty"`

	// PoolRef, when set, claims a standby of an EnvironmentPool instead
	// of creating containers: leave services empty, the pool's template
	// supplies them. With no free standby, berth copies the template into
	// spec and the Environment converges on its own.
	// +optional
	PoolRef *PoolRef `json:"poolRef,omitempty"`

	// Standby marks a pool's standby Environment (written by the pool
	// controller).
	// +optional
	Standby *StandbySpec `json:"standby,omitempty"`

	// Host pins the Environment to one Docker host: the manager started
	// with that --host converges it. Unset, the placement holder binds it
	// to the live host with the most free memory budget. Set at create
	// only: the Environment's containers stay where they were made.
	// +optional
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=253
	// +kubebuilder:validation:Pattern=`^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$`
	Host string `json:"host,omitempty"`
}

// PullPolicy says when an image is pulled.
// +enum
// +kubebuilder:validation:Enum=Always;IfNotPresent;Never
type PullPolicy string

const (
	PullAlways       PullPolicy = "Always"
	PullIfNotPresent PullPolicy = "IfNotPresent"
	PullNever        PullPolicy = "Never"
)

// RestartPolicy says when an exited container is started again.
// +enum
// +kubebuilder:validation:Enum=Always;OnFailure;Never
type RestartPolicy string

const (
	RestartAlways    RestartPolicy = "Always"
	RestartOnFailure RestartPolicy = "OnFailure"
	RestartNever     RestartPolicy = "Never"
)

// DependencyCondition is what must hold of a dependency before a service starts.
// +enum
// +kubebuilder:validation:Enum=Started;Ready;Completed
type DependencyCondition string

const (
	// DependencyStarted holds once the dependency's container is running.
	DependencyStarted DependencyCondition = "Started"
	// DependencyReady holds once the dependency's readiness probe passes.
	DependencyReady DependencyCondition = "Ready"
	// DependencyCompleted holds once the dependency's container exited 0.
	DependencyCompleted DependencyCondition = "Completed"
)

// Protocol of a published port.
// +enum
// +kubebuilder:validation:Enum=TCP;UDP
type Protocol string

const (
	ProtocolTCP Protocol = "TCP"
	ProtocolUDP Protocol = "UDP"
)

// Service is one container of an Environment.
//
// +kubebuilder:validation:XValidation:rule="has(self.image) || has(self.build)",message="image or build is required"
type Service struct {
	// Name is the service's DNS name on the Environment's network.
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=40
	// +kubebuilder:validation:Pattern=`^[a-z0-9]([-a-z0-9]*[a-z0-9])?$`
	Name string `json:"name"`
	// Image is the image reference, as `docker run` takes it. Optional
	// when build is set; with both, the built image is also tagged image.
	// +optional
	Image string `json:"image,omitempty"`
	// Build builds the service's image from a Dockerfile on the manager's
	// host (compose's build:). The context must be absolute on the server;
	// `berth apply -f` resolves a relative one against the file's directory.
	// +optional
	Build *Build `json:"build,omitempty"`
	// ImagePullPolicy: Always, IfNotPresent (default) or Never.
	// +optional
	ImagePullPolicy PullPolicy `json:"imagePullPolicy,omitempty"`
	// Command replaces the image's entrypoint.
	// +optional
	// +kubebuilder:validation:MaxItems=256
	// +listType=atomic
	Command []string `json:"command,omitempty"`
	// Args replaces the image's cmd.
	// +optional
	// +kubebuilder:validation:MaxItems=256
	// +listType=atomic
	Args []string `json:"args,omitempty"`
	// Env sets environment variables in the container.
	// +optional
	// +listType=map
	// +listMapKey=name
	// +patchMergeKey=name
	// +patchStrategy=merge
	Env []EnvVar `json:"env,omitempty" patchStrategy:"merge" patchMergeKey:"name"`
	// Ports the container listens on, each containerPort and protocol
	// once (as in a Kubernetes Pod). Those with a hostPort are published on
	// the host (0 picks a free port); those without are compose's expose:
	// reachable by service name on the Environment's network only.
	// +optional
	// +listType=map
	// +listMapKey=containerPort
	// +listMapKey=protocol
	// +patchMergeKey=containerPort
	// +patchStrategy=merge
	Ports []ServicePort `json:"ports,omitempty" patchStrategy:"merge" patchMergeKey:"containerPort"`
	// Resources caps the container; without a memory limit the manager's
	// default applies, so no container is ever unbounded.
	// +optional
	Resources ResourceRequirements `json:"resources,omitempty"`
	// VolumeMounts mount the Environment's volumes into the container.
	// +optional
	// +listType=map
	// +listMapKey=mountPath
	// +patchMergeKey=mountPath
	// +patchStrategy=merge
	VolumeMounts []VolumeMount `json:"volumeMounts,omitempty" patchStrategy:"merge" patchMergeKey:"mountPath"`
	// ReadinessProbe decides when the service is Ready.
	// +optional
	ReadinessProbe *Probe `json:"readinessProbe,omitempty"`
	// Healthcheck replaces (or, with disable, turns off) the image's
	// HEALTHCHECK, as compose's healthcheck does. Without a readinessProbe,
	// a container with a healthcheck is Ready while Docker reports it
	// healthy.
	// +optional
	Healthcheck *Healthcheck `json:"healthcheck,omitempty"`
	// DependsOn lists services that must reach a condition before this one starts.
	// +optional
	// +listType=map
	// +listMapKey=service
	// +patchMergeKey=service
	// +patchStrategy=merge
	DependsOn []Dependency `json:"dependsOn,omitempty" patchStrategy:"merge" patchMergeKey:"service"`
	// RestartPolicy: Always (default), OnFailure or Never (one-shot jobs).
	// berth restarts containers itself (Docker's restart policy is off).
	// Compose's always and unless-stopped both map onto Always,
	// on-failure[:N] onto OnFailure (with RestartLimit N), no onto Never.
	// +optional
	RestartPolicy RestartPolicy `json:"restartPolicy,omitempty"`
	// RestartLimit caps how many times an OnFailure service's container is
	// restarted after failing (compose's on-failure:N); once used up, the
	// next failure is final and the service is Failed. A recreated
	// container starts counting again. Unset: no limit.
	// +optional
	RestartLimit *int32 `json:"restartLimit,omitempty"`
	// TerminationGracePeriodSeconds is how long a stop waits after the stop
	// signal before Docker kills the container. Default 10.
	// +optional
	// +kubebuilder:validation:Minimum=0
	// +kubebuilder:validation:Maximum=3600
	TerminationGracePeriodSeconds *int64 `json:"terminationGracePeriodSeconds,omitempty"`
	// StopSignal is the signal a stop sends first (SIGINT, SIGQUIT, ...,
	// with or without the SIG prefix, or a number, as Docker accepts it).
	// Unset keeps the image's STOPSIGNAL (SIGTERM when the image sets none):
	// postgres stops fast on SIGINT, nginx gracefully on SIGQUIT.
	// +optional
	StopSignal string `json:"stopSignal,omitempty"`

	// User runs the container's process as "uid[:gid]" or a user (and
	// group) name the image knows, as `docker run --user`. Unset keeps the
	// image's USER.
	// +optional
	User string `json:"user,omitempty"`
	// Hostname is the container's host name, as `docker run --hostname`
	// (a DNS-1123 subdomain). Unset is the service name. It is what the
	// process sees as its own name, not a DNS name others resolve: those
	// are the service name and the network aliases.
	// +optional
	Hostname string `json:"hostname,omitempty"`
	// WorkingDir is the absolute path the process starts in. Unset keeps
	// the image's WORKDIR.
	// +optional
	WorkingDir string `json:"workingDir,omitempty"`
	// Labels are added to the container. Keys under berth.dev/ are
	// berth's own and refused; berth's labels are always set.
	// +optional
	Labels map[string]string `json:"labels,omitempty"`
	// ReadOnlyRootFilesystem mounts the container's root filesystem
	// read-only; volumes stay writable.
	// +optional
	ReadOnlyRootFilesystem bool `json:"readOnlyRootFilesystem,omitempty"`
	// Init runs Docker's init (tini) as PID 1, which forwards signals and
	// reaps zombies for images whose process does neither.
	// +optional
	Init bool `json:"init,omitempty"`
	// ShmSize is the size of /dev/shm as a quantity (64Mi, 1Gi). Unset
	// keeps Docker's default (64 MiB).
	// +optional
	ShmSize *intstr.IntOrString `json:"shmSize,omitempty"`
	// CapAdd adds Linux capabilities (NET_ADMIN or CAP_NET_ADMIN).
	// +optional
	// +listType=atomic
	CapAdd []string `json:"capAdd,omitempty"`
	// CapDrop drops Linux capabilities; ALL drops every one.
	// +optional
	// +listType=atomic
	CapDrop []string `json:"capDrop,omitempty"`
	// Ulimits set resource limits of the container's processes.
	// +optional
	// +listType=map
	// +listMapKey=name
	// +patchMergeKey=name
	// +patchStrategy=merge
	Ulimits []Ulimit `json:"ulimits,omitempty" patchStrategy:"merge" patchMergeKey:"name"`
	// ExtraHosts add entries to the container's /etc/hosts.
	// +optional
	// +listType=atomic
	ExtraHosts []ExtraHost `json:"extraHosts,omitempty"`
	// Sysctls set namespaced kernel parameters of the container (net.*,
	// kernel.shm*, kernel.msg*, kernel.sem, fs.mqueue.*).
	// +optional
	Sysctls map[string]string `json:"sysctls,omitempty"`
	// Privileged gives the container every capability and the host's
	// devices. Refused unless the manager runs with --allow-privileged.
	// +optional
	Privileged bool `json:"privileged,omitempty"`

	// Files are spec.files written into the container before it starts.
	// +optional
	// +listType=map
	// +listMapKey=mountPath
	// +patchMergeKey=mountPath
	// +patchStrategy=merge
	Files []FileMount `json:"files,omitempty" patchStrategy:"merge" patchMergeKey:"mountPath"`
	// Secrets are spec.secrets written into the container before it
	// starts, at /run/secrets/NAME unless mountPath says otherwise.
	// +optional
	// +listType=atomic
	Secrets []SecretMount `json:"secrets,omitempty"`
	// Networks are the networks of spec.networks the service joins, with
	// extra DNS aliases on each. Omitted: every network of the spec.
	// +optional
	// +listType=map
	// +listMapKey=name
	// +patchMergeKey=name
	// +patchStrategy=merge
	Networks []ServiceNetwork `json:"networks,omitempty" patchStrategy:"merge" patchMergeKey:"name"`
	// Replicas is how many identical containers run the service (default
	// 1, at most 50), all behind its DNS name and aliases on each of its
	// networks, so Docker's DNS round-robins between them. Replica 0 is
	// berth_<env>_<service>, replica i berth_<env>_<service>_<i>. Scaling
	// creates or removes replicas only; the others are kept. A fixed
	// hostPort can be published by one container only, so replicas > 1
	// need hostPort 0 or none.
	// +optional
	// +kubebuilder:validation:Minimum=0
	// +kubebuilder:validation:Maximum=50
	Replicas *int32 `json:"replicas,omitempty"`
}

// Ulimit is one resource limit (`ulimit`) of the container's processes.
type Ulimit struct {
	// Name of the limit, as Docker spells it: nofile, nproc, core, memlock, ...
	Name string `json:"name"`
	// Soft is the limit the process gets; it may raise it up to Hard.
	Soft int64 `json:"soft"`
	// Hard is the ceiling; at least Soft.
	Hard int64 `json:"hard"`
}

// ExtraHost is one line of the container's /etc/hosts (compose's
// "hostname:ip" form, split).
type ExtraHost struct {
	// Hostname the entry resolves.
	Hostname string `json:"hostname"`
	// IP is an IPv4 or IPv6 address, or host-gateway for the Docker
	// host's address as seen from the container.
	IP string `json:"ip"`
}

// HostGateway is the ExtraHost IP that Docker replaces with the host's
// gateway address.
const HostGateway = "host-gateway"

// EnvVar is one environment variable.
type EnvVar struct {
	Name string `json:"name"`
	// +optional
	Value string `json:"value,omitempty"`
}

// ServicePort is a port the container listens on.
type ServicePort struct {
	// Name, optional, lets probes refer to the port and names it in status
	// (an IANA_SVC_NAME: at most 15 characters, lower case, a letter).
	// +optional
	Name string `json:"name,omitempty"`
	// ContainerPort is the port inside the container.
	// +kubebuilder:validation:Minimum=1
	// +kubebuilder:validation:Maximum=65535
	ContainerPort int32 `json:"containerPort"`
	// HostPort publishes the port on the host: 0 picks a free port, unset
	// does not publish.
	// +optional
	// +kubebuilder:validation:Minimum=0
	// +kubebuilder:validation:Maximum=65535
	HostPort *int32 `json:"hostPort,omitempty"`
	// HostIP is the host address to publish on. Default 127.0.0.1.
	// +optional
	HostIP string `json:"hostIP,omitempty"`
	// Protocol: TCP (default) or UDP.
	// +optional
	// +default="TCP"
	Protocol Protocol `json:"protocol,omitempty"`
}

// ResourceName is memory or cpu.
type ResourceName string

const (
	ResourceMemory ResourceName = "memory"
	ResourceCPU    ResourceName = "cpu"
)

// ResourceList maps a resource to a quantity in Kubernetes notation
// (512Mi, "1", 500m). Values are kept as written and parsed by validation,
// so a bad quantity is reported with its field path.
type ResourceList map[ResourceName]intstr.IntOrString

// ResourceRequirements are the container's limits and reservations.
type ResourceRequirements struct {
	// Limits cap memory (hard limit) and cpu (CPU quota).
	// +optional
	Limits ResourceList `json:"limits,omitempty"`
	// Requests reserve memory (Docker's soft limit).
	// +optional
	Requests ResourceList `json:"requests,omitempty"`
}

// VolumeMount mounts a declared volume at a path.
type VolumeMount struct {
	// Name of a volume in spec.volumes.
	Name string `json:"name"`
	// MountPath is the absolute path inside the container.
	MountPath string `json:"mountPath"`
	// +optional
	ReadOnly bool `json:"readOnly,omitempty"`
}

// Probe checks a service's readiness. Exactly one handler is set.
type Probe struct {
	// +optional
	Exec *ExecAction `json:"exec,omitempty"`
	// +optional
	HTTPGet *HTTPGetAction `json:"httpGet,omitempty"`
	// +optional
	TCPSocket *TCPSocketAction `json:"tcpSocket,omitempty"`
	// Log waits for a pattern in the container's output.
	// +optional
	Log *LogAction `json:"log,omitempty"`
	// InitialDelaySeconds after the container starts before the first probe.
	// +optional
	InitialDelaySeconds int32 `json:"initialDelaySeconds,omitempty"`
	// PeriodSeconds between probes. Default 2.
	// +optional
	PeriodSeconds int32 `json:"periodSeconds,omitempty"`
	// TimeoutSeconds of one probe. Default 1.
	// +optional
	TimeoutSeconds int32 `json:"timeoutSeconds,omitempty"`
	// SuccessThreshold: consecutive successes to become ready. Default 1.
	// +optional
	SuccessThreshold int32 `json:"successThreshold,omitempty"`
	// FailureThreshold: consecutive failures to become unready. Default 3.
	// +optional
	FailureThreshold int32 `json:"failureThreshold,omitempty"`
}

// ExecAction runs a command inside the container; exit 0 is success.
type ExecAction struct {
	// +listType=atomic
	Command []string `json:"command"`
}

// HTTPGetAction is an HTTP GET whose 2xx/3xx answer is success.
type HTTPGetAction struct {
	// Path of the request. Default /.
	// +optional
	Path string `json:"path,omitempty"`
	// Port: a container port number or the name of one of the service's ports.
	Port intstr.IntOrString `json:"port"`
	// Scheme is HTTP (default) or HTTPS.
	// +optional
	Scheme URIScheme `json:"scheme,omitempty"`
	// InsecureSkipVerify accepts any certificate over HTTPS. Off by
	// default: the certificate is verified against the system roots.
	// +optional
	InsecureSkipVerify bool `json:"insecureSkipVerify,omitempty"`
}

// TCPSocketAction succeeds when a TCP connection opens.
type TCPSocketAction struct {
	// Port: a container port number or the name of one of the service's ports.
	Port intstr.IntOrString `json:"port"`
}

// Dependency is a service that must reach Condition before this one starts.
type Dependency struct {
	// Service is the name of another service of the Environment.
	Service string `json:"service"`
	// Condition: Started (default), Ready or Completed.
	// +optional
	Condition DependencyCondition `json:"condition,omitempty"`
}

// Volume is one of: a named Docker volume owned by the Environment (neither
// source set), a host path (hostPath) or a tmpfs (emptyDir).
type Volume struct {
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=40
	// +kubebuilder:validation:Pattern=`^[a-z0-9]([-a-z0-9]*[a-z0-9])?$`
	Name string `json:"name"`
	// HostPath bind-mounts a path of the manager's host.
	// +optional
	HostPath *HostPathVolumeSource `json:"hostPath,omitempty"`
	// EmptyDir is a tmpfs with a size limit.
	// +optional
	EmptyDir *EmptyDirVolumeSource `json:"emptyDir,omitempty"`
}

// IsDockerVolume reports whether v is a named Docker volume (created and
// removed by berth), not a host path or tmpfs.
func (v Volume) IsDockerVolume() bool { return v.HostPath == nil && v.EmptyDir == nil }

// Teardown says what deletion leaves behind.
type Teardown struct {
	// RetainVolumes keeps the Environment's volumes after it is deleted.
	// +optional
	RetainVolumes bool `json:"retainVolumes,omitempty"`
}

// EnvironmentPhase summarises an Environment's state.
// +enum
type EnvironmentPhase string

const (
	PhasePending EnvironmentPhase = "Pending"
	// PhaseQueued waits for admission: its memory requests do not fit the
	// manager's budget yet, or the daemon is under memory pressure. The
	// Admitted condition says what it needs, what is free and its place.
	PhaseQueued      EnvironmentPhase = "Queued"
	PhaseProgressing EnvironmentPhase = "Progressing"
	PhaseReady       EnvironmentPhase = "Ready"
	PhaseDegraded    EnvironmentPhase = "Degraded"
	PhaseFailed      EnvironmentPhase = "Failed"
	PhaseTerminating EnvironmentPhase = "Terminating"
)

// Condition types of an Environment.
const (
	ConditionReady       = "Ready"
	ConditionProgressing = "Progressing"
	ConditionDegraded    = "Degraded"
	// ConditionAdmitted is True once the Environment fits the manager's
	// memory budget; it keeps its admission until it is deleted, and a
	// restarted manager counts it before admitting anything new.
	ConditionAdmitted = "Admitted"
)

// EnvironmentStatus is what berth observed, never what it intended.
//
// +kubebuilder:validation:XValidation:rule="!has(oldSelf.host) || (has(self.host) && self.host == oldSelf.host)",message="status.host may not change once set",fieldPath=".host"
type EnvironmentStatus struct {
	// Host is the Docker host the Environment is bound to, written once,
	// before any Docker object is made: spec.host, or the placement's
	// choice. Only that host's manager reconciles it.
	// +optional
	Host string `json:"host,omitempty"`
	// +optional
	Phase EnvironmentPhase `json:"phase,omitempty"`
	// ObservedGeneration is the generation the status describes.
	// +optional
	ObservedGeneration int64 `json:"observedGeneration,omitempty"`
	// Ready counts ready services as "ready/total", for `get`.
	// +optional
	Ready string `json:"ready,omitempty"`
	// +optional
	// +listType=map
	// +listMapKey=type
	// +patchMergeKey=type
	// +patchStrategy=merge
	Conditions []metav1.Condition `json:"conditions,omitempty" patchStrategy:"merge" patchMergeKey:"type"`
	// Services is the observed state of each service.
	// +optional
	// +listType=map
	// +listMapKey=name
	Services []ServiceStatus `json:"services,omitempty"`
	// FirstReadyTime is when the Environment first became Ready; the TTL
	// counts from it.
	// +optional
	FirstReadyTime *metav1.Time `json:"firstReadyTime,omitempty"`
	// Events is berth's record of what it did and why, newest last,
	// capped at the last 50.
	// +optional
	// +listType=atomic
	Events []EnvironmentEvent `json:"events,omitempty"`
}

// ServiceStatus is the observed state of one service's container.
type ServiceStatus struct {
	Name string `json:"name"`
	// +optional
	ContainerID string `json:"containerID,omitempty"`
	// State is Docker's container state (created, running, exited, …) or
	// Pending / Waiting when there is no container yet.
	// +optional
	State string `json:"state,omitempty"`
	// +optional
	Ready bool `json:"ready"`
	// +optional
	RestartCount int32 `json:"restartCount"`
	// +optional
	// +listType=atomic
	Ports []PortStatus `json:"ports,omitempty"`
	// +optional
	LastExitCode *int32 `json:"lastExitCode,omitempty"`
	// +optional
	StartedAt *metav1.Time `json:"startedAt,omitempty"`
	// RestartStreak is the crash-loop back-off's position: how many exits in
	// a row counted as crashes (the run before each was shorter than the
	// reset time). Exits caused by a Docker daemon outage do not count.
	// +optional
	RestartStreak int32 `json:"restartStreak,omitempty"`
	// LastCrashTime is when the last exit counted in RestartStreak happened.
	// +optional
	LastCrashTime *metav1.Time `json:"lastCrashTime,omitempty"`
	// MemoryLimitBytes is the hard memory limit berth gives the service's
	// container (its resources with the manager's default applied), in
	// bytes; set while the service has a container. The dashboard sums it
	// as the engine's reserved memory.
	// +optional
	MemoryLimitBytes int64 `json:"memoryLimitBytes,omitempty"`
	// MemoryRequestBytes is the container's memory reservation (soft
	// limit) in bytes, 0 when none; set with MemoryLimitBytes.
	// +optional
	MemoryRequestBytes int64 `json:"memoryRequestBytes,omitempty"`
	// Replicas is the number of containers the spec asks for; set only
	// when the service sets replicas. The service is Ready when all are.
	// +optional
	Replicas int32 `json:"replicas,omitempty"`
	// ReadyReplicas is how many of them are Ready; set with Replicas.
	// +optional
	ReadyReplicas int32 `json:"readyReplicas,omitempty"`
	// ReplicaStatuses are replicas 1..replicas-1 (replica 0 is this
	// status), in index order; set with Replicas.
	// +optional
	// +listType=atomic
	ReplicaStatuses []ReplicaStatus `json:"replicaStatuses,omitempty"`
	// +optional
	Message string `json:"message,omitempty"`
}

// PortStatus is where a container port is published on the host.
type PortStatus struct {
	// +optional
	Name          string `json:"name,omitempty"`
	ContainerPort int32  `json:"containerPort"`
	// +optional
	Protocol Protocol `json:"protocol,omitempty"`
	// +optional
	HostIP string `json:"hostIP,omitempty"`
	// +optional
	HostPort int32 `json:"hostPort,omitempty"`
	// Replica is the replica whose container publishes the port; 0 (the
	// service's first container, omitted) is listed first.
	// +optional
	Replica int32 `json:"replica,omitempty"`
}

// EnvironmentEvent is one entry of berth's record of what it did and why.
type EnvironmentEvent struct {
	Time metav1.Time `json:"time"`
	// Type is Normal or Warning.
	Type string `json:"type"`
	// Reason is a CamelCase word (Created, Recreated, Restarted, ...).
	Reason string `json:"reason"`
	// +optional
	Service string `json:"service,omitempty"`
	Message string `json:"message"`
}
