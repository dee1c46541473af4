package plan

import (
	"cmp"
	"errors"
	"fmt"
	"maps"
	"slices"
	"time"

	"berth.dev/berth/apis/v1alpha1"
)

// ContainerConfig is everything berth asks of one container, in berth's own
// terms: the Docker layer translates it to the engine's API, and SpecHash
// summarises it in the spec-hash label.
type ContainerConfig struct {
	// Name is the deterministic container name, berth_<env>_<service>.
	Name  string
	Image string
	// Entrypoint comes from the spec's command; empty keeps the image's.
	Entrypoint []string
	// Cmd comes from the spec's args; empty keeps the image's.
	Cmd []string
	// Env is KEY=VALUE, sorted by key.
	Env    []string
	Labels map[string]string
	// Ports are sorted by container port and protocol.
	Ports     []PortBinding
	Resources Resources
	// Mounts are sorted by target path.
	Mounts []Mount
	// Network is the Environment's network, berth_<env>; the container joins
	// it under NetworkAlias (the service name), which is how services reach
	// each other.
	Network      string
	NetworkAlias string
	// Networks, set only when the Environment lists networks or the
	// service lists its own, are every network the container joins
	// (Network among them), sorted by name, with their extra aliases.
	Networks []NetworkAttachment
	Hostname string
	// StopSignal is the spec's stopSignal; "" keeps the image's STOPSIGNAL,
	// which Docker then sends on every stop (berth's, a `docker stop`, a
	// daemon shutdown).
	StopSignal string
	// StopTimeout is the service's grace period, so a `docker stop` from
	// outside or a daemon shutdown is as gentle as berth's own stops.
	StopTimeout time.Duration
	// RestartedAt is the service's restart request (v1alpha1.RestartAnnotation), ""
	// when none was made; a new value recreates the container.
	RestartedAt string
	// Settings are the service's container settings (user, capabilities,
	// limits, ...); the zero value keeps the image's and Docker's defaults.
	Settings Settings
	// Files are the files and secrets written into the container after
	// its create and before its first start, sorted by target.
	Files []FileCopy
	// Healthcheck is the spec's healthcheck; nil keeps the image's
	// HEALTHCHECK as it is.
	Healthcheck *Healthcheck
}

// Settings are the container settings real images need, each one a
// `docker run` flag and a compose service key. Lists and maps are
// normalised (capabilities upper case with CAP_, sorted; ulimits by name;
// extra hosts in spec order, which /etc/hosts keeps), so a reordered spec
// does not recreate the container.
type Settings struct {
	User       string            `json:",omitempty"`
	WorkingDir string            `json:",omitempty"`
	Labels     map[string]string `json:",omitempty"`
	ReadOnly   bool              `json:",omitempty"`
	Init       bool              `json:",omitempty"`
	// ShmSize is bytes; 0 keeps Docker's default (64 MiB).
	ShmSize    int64             `json:",omitempty"`
	CapAdd     []string          `json:",omitempty"`
	CapDrop    []string          `json:",omitempty"`
	Ulimits    []Ulimit          `json:",omitempty"`
	ExtraHosts []string          `json:",omitempty"` // "hostname:ip", ip may be host-gateway
	Sysctls    map[string]string `json:",omitempty"`
	Privileged bool              `json:",omitempty"`
}

// Ulimit is one resource limit; -1 is unlimited.
type Ulimit struct {
	Name       string
	Soft, Hard int64
}

// PortBinding is one container port and where it is published.
type PortBinding struct {
	// Name is the spec's port name; it names the port in status only.
	Name          string
	ContainerPort int32
	Protocol      v1alpha1.Protocol
	HostIP        string
	// HostPort is PortUnpublished, PortRandom, or a fixed host port.
	HostPort int32
}

// HostPort values with a special meaning.
const (
	PortUnpublished int32 = -1
	PortRandom      int32 = 0
)

// Published reports whether Docker should bind the port on the host.
func (p PortBinding) Published() bool { return p.HostPort != PortUnpublished }

// Resources are the container's limits, always with a memory limit.
type Resources struct {
	MemoryLimit       int64 // bytes, hard limit
	MemoryReservation int64 // bytes, soft limit, never above MemoryLimit
	NanoCPUs          int64 // CPU quota from limits.cpu; 0 = unlimited
	CPUShares         int64 // relative weight from requests.cpu; 0 = Docker's default
}

// Mount mounts a named Docker volume, a host path (MountBind) or a tmpfs
// (MountTmpfs). The fields of the last two are omitted when empty, so the
// spec hash of a container with volume mounts only is what it always was.
type Mount struct {
	Volume   string // Docker volume name, berth_<env>_<volume> (or an adopted one's)
	Target   string
	ReadOnly bool
	// Type is MountVolume (empty), MountBind or MountTmpfs.
	Type MountType `json:",omitempty"`
	// Source is a bind's host path, symlinks resolved.
	Source string `json:",omitempty"`
	// SizeBytes is a tmpfs's size.
	SizeBytes int64 `json:",omitempty"`
}

// The deterministic Docker names, from the API package that defines them.
var (
	NetworkName   = v1alpha1.NetworkName
	ContainerName = v1alpha1.ContainerName
	VolumeName    = v1alpha1.VolumeName
)

// EnvironmentLabels are the labels of everything berth creates for env.
func EnvironmentLabels(env *v1alpha1.Environment, opts Options) map[string]string {
	return map[string]string{
		v1alpha1.LabelManagedBy:      opts.ManagerID,
		v1alpha1.LabelEnvironment:    env.Name,
		v1alpha1.LabelEnvironmentUID: string(env.UID),
	}
}

// BuildContainerConfig is the container svc of env should have. Specs are
// expected to be defaulted and valid; anything missing still gets berth's
// defaults, and a bad quantity is an error naming its field.
func BuildContainerConfig(env *v1alpha1.Environment, svc *v1alpha1.Service, opts Options) (ContainerConfig, error) {
	return BuildContainerConfigHost(env, svc, opts, HostReads{})
}

// BuildContainerConfigHost is BuildContainerConfig with what the manager
// read on its host: the content of path-based files and secrets and the
// resolved host paths, which the config (and its hash) depends on. A path
// the manager could not use is a *HostPathError.
func BuildContainerConfigHost(env *v1alpha1.Environment, svc *v1alpha1.Service, opts Options, host HostReads) (ContainerConfig, error) {
	if env == nil || svc == nil {
		return ContainerConfig{}, errors.New("build container config: environment and service are required")
	}
	opts = opts.withDefaults()
	res, err := buildResources(svc.Resources, opts)
	if err != nil {
		return ContainerConfig{}, fmt.Errorf("service %q: %w", svc.Name, err)
	}
	settings, err := buildSettings(svc)
	if err != nil {
		return ContainerConfig{}, fmt.Errorf("service %q: %w", svc.Name, err)
	}
	mounts, err := buildMounts(env, svc.VolumeMounts, host)
	if err != nil {
		return ContainerConfig{}, fmt.Errorf("service %q: %w", svc.Name, err)
	}
	files, err := buildFiles(env, svc, host)
	if err != nil {
		return ContainerConfig{}, fmt.Errorf("service %q: %w", svc.Name, err)
	}
	cfg := ContainerConfig{
		Name:        ContainerName(env.Name, svc.Name),
		Image:       svc.Image,
		Entrypoint:  cloneOrNil(svc.Command),
		Cmd:         cloneOrNil(svc.Args),
		Env:         buildEnv(svc.Env),
		Ports:       buildPorts(svc.Ports),
		Resources:   res,
		Mounts:      mounts,
		Hostname:    hostname(svc),
		StopSignal:  svc.StopSignal,
		StopTimeout: GracePeriod(svc),
		RestartedAt: restartRequest(env, svc.Name),
		Settings:    settings,
		Files:       files,
		Healthcheck: buildHealthcheck(svc),
	}
	buildNetworks(env, svc, &cfg)
	// The user's labels first, so berth's own always win (validation
	// refuses berth.dev/ keys anyway).
	cfg.Labels = maps.Clone(settings.Labels)
	if cfg.Labels == nil {
		cfg.Labels = map[string]string{}
	}
	maps.Copy(cfg.Labels, EnvironmentLabels(env, opts))
	cfg.Labels[v1alpha1.LabelService] = svc.Name
	if cfg.RestartedAt != "" {
		cfg.Labels[v1alpha1.LabelRestartedAt] = cfg.RestartedAt
	}
	cfg.Labels[v1alpha1.LabelSpecHash] = SpecHash(cfg)
	return cfg, nil
}

// GracePeriod is the service's terminationGracePeriodSeconds.
func GracePeriod(svc *v1alpha1.Service) time.Duration {
	if svc == nil || svc.TerminationGracePeriodSeconds == nil || *svc.TerminationGracePeriodSeconds < 0 {
		return DefaultGracePeriod
	}
	return time.Duration(*svc.TerminationGracePeriodSeconds) * time.Second
}

func buildEnv(vars []v1alpha1.EnvVar) []string {
	sorted := slices.Clone(vars)
	// Docker does not expand one variable into another, so order carries no
	// meaning; sorting keeps a reordered spec from recreating the container.
	slices.SortStableFunc(sorted, func(a, b v1alpha1.EnvVar) int { return cmp.Compare(a.Name, b.Name) })
	var out []string
	for _, v := range sorted {
		out = append(out, v.Name+"="+v.Value)
	}
	return out
}

func buildPorts(ports []v1alpha1.ServicePort) []PortBinding {
	var out []PortBinding
	for _, p := range ports {
		b := PortBinding{
			Name:          p.Name,
			ContainerPort: p.ContainerPort,
			Protocol:      p.Protocol,
			HostPort:      PortUnpublished,
		}
		if b.Protocol == "" {
			b.Protocol = v1alpha1.ProtocolTCP
		}
		if p.HostPort != nil {
			b.HostPort = *p.HostPort
			b.HostIP = p.HostIP
			if b.HostIP == "" {
				b.HostIP = "127.0.0.1"
			}
		}
		out = append(out, b)
	}
	slices.SortStableFunc(out, comparePorts)
	return out
}

func comparePorts(a, b PortBinding) int {
	return cmp.Or(
		cmp.Compare(a.ContainerPort, b.ContainerPort),
		cmp.Compare(a.Protocol, b.Protocol),
		cmp.Compare(a.HostIP, b.HostIP),
		cmp.Compare(a.HostPort, b.HostPort),
	)
}

func buildMounts(env *v1alpha1.Environment, mounts []v1alpha1.VolumeMount, host HostReads) ([]Mount, error) {
	var out []Mount
	for _, m := range mounts {
		mount, err := buildMount(env, m, host)
		if err != nil {
			return nil, err
		}
		out = append(out, mount)
	}
	slices.SortStableFunc(out, func(a, b Mount) int { return cmp.Compare(a.Target, b.Target) })
	return out, nil
}

func cloneOrNil(s []string) []string {
	if len(s) == 0 {
		return nil
	}
	return slices.Clone(s)
}

// hostname is the container's host name: the spec's, else the service
// name. The spec hash always held the host name, so an unset hostname
// keeps the hash of containers created before the field existed.
func hostname(svc *v1alpha1.Service) string {
	if svc.Hostname != "" {
		return svc.Hostname
	}
	return svc.Name
}
