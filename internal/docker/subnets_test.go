package docker

import (
	"net/netip"
	"os"
	"path/filepath"
	"testing"
)

func TestSubnetPoolPicksFirstFree(t *testing.T) {
	sp, err := parseSubnetPool("172.16.0.0/16", 0)
	if err != nil {
		t.Fatal(err)
	}
	used := []netip.Prefix{
		netip.MustParsePrefix("172.16.0.0/24"),
		netip.MustParsePrefix("172.16.1.128/25"),
		netip.MustParsePrefix("172.17.0.0/16"),
	}
	got, ok := sp.free(used)
	if !ok || got != netip.MustParsePrefix("172.16.2.0/24") {
		t.Fatalf("free = %v %v, want 172.16.2.0/24", got, ok)
	}
	// A used supernet blocks the whole pool.
	if _, ok := sp.free([]netip.Prefix{netip.MustParsePrefix("172.16.0.0/12")}); ok {
		t.Fatal("picked a subnet inside a used /12")
	}
	for _, bad := range []string{"nonsense", "fd00::/64", "10.0.0.0/24"} {
		bits := 0
		if bad == "10.0.0.0/24" {
			bits = 16 // larger than the pool
		}
		if _, err := parseSubnetPool(bad, bits); err == nil {
			t.Errorf("pool %q /%d accepted", bad, bits)
		}
	}
	if sp, err := parseSubnetPool("", 0); sp != nil || err != nil {
		t.Fatal("an empty pool parses to none: the client chooses the default one (AddressPool)")
	}
}

func TestHostRoutes(t *testing.T) {
	f := filepath.Join(t.TempDir(), "route")
	content := "Iface\tDestination\tGateway \tFlags\tRefCnt\tUse\tMetric\tMask\t\tMTU\tWindow\tIRTT\n" +
		"eth0\t00000000\t010200C0\t0003\t0\t0\t0\t00000000\t0\t0\t0\n" +
		"docker0\t000011AC\t00000000\t0001\t0\t0\t0\t0000FFFF\t0\t0\t0\n" +
		"eth1\t0000A8C0\t00000000\t0001\t0\t0\t0\t00FFFFFF\t0\t0\t0\n"
	if err := os.WriteFile(f, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	got := hostRoutes(f)
	want := []netip.Prefix{netip.MustParsePrefix("172.17.0.0/16"), netip.MustParsePrefix("192.168.0.0/24")}
	if len(got) != len(want) || got[0] != want[0] || got[1] != want[1] {
		t.Fatalf("hostRoutes = %v, want %v", got, want)
	}
}
