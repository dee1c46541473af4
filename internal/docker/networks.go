package docker

import (
	"context"
	"fmt"
	"net/netip"
	"sort"
	"strings"
	"time"

	"github.com/moby/moby/api/types/network"
	"github.com/moby/moby/client"

	"berth.dev/berth/internal/governor"
)

// Network is berth's view of a Docker network.
type Network struct {
	ID          string
	Name        string
	Labels      map[string]string
	Environment string
	CreatedAt   time.Time
	// Containers maps attached container IDs to their endpoint name; only
	// filled by inspect and the informer.
	Containers map[string]string
	ObservedAt time.Time
}

// NetworkSpec asks for an environment's network.
type NetworkSpec struct {
	Environment    string
	EnvironmentUID string
	// Name overrides NetworkName(Environment).
	Name   string
	Labels map[string]string
	// Subnet pins the network's IPv4 subnet (CIDR). Empty: a free subnet
	// of the client's address pool (--docker-address-pool or the default one).
	Subnet string
}

func (s NetworkSpec) name() string {
	if s.Name != "" {
		return s.Name
	}
	return NetworkName(s.Environment)
}

func fromNetwork(n network.Network, observed time.Time) Network {
	out := Network{ID: n.ID, Name: n.Name, Labels: n.Labels, CreatedAt: n.Created, ObservedAt: observed}
	out.Environment = n.Labels[labelEnvironment]
	return out
}

// networksNamed lists networks whose name is exactly name: Docker's name
// filter matches substrings.
func (c *Client) networksNamed(ctx context.Context, name string) ([]Network, error) {
	var out []Network
	err := c.gov.Do(ctx, governor.Call{Op: "network_list", Lane: governor.LaneRead, Object: name, Idempotent: true}, func(ctx context.Context, _ int) error {
		observed := time.Now()
		r, err := c.api.NetworkList(ctx, client.NetworkListOptions{Filters: make(client.Filters).Add("name", name)})
		if err != nil {
			return err
		}
		out = out[:0]
		for _, n := range r.Items {
			if n.Name == name {
				out = append(out, fromNetwork(n.Network, observed))
			}
		}
		return nil
	})
	sortNetworks(out)
	return out, err
}

// sortNetworks orders networks of one name oldest first: the oldest of
// duplicates wins.
func sortNetworks(nets []Network) {
	sort.Slice(nets, func(i, j int) bool {
		if !nets[i].CreatedAt.Equal(nets[j].CreatedAt) {
			return nets[i].CreatedAt.Before(nets[j].CreatedAt)
		}
		return nets[i].ID < nets[j].ID
	})
}

// ListNetworks lists every network carrying this manager's identity.
func (c *Client) ListNetworks(ctx context.Context) ([]Network, error) {
	var out []Network
	err := c.gov.Do(ctx, governor.Call{Op: "network_list", Lane: governor.LaneRead, Idempotent: true}, func(ctx context.Context, _ int) error {
		observed := time.Now()
		r, err := c.api.NetworkList(ctx, client.NetworkListOptions{Filters: c.ownedFilter()})
		if err != nil {
			return err
		}
		out = out[:0]
		for _, n := range r.Items {
			out = append(out, fromNetwork(n.Network, observed))
		}
		return nil
	})
	return out, err
}

// InspectNetwork reads one network with its attached containers.
func (c *Client) InspectNetwork(ctx context.Context, idOrName string) (Network, error) {
	var out Network
	err := c.gov.Do(ctx, governor.Call{Op: "network_inspect", Lane: governor.LaneRead, Object: idOrName, Idempotent: true}, func(ctx context.Context, _ int) error {
		observed := time.Now()
		r, err := c.api.NetworkInspect(ctx, idOrName, client.NetworkInspectOptions{})
		if err != nil {
			return err
		}
		out = fromNetwork(r.Network.Network, observed)
		out.Containers = map[string]string{}
		for id, ep := range r.Network.Containers {
			out.Containers[id] = ep.Name
		}
		return nil
	})
	return out, err
}

// EnsureNetwork returns the environment's network, creating it if needed.
// A network under the name is only used if it carries this manager's
// identity and the spec's Environment name and UID (when given); one of
// another Environment or incarnation is a Conflict, a foreign one NotOwned.
// Docker (before API 1.44) allows two networks with one name, so creates of
// a name are serialised in this process, a create that may have happened
// is looked up before it is retried, and if duplicates of ours exist anyway
// the oldest wins and the empty extras are removed.
func (c *Client) EnsureNetwork(ctx context.Context, spec NetworkSpec) (Network, error) {
	name := spec.name()
	unlock := c.nameLocks.lock("network/" + name)
	defer unlock()

	// decide picks the network of this Environment among those named
	// name.
	decide := func(ctx context.Context, nets []Network) (Network, bool, error) {
		var owned []Network
		var refused error
		for _, n := range nets {
			err := c.attributable("network_create", "network "+shortID(n.ID), name, n.Labels, spec.Environment, spec.EnvironmentUID)
			switch {
			case err == nil:
				owned = append(owned, n)
			case refused == nil:
				refused = err
			}
		}
		if len(owned) == 0 {
			// Any network under the name that is not this
			// Environment's (incarnation's) blocks it: a container
			// created with the name could join either.
			return Network{}, false, refused
		}
		for _, extra := range owned[1:] {
			c.removeDuplicateNetwork(ctx, extra)
		}
		return owned[0], true, nil
	}
	found := func(ctx context.Context) (Network, bool, error) {
		nets, err := c.networksNamed(ctx, name)
		if err != nil {
			return Network{}, false, err
		}
		return decide(ctx, nets)
	}

	// One list of every network answers both questions of the first
	// create: is the name taken, and which subnets are.
	listing, err := c.listAllNetworks(ctx, name)
	if err != nil {
		return Network{}, fmt.Errorf("ensure network %s: %w", name, err)
	}
	if n, ok, err := decide(ctx, listing.named); err != nil || ok {
		if err != nil {
			return Network{}, fmt.Errorf("ensure network %s: %w", name, err)
		}
		return n, nil
	}
	var out Network
	var warned bool
	lookup := func(ctx context.Context) (bool, error) {
		n, ok, err := found(ctx)
		if ok {
			out = n
		}
		return ok, err
	}
	labels := c.berthLabels(spec.Labels, spec.Environment, spec.EnvironmentUID)
	for pick := 0; pick < 3; pick++ {
		var ipam *network.IPAM
		var release func()
		ipam, release, err = c.ipamFor(ctx, spec, &listing)
		// A retry lists again: someone took the subnet meanwhile.
		listing = networkListing{}
		if err != nil {
			return Network{}, fmt.Errorf("ensure network %s: %w", name, err)
		}
		err = c.createNetwork(ctx, name, labels, ipam, lookup, &out, &warned)
		release()
		if err == nil || spec.Subnet != "" || !strings.Contains(err.Error(), "overlaps") {
			break
		}
		// Someone took the subnet between our list and our create.
		if governor.Sleep(ctx, subnetRetryWait) != nil {
			break
		}
	}
	// Every create names its subnet, so Docker's own default pools (which
	// run dry after about 31 networks) are never asked.
	if err != nil {
		return Network{}, fmt.Errorf("ensure network %s: %w", name, err)
	}
	if warned {
		// Another manager process (or a lost response) beat us to it:
		// settle on the oldest of ours.
		if n, ok, err := found(ctx); err == nil && ok {
			out = n
		}
	}
	return out, nil
}

// createNetwork is the governed create, with the lookup that adopts a
// network whose create answer was lost.
func (c *Client) createNetwork(ctx context.Context, name string, labels map[string]string, ipam *network.IPAM,
	lookup func(context.Context) (bool, error), out *Network, warned *bool) error {
	defer c.known.beginNetworkCreate(name)()
	return c.gov.Do(ctx, governor.Call{Op: "network_create", Lane: governor.LaneWrite, Object: name, Recover: lookup}, func(ctx context.Context, _ int) error {
		r, err := c.api.NetworkCreate(ctx, name, client.NetworkCreateOptions{Driver: "bridge", Labels: labels, IPAM: ipam})
		if err != nil {
			return err
		}
		for _, w := range r.Warning {
			if strings.Contains(w, "already exists") {
				*warned = true
			}
		}
		*out = Network{ID: r.ID, Name: name, Labels: labels, Environment: labels[labelEnvironment], ObservedAt: time.Now()}
		c.known.setNetwork(*out)
		return nil
	})
}

// ipamFor is the IPAM config of a new network: the spec's subnet, or a
// free one from the address pool, reserved until release is called.
// listing, when it has been read, is the daemon's networks as just listed.
func (c *Client) ipamFor(ctx context.Context, spec NetworkSpec, listing *networkListing) (ipam *network.IPAM, release func(), err error) {
	var subnet netip.Prefix
	release = func() {}
	if spec.Subnet != "" {
		p, err := netip.ParsePrefix(spec.Subnet)
		if err != nil {
			return nil, nil, &Error{Op: "network_create", Object: spec.name(), Kind: ErrInvalid, Err: fmt.Errorf("subnet %q: %w", spec.Subnet, err)}
		}
		subnet = p.Masked()
	} else {
		subnet, release, err = c.pickSubnet(ctx, listing)
		if err != nil {
			return nil, nil, err
		}
	}
	return &network.IPAM{Driver: "default", Config: []network.IPAMConfig{{Subnet: subnet}}}, release, nil
}

// removeDuplicateNetwork removes an extra owned network of the same name if
// nothing is attached; failures are left for the next ensure.
func (c *Client) removeDuplicateNetwork(ctx context.Context, n Network) {
	full, err := c.InspectNetwork(ctx, n.ID)
	if err != nil || len(full.Containers) > 0 || !Owned(full.Labels, c.id) {
		return
	}
	err = c.gov.Do(ctx, governor.Call{Op: "network_remove", Lane: governor.LaneWrite, Object: n.ID, Idempotent: true}, func(ctx context.Context, attempt int) error {
		_, err := c.api.NetworkRemove(ctx, n.ID, client.NetworkRemoveOptions{})
		if attempt > 0 && err != nil && isNotFoundErr(err) {
			return nil
		}
		return err
	})
	c.log.Info("removed duplicate network", "name", n.Name, "id", shortID(n.ID), "error", errString(err))
}

// RemoveNetwork removes an owned network by ID or exact name, without force.
// Endpoints of stopped or vanished containers are disconnected first (not
// forced); a network still used by a running container, or by a container
// berth does not own, is a Conflict: teardown removes containers first, and
// berth never disconnects what it does not own. A missing network is success.
func (c *Client) RemoveNetwork(ctx context.Context, idOrName string) error {
	targets, err := c.networkTargets(ctx, idOrName)
	if err != nil {
		return fmt.Errorf("remove network %s: %w", idOrName, err)
	}
	for _, t := range targets {
		if err := c.removeNetwork(ctx, t); err != nil {
			return fmt.Errorf("remove network %s: %w", idOrName, err)
		}
	}
	return nil
}

// KnownNetwork is a network as the informer's cache knows it: its ID and
// the labels the cache holds for that ID.
type KnownNetwork struct {
	ID     string
	Name   string
	Labels map[string]string
}

// RemoveKnownNetwork removes a network the cache knows, in one call: the
// ownership check is made on the cached labels, and Docker refuses to
// remove a network that still has endpoints (there is no force to forget).
// A refusal falls back to RemoveNetwork, which inspects, disconnects what
// it safely can, tries again and says what is still attached; a network
// already gone is success.
func (c *Client) RemoveKnownNetwork(ctx context.Context, n KnownNetwork) error {
	if n.ID == "" {
		return c.RemoveNetwork(ctx, n.Name)
	}
	if err := c.checkOwned("network_remove", n.Name, n.Labels); err != nil {
		return err
	}
	err := c.gov.Do(ctx, governor.Call{Op: "network_remove", Lane: governor.LaneWrite, Object: n.Name, Idempotent: true}, func(ctx context.Context, attempt int) error {
		_, err := c.api.NetworkRemove(ctx, n.ID, client.NetworkRemoveOptions{})
		return err
	})
	switch {
	case err == nil || IsNotFound(err):
		return nil
	case IsActiveEndpoints(err) || IsConflict(err) || IsForbidden(err):
		c.log.Info("network not removable as the cache saw it; inspecting", "network", n.Name, "error", err.Error())
		return c.RemoveNetwork(ctx, n.ID)
	}
	return fmt.Errorf("remove network %s: %w", n.Name, err)
}

// networkTargets resolves idOrName to the networks to remove: by name all
// exact matches (duplicates included), refusing any not owned.
func (c *Client) networkTargets(ctx context.Context, idOrName string) ([]Network, error) {
	byName, err := c.networksNamed(ctx, idOrName)
	if err != nil {
		return nil, err
	}
	if len(byName) == 0 {
		n, err := c.InspectNetwork(ctx, idOrName)
		if IsNotFound(err) {
			return nil, nil
		}
		if err != nil {
			return nil, err
		}
		byName = []Network{n}
	}
	for _, n := range byName {
		if err := c.checkOwned("network_remove", n.Name, n.Labels); err != nil {
			return nil, err
		}
	}
	return byName, nil
}

func (c *Client) removeNetwork(ctx context.Context, n Network) error {
	full, err := c.InspectNetwork(ctx, n.ID)
	if IsNotFound(err) {
		return nil
	}
	if err != nil {
		return err
	}
	if err := c.checkOwned("network_remove", full.Name, full.Labels); err != nil {
		return err
	}
	for cid, endpoint := range full.Containers {
		if err := c.disconnectStale(ctx, full, cid, endpoint); err != nil {
			return err
		}
	}
	err = c.gov.Do(ctx, governor.Call{Op: "network_remove", Lane: governor.LaneWrite, Object: full.Name, Idempotent: true}, func(ctx context.Context, attempt int) error {
		_, err := c.api.NetworkRemove(ctx, full.ID, client.NetworkRemoveOptions{})
		if attempt > 0 && err != nil && isNotFoundErr(err) {
			return nil
		}
		return err
	})
	if IsActiveEndpoints(err) {
		// Say what Docker's text does not: whether anything is attached
		// at all, which is what tells a stale endpoint from a live one.
		listed := "no container is attached (a stale endpoint in the daemon's network store)"
		if len(full.Containers) > 0 {
			listed = fmt.Sprintf("the daemon still lists endpoints %s", strings.Join(sortedEndpointNames(full.Containers), ", "))
		}
		return fmt.Errorf("%w; %s", err, listed)
	}
	return err
}

// DisconnectStaleEndpoints clears, from an owned network whose removal
// Docker refused for active endpoints, the endpoints left by containers
// that no longer exist. endpoints are the names of containers berth
// created on the network (an endpoint is named after its container). For
// each name that no container has any more, it asks Docker to disconnect
// the endpoint by name with force: Docker deletes a stale endpoint that way
// only when no container of that name exists, so this removes nothing but
// the daemon's own record. A name that a container has (of berth's or
// anyone's) is skipped, and a network that a container berth does not own
// is attached to is refused (ErrConflict) and left untouched. It returns
// how many endpoints were disconnected; a missing network is success.
func (c *Client) DisconnectStaleEndpoints(ctx context.Context, idOrName string, endpoints []string) (int, error) {
	n, err := c.InspectNetwork(ctx, idOrName)
	if IsNotFound(err) {
		return 0, nil
	}
	if err != nil {
		return 0, fmt.Errorf("disconnect stale endpoints of %s: %w", idOrName, err)
	}
	if err := c.checkOwned("network_disconnect", n.Name, n.Labels); err != nil {
		return 0, err
	}
	for cid := range n.Containers {
		ctr, err := c.InspectContainer(ctx, cid)
		if IsNotFound(err) {
			continue
		}
		if err != nil && !IsNotOwned(err) {
			return 0, fmt.Errorf("disconnect stale endpoints of %s: %w", n.Name, err)
		}
		if IsNotOwned(err) || !Owned(ctr.Labels, c.id) {
			return 0, &Error{Op: "network_disconnect", Object: n.Name, Kind: ErrConflict,
				Err: fmt.Errorf("container %s (%s), not owned by this manager, is attached; berth touches nothing on this network", ctr.Name, shortID(cid))}
		}
	}
	disconnected := 0
	for _, name := range endpoints {
		name = trimName(name)
		if name == "" {
			continue
		}
		// Only a name no container has is a stale endpoint: a container
		// of that name, whoever's, is left alone.
		if _, err := c.InspectContainer(ctx, name); err == nil || IsNotOwned(err) {
			continue
		} else if !IsNotFound(err) {
			return disconnected, fmt.Errorf("disconnect stale endpoints of %s: %w", n.Name, err)
		}
		var gone bool
		err := c.gov.Do(ctx, governor.Call{Op: "network_disconnect", Lane: governor.LaneWrite, Object: n.Name, Idempotent: true}, func(ctx context.Context, _ int) error {
			_, err := c.api.NetworkDisconnect(ctx, n.ID, client.NetworkDisconnectOptions{Container: name, Force: true}) // disconnect of a stale endpoint: no container has this name, nothing is removed
			gone = err != nil && isNotFoundErr(err)
			return err
		})
		switch {
		case err == nil:
			disconnected++
			c.log.Info("disconnected a stale endpoint", "network", n.Name, "endpoint", name)
		case gone || IsNotFound(err):
			// No endpoint of that name: nothing stale under it.
		default:
			return disconnected, fmt.Errorf("disconnect stale endpoint %s of %s: %w", name, n.Name, err)
		}
	}
	return disconnected, nil
}

func sortedEndpointNames(eps map[string]string) []string {
	out := make([]string, 0, len(eps))
	for id, name := range eps {
		if name == "" {
			name = shortID(id)
		}
		out = append(out, name)
	}
	sort.Strings(out)
	return out
}

// disconnectStale disconnects one endpoint if its container is berth's and
// not running (or gone), gracefully.
func (c *Client) disconnectStale(ctx context.Context, n Network, cid, endpoint string) error {
	ctr, err := c.inspectContainer(ctx, cid)
	switch {
	case IsNotFound(err):
		// A vanished container's endpoint: ask without force; if Docker
		// will not, the error goes back and the network stays.
	case err != nil:
		return err
	case !Owned(ctr.Labels, c.id):
		return &Error{Op: "network_remove", Object: n.Name, Kind: ErrConflict,
			Err: fmt.Errorf("container %s (%s), not owned by this manager, is attached", ctr.Name, shortID(cid))}
	case ctr.Running():
		return &Error{Op: "network_remove", Object: n.Name, Kind: ErrConflict,
			Err: fmt.Errorf("container %s is still running on it", ctr.Name)}
	}
	err = c.gov.Do(ctx, governor.Call{Op: "network_disconnect", Lane: governor.LaneWrite, Object: n.Name, Idempotent: true}, func(ctx context.Context, attempt int) error {
		_, err := c.api.NetworkDisconnect(ctx, n.ID, client.NetworkDisconnectOptions{Container: cid})
		if attempt > 0 && err != nil && isNotFoundErr(err) {
			return nil
		}
		return err
	})
	if IsNotFound(err) {
		// A vanished container's endpoint cannot be disconnected without
		// force: go on to the removal, whose refusal (ErrActiveEndpoints)
		// tells the caller to clear stale endpoints.
		return nil
	}
	return err
}

func errString(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}
