package docker

import (
	"bufio"
	"context"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"net/netip"
	"os"
	"strings"
	"time"
)

// Docker's default address pools hand every bridge network a /16 (or a /20)
// and run out after about 31 networks, and berth makes one network per
// Environment. So berth carves a small subnet per network itself, out of
// --docker-address-pool or the default pool it chooses (addresspool.go),
// skipping every subnet an existing network already uses.

// DefaultSubnetBits is the prefix length of the subnets carved from an
// address pool: a /24 holds 253 containers, plenty for one Environment.
const DefaultSubnetBits = 24

// subnetPool is a parsed --docker-address-pool.
type subnetPool struct {
	pool netip.Prefix
	bits int
}

func parseSubnetPool(cidr string, bits int) (*subnetPool, error) {
	if cidr == "" {
		return nil, nil
	}
	p, err := netip.ParsePrefix(cidr)
	if err != nil {
		return nil, fmt.Errorf("docker address pool %q: %w", cidr, err)
	}
	if !p.Addr().Is4() {
		return nil, fmt.Errorf("docker address pool %q: only IPv4 pools are supported", cidr)
	}
	if bits == 0 {
		bits = DefaultSubnetBits
	}
	if bits < p.Bits() || bits > 30 {
		return nil, fmt.Errorf("docker address pool %q: subnet size /%d must be between /%d and /30", cidr, bits, p.Bits())
	}
	return &subnetPool{pool: p.Masked(), bits: bits}, nil
}

// free returns the first subnet of the pool that overlaps none of used.
func (sp *subnetPool) free(used []netip.Prefix) (netip.Prefix, bool) {
	step := uint32(1) << (32 - sp.bits)
	start := ipv4ToUint(sp.pool.Addr())
	count := uint32(1) << (sp.bits - sp.pool.Bits())
	for i := uint32(0); i < count; i++ {
		cand := netip.PrefixFrom(uintToIPv4(start+i*step), sp.bits)
		clash := false
		for _, u := range used {
			if u.Overlaps(cand) {
				clash = true
				break
			}
		}
		if !clash {
			return cand, true
		}
	}
	return netip.Prefix{}, false
}

func ipv4ToUint(a netip.Addr) uint32 {
	b := a.As4()
	return uint32(b[0])<<24 | uint32(b[1])<<16 | uint32(b[2])<<8 | uint32(b[3])
}

func uintToIPv4(v uint32) netip.Addr {
	return netip.AddrFrom4([4]byte{byte(v >> 24), byte(v >> 16), byte(v >> 8), byte(v)})
}

// usedSubnets lists the subnets of every network on the daemon (one read),
// whoever owns it, and on a local daemon this host's routes: berth must
// overlap none of them. A listing already read (listed set) is used instead
// of a new read; the time returned is when the list was read.
func (c *Client) usedSubnets(ctx context.Context, listing *networkListing) ([]netip.Prefix, time.Time, error) {
	var err error
	if listing == nil || listing.listed.IsZero() {
		var l networkListing
		l, err = c.listAllNetworks(ctx, "")
		listing = &l
	}
	used := append([]netip.Prefix(nil), listing.subnets...)
	if err == nil && c.localDaemon {
		// A local daemon shares this host's routes; a subnet that shadows
		// one would cut the host off from that network.
		used = append(used, hostRoutes("/proc/net/route")...)
	}
	return used, listing.listed, err
}

// hostRoutes reads the IPv4 routes of this host (Linux), default route
// excluded; a missing or odd file yields none.
func hostRoutes(path string) []netip.Prefix {
	f, err := os.Open(path)
	if err != nil {
		return nil
	}
	defer f.Close()
	var out []netip.Prefix
	sc := bufio.NewScanner(f)
	sc.Scan() // header
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		if len(fields) < 8 {
			continue
		}
		dst, err1 := hex.DecodeString(fields[1])
		mask, err2 := hex.DecodeString(fields[7])
		if err1 != nil || err2 != nil || len(dst) != 4 || len(mask) != 4 {
			continue
		}
		// The file holds network-order bytes printed as a host-order
		// (little-endian) number.
		d := binary.LittleEndian.Uint32(dst)
		m := binary.LittleEndian.Uint32(mask)
		bits := 0
		for v := m; v != 0; v >>= 1 {
			bits += int(v & 1)
		}
		if bits == 0 {
			continue
		}
		out = append(out, netip.PrefixFrom(uintToIPv4(d), bits).Masked())
	}
	return out
}

// pickSubnet chooses a free subnet from the address pool and reserves it
// in this process, so creates of different networks run side by side
// without picking one subnet twice. release, called once the create has
// returned, keeps the subnet reserved for pickers whose network list was
// read before then (it may not show the new network yet).
func (c *Client) pickSubnet(ctx context.Context, listing *networkListing) (subnet netip.Prefix, release func(), err error) {
	pool, err := c.subnetPool(ctx)
	if err != nil {
		return netip.Prefix{}, nil, err
	}
	used, listed, err := c.usedSubnets(ctx, listing)
	if err != nil {
		return netip.Prefix{}, nil, err
	}
	c.poolMu.Lock()
	defer c.poolMu.Unlock()
	for r, done := range c.reserved {
		switch {
		case done.IsZero() || !done.Before(listed):
			// In flight, or created after our list was read.
			used = append(used, r)
		case listed.Sub(done) > reservationKeep:
			delete(c.reserved, r)
		}
	}
	s, ok := pool.free(used)
	if !ok {
		inPool := map[netip.Prefix]bool{}
		for _, u := range used {
			if u.Overlaps(pool.pool) {
				inPool[u] = true
			}
		}
		return netip.Prefix{}, nil, &Error{Op: "network_create", Kind: ErrUnavailable,
			Err: fmt.Errorf("address pool %s has no free /%d left (%d subnets of networks, routes or creates in flight use it); widen --docker-address-pool", pool.pool, pool.bits, len(inPool))}
	}
	if c.reserved == nil {
		c.reserved = map[netip.Prefix]time.Time{}
	}
	c.reserved[s] = time.Time{}
	return s, func() {
		c.poolMu.Lock()
		defer c.poolMu.Unlock()
		c.reserved[s] = time.Now()
	}, nil
}

// reservationKeep is how long a released reservation is remembered: far
// longer than any network list call, so every picker that listed before
// the create returned still sees it.
const reservationKeep = time.Minute

// subnetRetryWait spaces attempts when another process took the subnet
// berth picked between its list and its create.
const subnetRetryWait = 200 * time.Millisecond
