package docker

import (
	"context"
	"fmt"
	"net/netip"
	"regexp"
	"sort"
	"strconv"
	"time"

	"github.com/moby/moby/api/types/container"
	"github.com/moby/moby/client"

	v1 "berth.dev/berth/apis/v1alpha1"
	"berth.dev/berth/internal/governor"
)

// Container is berth's view of a container: what the controller needs to
// observe a service, from an inspect, a list or events.
type Container struct {
	ID     string
	Name   string
	Image  string
	Labels map[string]string
	// From berth's labels.
	Environment    string
	EnvironmentUID string
	Service        string
	SpecHash       string

	// State is Docker's: created, running, paused, restarting, removing,
	// exited or dead.
	State     string
	ExitCode  int
	OOMKilled bool
	Health    string // "", starting, healthy, unhealthy
	// HealthUnknown: the container started (or was listed) and has not
	// been inspected since, so whether it has a healthcheck is not known
	// yet. Readiness from a HEALTHCHECK must not take the empty Health of
	// that moment for "no healthcheck".
	HealthUnknown bool
	CreatedAt     time.Time
	StartedAt     time.Time
	FinishedAt    time.Time
	// RestartCount counts restarts by Docker's restart policy (berth sets
	// none, so it stays 0 unless someone else changed the container).
	RestartCount int
	Ports        []PublishedPort
	// IPAddress is the address on the environment's network, if attached.
	IPAddress string
	Networks  map[string]string // network name -> IP

	// ObservedAt is when this view was taken; events older than it are
	// already reflected.
	ObservedAt time.Time
	// Detailed: this view comes from an inspect since the last start, so
	// Ports and Networks are what Docker assigned (the informer's cache
	// skips that inspect for what this process created, known.go).
	Detailed bool

	// status is a list entry's status text, for its exit code.
	status string
}

// Running reports whether the container's process is up.
func (c Container) Running() bool {
	return c.State == string(container.StateRunning) || c.State == string(container.StateRestarting)
}

// PublishedPort is a container port and where it is published on the host.
type PublishedPort struct {
	ContainerPort int
	Protocol      string
	HostIP        string
	HostPort      int
}

// FillLabels sets the fields read from berth's labels (Environment,
// EnvironmentUID, Service, SpecHash) from Labels, for views built from an
// event's attributes.
func (c *Container) FillLabels() {
	c.Environment = c.Labels[v1.LabelEnvironment]
	c.EnvironmentUID = c.Labels[v1.LabelEnvironmentUID]
	c.Service = c.Labels[v1.LabelService]
	c.SpecHash = c.Labels[v1.LabelSpecHash]
}

func parseDockerTime(s string) time.Time {
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil || t.Year() <= 1 {
		return time.Time{}
	}
	return t
}

// fromInspect converts an inspect answer.
func fromInspect(r container.InspectResponse, observed time.Time) Container {
	c := Container{ID: r.ID, Name: trimName(r.Name), RestartCount: r.RestartCount, ObservedAt: observed}
	c.CreatedAt = parseDockerTime(r.Created)
	if r.Config != nil {
		c.Image = r.Config.Image
		c.Labels = r.Config.Labels
	}
	c.FillLabels()
	if s := r.State; s != nil {
		c.State = string(s.Status)
		c.ExitCode = s.ExitCode
		c.OOMKilled = s.OOMKilled
		c.StartedAt = parseDockerTime(s.StartedAt)
		c.FinishedAt = parseDockerTime(s.FinishedAt)
		if s.Health != nil {
			c.Health = string(s.Health.Status)
		}
	}
	if ns := r.NetworkSettings; ns != nil {
		for port, bindings := range ns.Ports {
			for _, b := range bindings {
				hp, _ := strconv.Atoi(b.HostPort)
				c.Ports = append(c.Ports, PublishedPort{
					ContainerPort: int(port.Num()), Protocol: string(port.Proto()),
					HostIP: addrString(b.HostIP), HostPort: hp,
				})
			}
		}
		c.Networks = map[string]string{}
		for name, ep := range ns.Networks {
			if ep != nil {
				c.Networks[name] = addrString(ep.IPAddress)
			}
		}
	}
	c.IPAddress = c.Networks[NetworkName(c.Environment)]
	sortPorts(c.Ports)
	return c
}

// fromSummary converts a list entry. Lists lack start/finish times and exit
// codes; the informer inspects what it needs.
func fromSummary(s container.Summary, observed time.Time) Container {
	c := Container{ID: s.ID, Image: s.Image, Labels: s.Labels, State: string(s.State), ObservedAt: observed, status: s.Status}
	if len(s.Names) > 0 {
		c.Name = trimName(s.Names[0])
	}
	c.CreatedAt = time.Unix(s.Created, 0)
	c.FillLabels()
	for _, p := range s.Ports {
		if p.PublicPort == 0 {
			continue
		}
		c.Ports = append(c.Ports, PublishedPort{ContainerPort: int(p.PrivatePort), Protocol: p.Type, HostIP: addrString(p.IP), HostPort: int(p.PublicPort)})
	}
	if s.Health != nil {
		c.Health = string(s.Health.Status)
	}
	// Older APIs (1.41) list no health: an inspect tells.
	c.HealthUnknown = s.Health == nil && c.Running()
	if s.NetworkSettings != nil {
		c.Networks = map[string]string{}
		for name, ep := range s.NetworkSettings.Networks {
			if ep != nil {
				c.Networks[name] = addrString(ep.IPAddress)
			}
		}
	}
	c.IPAddress = c.Networks[NetworkName(c.Environment)]
	sortPorts(c.Ports)
	return c
}

func addrString(a netip.Addr) string {
	if !a.IsValid() {
		return ""
	}
	return a.String()
}

func sortPorts(p []PublishedPort) {
	sort.Slice(p, func(i, j int) bool {
		if p[i].ContainerPort != p[j].ContainerPort {
			return p[i].ContainerPort < p[j].ContainerPort
		}
		if p[i].Protocol != p[j].Protocol {
			return p[i].Protocol < p[j].Protocol
		}
		return p[i].HostIP < p[j].HostIP
	})
}

// InspectContainer reads one container by ID or name (a read). A
// container without this manager's identity is refused (ErrNotOwned).
func (c *Client) InspectContainer(ctx context.Context, idOrName string) (Container, error) {
	cur, err := c.inspectContainer(ctx, idOrName)
	if err != nil {
		return Container{}, err
	}
	if err := c.checkOwned("container_inspect", containerLabel(cur, idOrName), cur.Labels); err != nil {
		return Container{}, err
	}
	c.owned.add(cur.ID)
	return cur, nil
}

// InspectAnyContainer reads any container, owned or not: for the layer's
// own checks (a name clash on create, an endpoint on a network) and the
// informer's inspect after an event, which checks ownership itself.
func (c *Client) InspectAnyContainer(ctx context.Context, idOrName string) (Container, error) {
	return c.inspectContainer(ctx, idOrName)
}

func (c *Client) inspectContainer(ctx context.Context, idOrName string) (Container, error) {
	var out Container
	err := c.gov.Do(ctx, governor.Call{Op: "container_inspect", Lane: governor.LaneRead, Object: idOrName, Idempotent: true}, func(ctx context.Context, _ int) error {
		observed := time.Now()
		r, err := c.api.ContainerInspect(ctx, idOrName, client.ContainerInspectOptions{})
		if err != nil {
			return err
		}
		out = fromInspect(r.Container, observed)
		return nil
	})
	return out, err
}

// ListContainers lists every container carrying this manager's identity,
// running or not (one read).
func (c *Client) ListContainers(ctx context.Context) ([]Container, error) {
	var out []Container
	err := c.gov.Do(ctx, governor.Call{Op: "container_list", Lane: governor.LaneRead, Idempotent: true}, func(ctx context.Context, _ int) error {
		observed := time.Now()
		r, err := c.api.ContainerList(ctx, client.ContainerListOptions{All: true, Filters: c.ownedFilter()})
		if err != nil {
			return err
		}
		out = out[:0]
		for _, s := range r.Items {
			out = append(out, fromSummary(s, observed))
		}
		return nil
	})
	return out, err
}

func (c *Client) ownedFilter() client.Filters {
	return make(client.Filters).Add("label", v1.LabelManagedBy+"="+c.id)
}

// Created is the result of CreateContainer.
type Created struct {
	ID string
	// Adopted: the container already existed with this manager's labels,
	// the same Environment name, UID and service, and the same spec hash
	// (a retry, or a rerun reconcile), and was taken over instead of
	// created.
	Adopted bool
	// Container is what the create itself tells about a container it
	// made (ID, name, image, labels, state created), for a cache to learn
	// ahead of its event; zero when adopted.
	Container Container
}

// CreateContainer creates the container described by spec. Create is not
// idempotent, so a failed attempt that may have reached the daemon is
// followed by a lookup by the deterministic name before any retry, and a
// name clash with an owned container of the same Environment (name and
// UID), service and spec hash adopts it. A clash with anything else is a
// Conflict (or NotOwned) error.
func (c *Client) CreateContainer(ctx context.Context, spec ContainerSpec) (Created, error) {
	cfg, host, netCfg, err := c.build(spec)
	if err != nil {
		return Created{}, &Error{Op: "container_create", Object: spec.name(), Kind: ErrInvalid, Err: err}
	}
	name := spec.name()
	var out Created
	adopt := func(ctx context.Context) (bool, error) {
		existing, err := c.inspectContainer(ctx, name)
		if IsNotFound(err) {
			return false, nil
		}
		if err != nil {
			return false, err
		}
		if err := c.adoptable(existing, spec); err != nil {
			return false, err
		}
		out = Created{ID: existing.ID, Adopted: true}
		return true, nil
	}
	cl := governor.Call{Op: "container_create", Lane: governor.LaneWrite, Object: name, Recover: adopt}
	err = c.gov.Do(ctx, cl, func(ctx context.Context, _ int) error {
		r, err := c.api.ContainerCreate(ctx, client.ContainerCreateOptions{Name: name, Config: &cfg, HostConfig: &host, NetworkingConfig: &netCfg})
		if err != nil {
			return err
		}
		out = Created{ID: r.ID, Container: Container{ID: r.ID, Name: name, Image: cfg.Image, Labels: cfg.Labels, State: "created", CreatedAt: time.Now()}}
		out.Container.FillLabels()
		c.owned.add(r.ID)
		c.rememberCreated(r.ID, spec)
		return nil
	})
	if IsConflict(err) {
		// The name is taken: ours from an earlier run, or someone else's.
		done, aerr := adopt(ctx)
		if done {
			c.log.V(1).Info("adopted existing container", "name", name, "id", out.ID)
			return out, nil
		}
		if aerr != nil {
			return Created{}, aerr
		}
	}
	if IsNotFound(err) {
		return Created{}, fmt.Errorf("create container %s: image %s or network %s missing: %w", name, spec.Image, spec.network(), err)
	}
	if err != nil {
		return Created{}, fmt.Errorf("create container %s: %w", name, err)
	}
	return out, nil
}

// adoptable says whether an existing container may stand in for a create:
// this manager's, of the same Environment incarnation and service, with
// the same spec hash.
func (c *Client) adoptable(existing Container, spec ContainerSpec) error {
	if err := c.attributable("container_create", "container "+shortID(existing.ID), existing.Name, existing.Labels, spec.Environment, spec.EnvironmentUID); err != nil {
		return err
	}
	if spec.Service != "" && existing.Service != spec.Service {
		return &Error{Op: "container_create", Object: existing.Name, Kind: ErrConflict,
			Err: fmt.Errorf("name taken by owned container %s of service %q, not %q", shortID(existing.ID), existing.Service, spec.Service)}
	}
	if spec.SpecHash != "" && existing.SpecHash != spec.SpecHash {
		return &Error{Op: "container_create", Object: existing.Name, Kind: ErrConflict,
			Err: fmt.Errorf("name taken by owned container %s with spec-hash %q, want %q", shortID(existing.ID), existing.SpecHash, spec.SpecHash)}
	}
	return nil
}

// StartContainer starts a created or stopped container. Starting a running
// container is a no-op (Docker answers 304), which makes retries safe.
func (c *Client) StartContainer(ctx context.Context, id string) error {
	err := c.gov.Do(ctx, governor.Call{Op: "container_start", Lane: governor.LaneWrite, Object: id, Idempotent: true}, func(ctx context.Context, _ int) error {
		_, err := c.api.ContainerStart(ctx, id, client.ContainerStartOptions{})
		return err
	})
	if err != nil {
		return fmt.Errorf("start container %s: %w", shortID(id), err)
	}
	return nil
}

func shortID(id string) string {
	if len(id) > 12 {
		return id[:12]
	}
	return id
}

var exitedStatus = regexp.MustCompile(`^Exited \((-?\d+)\)`)

// ListedExitCode reads the exit code from a list entry's status text
// ("Exited (137) 3 seconds ago"), saving an inspect per exited container;
// ok is false for a view that did not come from a list or is not exited.
func (c *Container) ListedExitCode() (code int, ok bool) {
	m := exitedStatus.FindStringSubmatch(c.status)
	if m == nil {
		return 0, false
	}
	n, err := strconv.Atoi(m[1])
	return n, err == nil
}
