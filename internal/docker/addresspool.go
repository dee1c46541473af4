package docker

import (
	"context"
	"fmt"
	"net/netip"
	"time"

	"github.com/moby/moby/client"

	"berth.dev/berth/internal/governor"
)

// Without --docker-address-pool berth still carves every Environment
// network's subnet itself, from a default pool it chooses once: Docker's
// own default pools hand each bridge network a /16 or /20 and run out
// after about 31 networks (measured on main: 30 of 40 Environments applied
// at once became Ready, the rest waited for good).

// DefaultPoolBits is the size of the default address pool: a /16 holds 256
// of the /24s carved per network.
const DefaultPoolBits = 16

// defaultPoolRanges are searched in order for the default pool: the
// RFC 1918 ranges, 10/8 first because Docker's own default pools live in
// 172.17/16–172.31/16 and 192.168/16.
var defaultPoolRanges = []netip.Prefix{
	netip.MustParsePrefix("10.0.0.0/8"),
	netip.MustParsePrefix("172.16.0.0/12"),
	netip.MustParsePrefix("192.168.0.0/16"),
}

// ChooseDefaultPool returns the first /bits of ranges that overlaps no
// prefix of taken. Prefixes inside ours (this manager's own networks, and
// the host routes their bridges add) do not count as taken: a restarted
// manager keeps the pool its surviving networks are in, since carving
// skips every used subnet anyway. It is pure: the caller reads the
// networks and routes.
func ChooseDefaultPool(ranges []netip.Prefix, bits int, taken, ours []netip.Prefix) (netip.Prefix, error) {
	var others []netip.Prefix
	for _, t := range taken {
		if !insideAny(t, ours) {
			others = append(others, t)
		}
	}
	for _, r := range ranges {
		if bits < r.Bits() {
			continue
		}
		sp := subnetPool{pool: r.Masked(), bits: bits}
		if p, ok := sp.free(others); ok {
			return p, nil
		}
	}
	return netip.Prefix{}, fmt.Errorf("no free /%d in %s avoids the %d subnets of Docker networks and host routes; choose a pool with --docker-address-pool",
		bits, joinPrefixes(ranges), len(others))
}

// insideAny: p lies within one of ps.
func insideAny(p netip.Prefix, ps []netip.Prefix) bool {
	for _, o := range ps {
		if o.Bits() <= p.Bits() && o.Contains(p.Addr()) {
			return true
		}
	}
	return false
}

func joinPrefixes(ps []netip.Prefix) string {
	s := ""
	for i, p := range ps {
		switch {
		case i == 0:
		case i == len(ps)-1:
			s += " or "
		default:
			s += ", "
		}
		s += p.String()
	}
	return s
}

// AddressPool is the pool Environment networks' subnets are carved from:
// --docker-address-pool when given (chosen false), otherwise the default
// pool, chosen on the first call from the daemon's networks (and this
// host's routes when the daemon is local) and kept for the process's life.
// A failed choice is not kept, so the next call tries again.
func (c *Client) AddressPool(ctx context.Context) (pool netip.Prefix, chosen bool, err error) {
	c.poolMu.Lock()
	defer c.poolMu.Unlock()
	if c.pool != nil {
		return c.pool.pool, c.poolChosen, nil
	}
	taken, ours, err := c.networkSubnets(ctx)
	if err != nil {
		return netip.Prefix{}, false, fmt.Errorf("choose the default address pool: %w", err)
	}
	if c.localDaemon {
		taken = append(taken, hostRoutes("/proc/net/route")...)
	}
	p, err := ChooseDefaultPool(defaultPoolRanges, DefaultPoolBits, taken, ours)
	if err != nil {
		return netip.Prefix{}, false, &Error{Op: "network_create", Kind: ErrUnavailable, Err: err}
	}
	c.pool = &subnetPool{pool: p, bits: DefaultSubnetBits}
	c.poolChosen = true
	c.log.Info("chose the default address pool", "pool", p.String(), "subnetBits", DefaultSubnetBits)
	return p, true, nil
}

// subnetPool returns the pool to carve from, choosing the default first.
func (c *Client) subnetPool(ctx context.Context) (*subnetPool, error) {
	if _, _, err := c.AddressPool(ctx); err != nil {
		return nil, err
	}
	c.poolMu.Lock()
	defer c.poolMu.Unlock()
	return c.pool, nil
}

// networkSubnets lists the subnets of every network on the daemon (one
// read), and which of them are this manager's.
func (c *Client) networkSubnets(ctx context.Context) (all, ours []netip.Prefix, err error) {
	l, err := c.listAllNetworks(ctx, "")
	return l.subnets, l.ours, err
}

// networkListing is one read of every network on the daemon: the subnets
// in use (all, and this manager's) and the networks named exactly name.
type networkListing struct {
	listed        time.Time
	subnets, ours []netip.Prefix
	named         []Network
}

// listAllNetworks reads every network once. A network create needs it
// twice, whether its name is taken and which subnets are: under the
// desktop profile each call costs half a second.
func (c *Client) listAllNetworks(ctx context.Context, name string) (networkListing, error) {
	var l networkListing
	err := c.gov.Do(ctx, governor.Call{Op: "network_list", Lane: governor.LaneRead, Idempotent: true}, func(ctx context.Context, _ int) error {
		l = networkListing{listed: time.Now()}
		r, err := c.api.NetworkList(ctx, client.NetworkListOptions{})
		if err != nil {
			return err
		}
		for _, n := range r.Items {
			if name != "" && n.Name == name {
				l.named = append(l.named, fromNetwork(n.Network, l.listed))
			}
			for _, cfg := range n.IPAM.Config {
				if !cfg.Subnet.IsValid() {
					continue
				}
				l.subnets = append(l.subnets, cfg.Subnet)
				if Owned(n.Labels, c.id) {
					l.ours = append(l.ours, cfg.Subnet)
				}
			}
		}
		return nil
	})
	sortNetworks(l.named)
	return l, err
}
