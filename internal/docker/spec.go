package docker

import (
	"fmt"
	"net/netip"
	"strconv"
	"time"

	"github.com/moby/moby/api/types/container"
	"github.com/moby/moby/api/types/mount"
	"github.com/moby/moby/api/types/network"

	v1 "berth.dev/berth/apis/v1alpha1"
)

// ContainerSpec is what the controller asks for; the layer turns it into
// Docker's create request and adds berth's labels.
type ContainerSpec struct {
	// Environment names the owning Environment; with Service it decides
	// the container name (berth_<env>_<service>) and network.
	Environment    string
	EnvironmentUID string
	Service        string
	// Name overrides ContainerName(Environment, Service).
	Name  string
	Image string
	// Command replaces the image's entrypoint, Args its cmd (Kubernetes
	// naming, as in the Environment API).
	Command []string
	Args    []string
	Env     []EnvVar
	// Labels are extra labels; berth's own (managed-by, environment,
	// environment-uid, service, spec-hash) are set by the layer.
	Labels map[string]string
	// SpecHash is the hash of the effective container config. An existing
	// container is adopted on a create retry only if its hash matches.
	SpecHash string
	Ports    []PortSpec
	// MemoryLimit and MemoryReservation are bytes; NanoCPUs is CPUs x 1e9.
	MemoryLimit       int64
	MemoryReservation int64
	NanoCPUs          int64
	// CPUShares is the relative CPU weight (requests.cpu); 0 = Docker's default.
	CPUShares int64
	// Hostname defaults to Docker's (the short container ID).
	Hostname string
	Mounts   []MountSpec
	// Network defaults to NetworkName(Environment); Aliases to [Service],
	// so services reach each other by service name.
	Network string
	Aliases []string
	// StopSignal defaults to the image's (SIGTERM); StopTimeout is the
	// grace period Docker uses when the container is stopped without one.
	StopSignal  string
	StopTimeout time.Duration

	// User is "uid[:gid]" or a name; WorkingDir an absolute path. Empty
	// keeps the image's.
	User       string
	WorkingDir string
	// ReadOnlyRootfs, Init (Docker's tini as PID 1) and Privileged are
	// off unless set.
	ReadOnlyRootfs bool
	Init           bool
	Privileged     bool
	// ShmSize is /dev/shm in bytes; 0 keeps Docker's default.
	ShmSize int64
	// CapAdd and CapDrop are capability names (CAP_NET_ADMIN, ALL).
	CapAdd  []string
	CapDrop []string
	Ulimits []UlimitSpec
	// ExtraHosts are "hostname:ip" lines for /etc/hosts; ip may be
	// host-gateway.
	ExtraHosts []string
	Sysctls    map[string]string
	// Healthcheck replaces (or turns off) the image's HEALTHCHECK; nil
	// keeps it.
	Healthcheck *HealthcheckSpec
}

// UlimitSpec is one resource limit; -1 is unlimited.
type UlimitSpec struct {
	Name       string
	Soft, Hard int64
}

// EnvVar is one environment variable, in order.
type EnvVar struct{ Name, Value string }

// PortSpec publishes a container port.
type PortSpec struct {
	ContainerPort int
	// Protocol is tcp (default) or udp.
	Protocol string
	// HostPort 0 lets Docker pick a free port, reported by inspect.
	HostPort int
	// HostIP defaults to 127.0.0.1: berth never publishes on all
	// interfaces unless told to.
	HostIP string
}

// MountSpec mounts a named volume, or, with Type set, a host path (bind)
// or a tmpfs.
type MountSpec struct {
	Volume   string // Docker volume name, e.g. VolumeName(env, "pgdata")
	Target   string
	ReadOnly bool
	// Type is "" (a named volume), "bind" or "tmpfs".
	Type string
	// Source is a bind's absolute host path.
	Source string
	// SizeBytes caps a tmpfs.
	SizeBytes int64
}

// DefaultHostIP is where ports are published when a PortSpec has no HostIP.
const DefaultHostIP = "127.0.0.1"

func (s ContainerSpec) name() string {
	if s.Name != "" {
		return s.Name
	}
	return ContainerName(s.Environment, s.Service)
}

func (s ContainerSpec) network() string {
	if s.Network != "" {
		return s.Network
	}
	return NetworkName(s.Environment)
}

// build turns the spec into Docker's create options with berth's labels.
func (c *Client) build(s ContainerSpec) (container.Config, container.HostConfig, network.NetworkingConfig, error) {
	if s.Image == "" {
		return container.Config{}, container.HostConfig{}, network.NetworkingConfig{}, fmt.Errorf("container %s: image is required", s.name())
	}
	if s.Name == "" && (s.Environment == "" || s.Service == "") {
		return container.Config{}, container.HostConfig{}, network.NetworkingConfig{}, fmt.Errorf("container spec: environment and service (or a name) are required")
	}
	labels := c.berthLabels(s.Labels, s.Environment, s.EnvironmentUID)
	if s.Service != "" {
		labels[v1.LabelService] = s.Service
	}
	if s.SpecHash != "" {
		labels[v1.LabelSpecHash] = s.SpecHash
	}
	cfg := container.Config{
		Image:        s.Image,
		Labels:       labels,
		Cmd:          s.Args,
		Entrypoint:   s.Command,
		StopSignal:   s.StopSignal,
		Hostname:     s.Hostname,
		ExposedPorts: network.PortSet{},
		User:         s.User,
		WorkingDir:   s.WorkingDir,
		Healthcheck:  s.Healthcheck.healthConfig(),
	}
	for _, e := range s.Env {
		cfg.Env = append(cfg.Env, e.Name+"="+e.Value)
	}
	if s.StopTimeout > 0 {
		secs := int((s.StopTimeout + time.Second - 1) / time.Second)
		cfg.StopTimeout = &secs
	}
	host := container.HostConfig{
		PortBindings: network.PortMap{},
		NetworkMode:  container.NetworkMode(s.network()),
		// berth decides about restarts itself, from events.
		RestartPolicy: container.RestartPolicy{Name: container.RestartPolicyDisabled},
		Resources: container.Resources{
			Memory:            s.MemoryLimit,
			MemoryReservation: s.MemoryReservation,
			NanoCPUs:          s.NanoCPUs,
			CPUShares:         s.CPUShares,
		},
		ReadonlyRootfs: s.ReadOnlyRootfs,
		Privileged:     s.Privileged,
		ShmSize:        s.ShmSize,
		CapAdd:         s.CapAdd,
		CapDrop:        s.CapDrop,
		ExtraHosts:     s.ExtraHosts,
		Sysctls:        s.Sysctls,
	}
	if s.Init {
		// Unset (nil) leaves the daemon's default, which a daemon.json
		// may turn on; berth only ever asks for it.
		init := true
		host.Init = &init
	}
	for _, u := range s.Ulimits {
		host.Ulimits = append(host.Ulimits, &container.Ulimit{Name: u.Name, Soft: u.Soft, Hard: u.Hard})
	}
	for _, p := range s.Ports {
		proto := p.Protocol
		if proto == "" {
			proto = "tcp"
		}
		port, err := network.ParsePort(strconv.Itoa(p.ContainerPort) + "/" + proto)
		if err != nil {
			return cfg, host, network.NetworkingConfig{}, fmt.Errorf("container %s port %d: %w", s.name(), p.ContainerPort, err)
		}
		ipStr := p.HostIP
		if ipStr == "" {
			ipStr = DefaultHostIP
		}
		ip, err := netip.ParseAddr(ipStr)
		if err != nil {
			return cfg, host, network.NetworkingConfig{}, fmt.Errorf("container %s port %d host IP: %w", s.name(), p.ContainerPort, err)
		}
		hostPort := ""
		if p.HostPort != 0 {
			hostPort = strconv.Itoa(p.HostPort)
		}
		cfg.ExposedPorts[port] = struct{}{}
		host.PortBindings[port] = append(host.PortBindings[port], network.PortBinding{HostIP: ip, HostPort: hostPort})
	}
	for _, m := range s.Mounts {
		mnt, err := dockerMount(m)
		if err != nil {
			return cfg, host, network.NetworkingConfig{}, fmt.Errorf("container %s: %w", s.name(), err)
		}
		host.Mounts = append(host.Mounts, mnt)
	}
	aliases := s.Aliases
	if aliases == nil && s.Service != "" {
		aliases = []string{s.Service}
	}
	netCfg := network.NetworkingConfig{EndpointsConfig: map[string]*network.EndpointSettings{
		s.network(): {Aliases: aliases},
	}}
	return cfg, host, netCfg, nil
}

// dockerMount is the engine's mount for m.
func dockerMount(m MountSpec) (mount.Mount, error) {
	switch m.Type {
	case "":
		return mount.Mount{Type: mount.TypeVolume, Source: m.Volume, Target: m.Target, ReadOnly: m.ReadOnly}, nil
	case string(mount.TypeBind):
		if m.Source == "" {
			return mount.Mount{}, fmt.Errorf("bind mount at %s has no source", m.Target)
		}
		return mount.Mount{Type: mount.TypeBind, Source: m.Source, Target: m.Target, ReadOnly: m.ReadOnly}, nil
	case string(mount.TypeTmpfs):
		if m.SizeBytes <= 0 {
			// Docker's default is half the host's memory: never ask
			// for that by accident.
			return mount.Mount{}, fmt.Errorf("tmpfs at %s has no size", m.Target)
		}
		return mount.Mount{Type: mount.TypeTmpfs, Target: m.Target, ReadOnly: m.ReadOnly,
			TmpfsOptions: &mount.TmpfsOptions{SizeBytes: m.SizeBytes}}, nil
	}
	return mount.Mount{}, fmt.Errorf("mount at %s: unknown type %q", m.Target, m.Type)
}
