package dockertest

import (
	"net/netip"
	"reflect"
	"strings"
	"testing"
)

func TestSlotAddressesStayInTheirBlock(t *testing.T) {
	seen := map[netip.Prefix]int{}
	for slot := 1; slot <= MaxSlots; slot++ {
		a := slotAddresses(slot)
		for name, p := range map[string]netip.Prefix{"bridge": a.bridgeAddr.Masked(), "daemon pool": a.daemonPool, "address pool": a.addressPool} {
			if !a.block.Contains(p.Addr()) || p.Bits() < a.block.Bits() {
				t.Errorf("slot %d: %s %s is outside its block %s", slot, name, p, a.block)
			}
		}
		if a.bridgeAddr.Masked().Overlaps(a.daemonPool) || a.bridgeAddr.Masked().Overlaps(a.addressPool) || a.daemonPool.Overlaps(a.addressPool) {
			t.Errorf("slot %d: parts overlap: %+v", slot, a)
		}
		if prev, ok := seen[a.block]; ok {
			t.Errorf("slots %d and %d share block %s", prev, slot, a.block)
		}
		seen[a.block] = slot
		for _, other := range []string{"10.199.0.0/16", "172.16.0.0/12", "192.168.0.0/16", "10.0.0.0/16"} {
			if a.block.Overlaps(netip.MustParsePrefix(other)) {
				t.Errorf("slot %d: block %s overlaps %s", slot, a.block, other)
			}
		}
	}
	if got := slotAddresses(3).bridgeAddr.String(); got != "10.163.0.1/24" {
		t.Errorf("slot 3 bridge address %s, want 10.163.0.1/24", got)
	}
}

func TestDockerdArgsAreTheSlotsOwn(t *testing.T) {
	l := layout{slot: 4, base: "/var/lib/berth-test"}
	a := slotAddresses(4)
	for _, fresh := range []bool{true, false} {
		args := dockerdArgs(l, a, argOptions{fresh: fresh, storageDriver: "overlay2", ip6tables: true})
		joined := " " + strings.Join(args, " ") + " "
		for _, want := range []string{
			" --bridge berthbr4 ", " --iptables=false ", " --ip-masq=false ", " --ip-forward=false ", " --ip6tables=false ",
			" --host unix:///var/lib/berth-test/d4/docker.sock ", " --data-root /var/lib/berth-test/d4/root ",
			" --exec-root /var/lib/berth-test/d4/exec ", " --pidfile /var/lib/berth-test/d4/docker.pid ",
			" --config-file /var/lib/berth-test/d4/daemon.json ", " --containerd-namespace berthtest-d4 ",
			" --containerd-plugins-namespace berthtest-d4-plugins ", " --cgroup-parent /berthtest-d4 ",
		} {
			if !strings.Contains(joined, want) {
				t.Errorf("fresh=%v: dockerd args lack %q: %v", fresh, want, args)
			}
		}
		for _, bad := range []string{"none", "docker0", "tcp://", "/var/run/docker", "/var/lib/docker"} {
			if strings.Contains(joined, bad) {
				t.Errorf("fresh=%v: dockerd args mention %q: %v", fresh, bad, args)
			}
		}
		// A restart over an existing data root with a default pool makes
		// dockerd 20.10 delete docker0.
		if got := strings.Contains(joined, "--default-address-pool"); got != fresh {
			t.Errorf("fresh=%v: --default-address-pool present=%v", fresh, got)
		}
	}
	if args := dockerdArgs(l, a, argOptions{fresh: true, storageDriver: "vfs"}); strings.Contains(strings.Join(args, " "), "ip6tables") {
		t.Errorf("--ip6tables passed to a dockerd without it: %v", args)
	}
}

func TestParseRoutes(t *testing.T) {
	in := `[{"dst":"default","gateway":"192.0.2.1","dev":"eth0"},{"dst":"172.17.0.0/16","dev":"docker0"},
{"type":"local","dst":"172.17.0.1","dev":"docker0","table":"local"},{"dst":"fd00::/64","dev":"eth0"},{"dst":"10.161.0.5/24"}]`
	got, err := parseRoutes([]byte(in))
	if err != nil {
		t.Fatal(err)
	}
	want := []netip.Prefix{netip.MustParsePrefix("172.17.0.0/16"), netip.MustParsePrefix("172.17.0.1/32"),
		netip.MustParsePrefix("fd00::/64"), netip.MustParsePrefix("10.161.0.0/24")}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("routes %v, want %v", got, want)
	}
	if ov := overlapping(slotAddresses(1).block, got); len(ov) != 1 || ov[0] != want[3] {
		t.Errorf("overlapping %v", ov)
	}
	if _, err := parseRoutes([]byte("not json")); err == nil {
		t.Error("garbage parsed")
	}
}

func TestMountsUnderDeepestFirst(t *testing.T) {
	info := `22 1 254:0 / / rw - ext4 /dev/vda rw
46 22 254:0 /var/lib/berth-test/d1/root /var/lib/berth-test/d1/root rw shared:2 - ext4 /dev/vda rw
47 46 0:50 / /var/lib/berth-test/d1/root/overlay2/abc/merged rw - overlay overlay rw
48 22 0:4 net:[4026532] /var/lib/berth-test/d1/exec/netns/x\040y rw - nsfs nsfs rw
49 22 254:0 / /var/lib/berth-test/d10/root rw - ext4 /dev/vda rw
50 22 254:0 / /var/lib/docker rw - ext4 /dev/vda rw`
	got := mountsUnder(info, "/var/lib/berth-test/d1/")
	want := []string{"/var/lib/berth-test/d1/root/overlay2/abc/merged", "/var/lib/berth-test/d1/exec/netns/x y", "/var/lib/berth-test/d1/root"}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("mounts %q, want %q", got, want)
	}
}

func TestMarkerRoundTripAndRefusal(t *testing.T) {
	m := marker{Slot: 2, Bridge: "berthbr2", BridgeAddr: "10.162.0.1/24", OwnerPID: 7, Created: "now"}
	got, err := decodeMarker(m.encode())
	if err != nil || got != m {
		t.Fatalf("round trip: %+v, %v", got, err)
	}
	for _, bad := range []string{`{"slot":2,"bridge":"docker0","bridgeAddr":"10.162.0.1/24"}`, `{"slot":0,"bridge":"berthbr0","bridgeAddr":"10.160.0.1/24"}`,
		`{"slot":2,"bridge":"berthbr2","bridgeAddr":"x"}`, `garbage`} {
		if _, err := decodeMarker([]byte(bad)); err == nil {
			t.Errorf("marker %s accepted", bad)
		}
	}
}

func TestDaemonConfigAndVersion(t *testing.T) {
	l := layout{slot: 1, base: "/b"}
	if got := string(daemonConfig(l, true)); got != `{"deprecated-key-path":"/b/d1/key.json"}`+"\n" {
		t.Errorf("daemon.json %s", got)
	}
	if got := string(daemonConfig(l, false)); got != "{}\n" {
		t.Errorf("daemon.json %s", got)
	}
	for in, want := range map[string]int{"Docker version 20.10.24+dfsg1, build 5d6db84": 20, "Docker version 28.2.2, build e6534b4": 28, "garbage": 0} {
		if got := dockerdMajor(in); got != want {
			t.Errorf("dockerdMajor(%q) = %d, want %d", in, got, want)
		}
	}
}
