package docker

import (
	"net/netip"
	"strings"
	"testing"
)

func prefixes(ss ...string) []netip.Prefix {
	out := make([]netip.Prefix, len(ss))
	for i, s := range ss {
		out[i] = netip.MustParsePrefix(s)
	}
	return out
}

func TestChooseDefaultPool(t *testing.T) {
	cases := []struct {
		name        string
		taken, ours []netip.Prefix
		want        string
	}{
		{name: "nothing taken", want: "10.0.0.0/16"},
		{name: "Docker's default bridge and pools do not matter in 10/8",
			taken: prefixes("172.17.0.0/16", "172.18.0.0/16", "192.168.0.0/20"), want: "10.0.0.0/16"},
		{name: "an existing network blocks its /16",
			taken: prefixes("10.0.3.0/24", "10.1.0.0/16"), want: "10.2.0.0/16"},
		{name: "a host route blocks every /16 it covers",
			taken: prefixes("10.0.0.0/9"), want: "10.128.0.0/16"},
		{name: "10/8 routed away: 172.16/12 next, around Docker's bridge",
			taken: prefixes("10.0.0.0/8", "172.16.0.0/16", "172.17.0.0/16"), want: "172.18.0.0/16"},
		{name: "only 192.168/16 left",
			taken: prefixes("10.0.0.0/8", "172.16.0.0/12"), want: "192.168.0.0/16"},
		{name: "this manager's own networks and their bridge routes do not count",
			taken: prefixes("10.0.0.0/24", "10.0.1.0/24", "10.0.0.0/24"), ours: prefixes("10.0.0.0/24", "10.0.1.0/24"), want: "10.0.0.0/16"},
		{name: "another manager's network in our old /16 does",
			taken: prefixes("10.0.0.0/24", "10.0.1.0/24"), ours: prefixes("10.0.0.0/24"), want: "10.1.0.0/16"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, err := ChooseDefaultPool(defaultPoolRanges, DefaultPoolBits, tc.taken, tc.ours)
			if err != nil {
				t.Fatal(err)
			}
			if got.String() != tc.want {
				t.Fatalf("pool = %s, want %s", got, tc.want)
			}
		})
	}
}

func TestChooseDefaultPoolExhausted(t *testing.T) {
	_, err := ChooseDefaultPool(defaultPoolRanges, DefaultPoolBits, prefixes("0.0.0.0/1", "128.0.0.0/1"), nil)
	if err == nil {
		t.Fatal("chose a pool with every address taken")
	}
	for _, want := range []string{"--docker-address-pool", "10.0.0.0/8, 172.16.0.0/12 or 192.168.0.0/16", "/16"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not mention %q", err, want)
		}
	}
}
