package dockertest

import (
	"encoding/json"
	"fmt"
	"net/netip"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
)

// The pure decisions of the harness: names, addresses, dockerd's flags and
// the parsing of what the host reports. host.go and daemon.go act on them.

// MaxSlots is how many second daemons may run at once on one machine.
const MaxSlots = 31

// slotBase is the second octet of slot 0's block: slot N owns
// 10.(160+N).0.0/16, far from berth's default pool (the first free /16 of
// 10.0.0.0/8), the e2e suite's 10.199.0.0/16 and Docker's default pools.
const slotBase = 160

// layout is where one slot keeps its things, and how they are named.
type layout struct {
	slot int
	base string // the base directory holding every slot
}

func (l layout) dir() string          { return filepath.Join(l.base, "d"+strconv.Itoa(l.slot)) }
func (l layout) lockFile() string     { return filepath.Join(l.base, "d"+strconv.Itoa(l.slot)+".lock") }
func (l layout) marker() string       { return filepath.Join(l.dir(), markerName) }
func (l layout) socket() string       { return filepath.Join(l.dir(), "docker.sock") }
func (l layout) host() string         { return "unix://" + l.socket() }
func (l layout) dataRoot() string     { return filepath.Join(l.dir(), "root") }
func (l layout) execRoot() string     { return filepath.Join(l.dir(), "exec") }
func (l layout) pidFile() string      { return filepath.Join(l.dir(), "docker.pid") }
func (l layout) configFile() string   { return filepath.Join(l.dir(), "daemon.json") }
func (l layout) keyFile() string      { return filepath.Join(l.dir(), "key.json") }
func (l layout) logFile() string      { return filepath.Join(l.dir(), "dockerd.log") }
func (l layout) bridge() string       { return "berthbr" + strconv.Itoa(l.slot) }
func (l layout) namespace() string    { return "berthtest-d" + strconv.Itoa(l.slot) }
func (l layout) cgroupParent() string { return "/berthtest-d" + strconv.Itoa(l.slot) }
func (l layout) containerdSock() string {
	return filepath.Join(l.execRoot(), "containerd", "containerd.sock")
}

// markerName is the file whose presence says a slot directory is ours.
const markerName = "berth-dockertest.json"

// marker is written into a slot's directory before anything else of the
// slot exists (bridge, dockerd): cleanup trusts only what it names.
type marker struct {
	Slot       int    `json:"slot"`
	Bridge     string `json:"bridge"`
	BridgeAddr string `json:"bridgeAddr"` // e.g. 10.161.0.1/24
	OwnerPID   int    `json:"ownerPid"`
	Created    string `json:"created"`
}

func (m marker) encode() []byte {
	b, _ := json.MarshalIndent(m, "", "  ")
	return append(b, '\n')
}

func decodeMarker(b []byte) (marker, error) {
	var m marker
	if err := json.Unmarshal(b, &m); err != nil {
		return marker{}, fmt.Errorf("marker: %w", err)
	}
	if m.Slot < 1 || m.Slot > MaxSlots || m.Bridge != (layout{slot: m.Slot}).bridge() {
		return marker{}, fmt.Errorf("marker: slot %d with bridge %q is not one of this harness's", m.Slot, m.Bridge)
	}
	if _, err := netip.ParsePrefix(m.BridgeAddr); err != nil {
		return marker{}, fmt.Errorf("marker: bridgeAddr: %w", err)
	}
	return m, nil
}

// addresses is the address plan of one slot: all of it inside the slot's
// /16 block, so one overlap check of the block covers every part.
type addresses struct {
	block       netip.Prefix // 10.B.0.0/16
	bridgeAddr  netip.Prefix // 10.B.0.1/24: the bridge's own address
	daemonPool  netip.Prefix // 10.B.64.0/18: dockerd's default-address-pool (fresh start only)
	addressPool netip.Prefix // 10.B.128.0/17: for berth's --docker-address-pool
}

func slotAddresses(slot int) addresses {
	b := byte(slotBase + slot)
	return addresses{
		block:       netip.PrefixFrom(netip.AddrFrom4([4]byte{10, b, 0, 0}), 16),
		bridgeAddr:  netip.PrefixFrom(netip.AddrFrom4([4]byte{10, b, 0, 1}), 24),
		daemonPool:  netip.PrefixFrom(netip.AddrFrom4([4]byte{10, b, 64, 0}), 18),
		addressPool: netip.PrefixFrom(netip.AddrFrom4([4]byte{10, b, 128, 0}), 17),
	}
}

// overlapping returns the prefixes of taken that overlap p.
func overlapping(p netip.Prefix, taken []netip.Prefix) []netip.Prefix {
	var out []netip.Prefix
	for _, t := range taken {
		if t.Overlaps(p) {
			out = append(out, t)
		}
	}
	return out
}

// parseRoutes reads the destinations of `ip -j route show table all`
// (every table, local ones included): a bare address is a /32 (or /128),
// "default" and unparsable entries are skipped.
func parseRoutes(b []byte) ([]netip.Prefix, error) {
	var routes []struct {
		Dst string `json:"dst"`
	}
	if err := json.Unmarshal(b, &routes); err != nil {
		return nil, fmt.Errorf("parse ip -j route: %w", err)
	}
	var out []netip.Prefix
	for _, r := range routes {
		if p, err := netip.ParsePrefix(r.Dst); err == nil {
			out = append(out, p.Masked())
		} else if a, err := netip.ParseAddr(r.Dst); err == nil {
			out = append(out, netip.PrefixFrom(a, a.BitLen()))
		}
	}
	return out, nil
}

// mountsUnder returns the mount points of mountinfo (the text of
// /proc/self/mountinfo) at or below dir, deepest first, so that each can be
// unmounted before the one it sits on.
func mountsUnder(mountinfo, dir string) []string {
	dir = filepath.Clean(dir)
	var out []string
	for _, line := range strings.Split(mountinfo, "\n") {
		fields := strings.Fields(line)
		if len(fields) < 5 {
			continue
		}
		mp := unescapeMount(fields[4])
		if mp == dir || strings.HasPrefix(mp, dir+"/") {
			out = append(out, mp)
		}
	}
	sort.SliceStable(out, func(i, j int) bool {
		return strings.Count(out[i], "/") > strings.Count(out[j], "/")
	})
	return out
}

// unescapeMount undoes mountinfo's octal escapes (\040 for a space, ...).
func unescapeMount(s string) string {
	if !strings.Contains(s, `\`) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' && i+4 <= len(s) {
			if v, err := strconv.ParseUint(s[i+1:i+4], 8, 8); err == nil {
				b.WriteByte(byte(v))
				i += 3
				continue
			}
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

// argOptions are the choices dockerdArgs depends on beyond the layout.
type argOptions struct {
	// fresh: the data root is empty (a new slot), not a crashed run's.
	fresh         bool
	storageDriver string
	ip6tables     bool // this dockerd knows --ip6tables
}

// dockerdArgs are the flags of a slot's dockerd. Every path, name and
// address is the slot's own; none of them is the main daemon's.
func dockerdArgs(l layout, a addresses, o argOptions) []string {
	args := []string{
		"--config-file", l.configFile(),
		"--host", l.host(),
		"--data-root", l.dataRoot(),
		"--exec-root", l.execRoot(),
		"--pidfile", l.pidFile(),
		// A bridge of our own, never "none": dockerd 20.10 deletes the
		// interface named docker0 when the default bridge is disabled.
		"--bridge", l.bridge(),
		// The host's firewall and forwarding are the main daemon's.
		"--iptables=false",
		"--ip-masq=false",
		"--ip-forward=false",
		"--containerd-namespace", l.namespace(),
		"--containerd-plugins-namespace", l.namespace() + "-plugins",
		"--exec-opt", "native.cgroupdriver=cgroupfs",
		"--cgroup-parent", l.cgroupParent(),
		"--storage-driver", o.storageDriver,
	}
	if o.ip6tables {
		args = append(args, "--ip6tables=false")
	}
	// Only on a fresh data root: dockerd 20.10 restarted over an existing
	// one deletes its stale "bridge" network and then, when default address
	// pools are configured and live-restore is off, the interface named
	// docker0 (removeDefaultBridgeInterface), the main daemon's. Measured
	// here: a restart with --default-address-pool took docker0 away.
	if o.fresh {
		args = append(args, "--default-address-pool", fmt.Sprintf("base=%s,size=24", a.daemonPool))
	}
	return args
}

// daemonConfig is the slot's daemon.json: without --config-file dockerd
// would read the main daemon's /etc/docker/daemon.json (its data root, its
// storage driver). keyPath gives dockerd 20.10 an engine ID of its own:
// it derives the ID from the trust key, by default /etc/docker/key.json,
// which would make both daemons report the main one's ID. Newer dockerd
// keep the ID in the data root and refuse the old key.
func daemonConfig(l layout, keyPath bool) []byte {
	cfg := map[string]any{}
	if keyPath {
		cfg["deprecated-key-path"] = l.keyFile()
	}
	b, _ := json.Marshal(cfg)
	return append(b, '\n')
}

// dockerdMajor parses `dockerd --version` ("Docker version 20.10.24+dfsg1,
// build 5d6db84"); 0 when it cannot tell.
func dockerdMajor(version string) int {
	_, rest, ok := strings.Cut(version, "version ")
	if !ok {
		return 0
	}
	major, _, _ := strings.Cut(rest, ".")
	n, err := strconv.Atoi(strings.TrimSpace(major))
	if err != nil {
		return 0
	}
	return n
}
