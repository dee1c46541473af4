package docker

import (
	"context"
	"net/netip"
	"sync"
	"testing"
	"time"

	"github.com/moby/moby/client"

	"berth.dev/berth/internal/governor"
)

// Networks created side by side each get their own /24 of the pool: the
// in-process reservation, not one create at a time, keeps them apart.
func TestEnsureNetworksGetDistinctSubnets(t *testing.T) {
	needDocker(t)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	c := newTestClient(t, dockerHost, governor.ProfileCI)
	pool := netip.MustParsePrefix(testAddressPool)
	envs := make([]string, 6)
	for i := range envs {
		envs[i] = envName(t, "subnet")
		cleanupEnv(t, envs[i])
	}
	var wg sync.WaitGroup
	for _, env := range envs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if _, err := c.EnsureNetwork(ctx, NetworkSpec{Environment: env}); err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	seen := map[netip.Prefix]string{}
	for _, env := range envs {
		n, err := c.api.NetworkInspect(ctx, NetworkName(env), client.NetworkInspectOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if len(n.Network.IPAM.Config) != 1 {
			t.Fatalf("%s: IPAM %+v", env, n.Network.IPAM.Config)
		}
		s := n.Network.IPAM.Config[0].Subnet
		if s.Bits() != DefaultSubnetBits || !pool.Contains(s.Addr()) {
			t.Errorf("%s got %s, want a /%d of %s", env, s, DefaultSubnetBits, pool)
		}
		if other, dup := seen[s]; dup {
			t.Errorf("%s and %s share %s", other, env, s)
		}
		seen[s] = env
	}
}

// Without a configured pool the client chooses one on this daemon that
// overlaps none of its networks, once.
func TestDefaultAddressPoolAvoidsTheDaemonsNetworks(t *testing.T) {
	needDocker(t)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	c := newTestClient(t, dockerHost, governor.ProfileCI, func(cfg *Config) { cfg.AddressPool = "" })
	pool, chosen, err := c.AddressPool(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if !chosen || pool.Bits() != DefaultPoolBits {
		t.Fatalf("pool %s chosen=%v, want a chosen /%d", pool, chosen, DefaultPoolBits)
	}
	all, ours, err := c.networkSubnets(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range all {
		if s.Overlaps(pool) && !insideAny(s, ours) {
			t.Errorf("chosen pool %s overlaps the daemon's network subnet %s", pool, s)
		}
	}
	again, _, err := c.AddressPool(ctx)
	if err != nil || again != pool {
		t.Fatalf("second call: %s %v, want the same %s", again, err, pool)
	}
}
