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

	"github.com/moby/moby/client"

	"berth.dev/berth/internal/governor"
)

// Docker's default address pools hand every bridge network a /16 (or a /20)
// and run out after about 31 networks, and berth makes one network per
// Environment. With an address pool configured (--docker-address-pool),
// berth instead carves a small subnet per network out of that pool itself,
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
// whoever owns it: berth must not overlap any of them.
func (c *Client) usedSubnets(ctx context.Context) ([]netip.Prefix, error) {
	var used []netip.Prefix
	err := c.gov.Do(ctx, governor.Call{Op: "network_list", Lane: governor.LaneRead, Idempotent: true}, func(ctx context.Context, _ int) error {
		r, err := c.api.NetworkList(ctx, client.NetworkListOptions{})
		if err != nil {
			return err
		}
		used = used[:0]
		for _, n := range r.Items {
			for _, cfg := range n.IPAM.Config {
				if cfg.Subnet.IsValid() {
					used = append(used, cfg.Subnet)
				}
			}
		}
		return nil
	})
	if err == nil && c.localDaemon {
		// A local daemon shares this host's routes; a subnet that shadows
		// one would cut the host off from that network.
		used = append(used, hostRoutes("/proc/net/route")...)
	}
	return used, err
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

// pickSubnet chooses a free subnet from the configured pool; ok is false
// when no pool is configured.
func (c *Client) pickSubnet(ctx context.Context) (netip.Prefix, bool, error) {
	if c.pool == nil {
		return netip.Prefix{}, false, nil
	}
	used, err := c.usedSubnets(ctx)
	if err != nil {
		return netip.Prefix{}, false, err
	}
	s, ok := c.pool.free(used)
	if !ok {
		return netip.Prefix{}, false, &Error{Op: "network_create", Kind: ErrUnavailable,
			Err: fmt.Errorf("address pool %s has no free /%d left (%d networks use subnets); widen --docker-address-pool", c.pool.pool, c.pool.bits, len(used))}
	}
	return s, true, nil
}

// subnetRetryWait spaces attempts when another process took the subnet
// berth picked between its list and its create.
const subnetRetryWait = 200 * time.Millisecond
