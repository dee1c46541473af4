package dockerbench

import (
	"context"
	"fmt"
	"net/netip"
	"strings"
	"sync"
	"time"

	"github.com/moby/moby/api/types/container"
	"github.com/moby/moby/api/types/network"
	"github.com/moby/moby/client"

	v1 "berth.dev/berth/apis/v1alpha1"
	"berth.dev/berth/internal/docker"
	"berth.dev/berth/internal/governor"
)

// EnvsOptions describe a direct batch shaped like many Environments: Envs
// networks (one per Environment, as berth makes), each with Services
// containers, all made with plain Docker client calls and Workers calls in
// flight. It is the floor the scale benchmark compares the manager with.
type EnvsOptions struct {
	Host  string
	Image string
	// Prefix starts every Environment name: <Prefix><index>. It must be
	// unique to the run, since the leftover checks go by it.
	Prefix            string
	Envs, Services    int
	Workers           int
	MemoryLimit       int64
	MemoryReservation int64
	Grace             time.Duration
	// ManagerID is the berth.dev/managed-by label of everything made.
	ManagerID string
}

// EnvsResult is the batch's wall time: Up from the first network create
// to the last container started, Down from the first stop to the last
// network removed.
type EnvsResult struct {
	Up, Down time.Duration
	// StuckNetworks could not be removed: the daemon kept counting an
	// endpoint of a removed container for over 10 s (its stale record,
	// which only a daemon restart clears). They are left, never forced,
	// and Down includes the wait, so it is no floor.
	StuckNetworks []string
	// DaemonAPI is the daemon's API version. OneExitPerEnvironment tells
	// that Down stopped and removed one container of an Environment at a
	// time (Workers Environments in parallel), as the manager does on a
	// daemon for which docker.StoresEndpointCount holds: there, containers
	// of one network exiting together can leave it unremovable until the
	// daemon restarts, and a teardown that does that is no floor.
	// Otherwise the containers went Workers at a time in Environment
	// order, several of one network together.
	DaemonAPI             string
	OneExitPerEnvironment bool
}

// RunEnvs creates Envs networks with subnets carved from berth's address
// pool and Envs×Services containers on them, started, then stops and
// removes the containers and the networks, never forced. Each Environment
// is a pipeline, as in the manager: its containers are created once its
// network exists, and its network is removed as soon as its containers
// are gone; a semaphore keeps Workers calls in flight over all of them.
// After an error what was made is torn down gracefully before it returns.
func RunEnvs(ctx context.Context, o EnvsOptions) (EnvsResult, error) {
	var res EnvsResult
	if o.Envs <= 0 || o.Services <= 0 || o.Workers <= 0 {
		return res, fmt.Errorf("envs %d, services %d, workers %d: all must be positive", o.Envs, o.Services, o.Workers)
	}
	if o.Prefix == "" || o.ManagerID == "" {
		return res, fmt.Errorf("a prefix and a manager ID are required")
	}
	if o.Grace == 0 {
		o.Grace = 10 * time.Second
	}
	// The setup client only chooses the address pool (as the manager
	// does) and tears down after an error; no timed call goes through it.
	setup, err := docker.New(docker.Config{Host: o.Host, Profile: governor.ProfileCI, QPS: -1, MaxInFlight: o.Workers, ManagerID: o.ManagerID})
	if err != nil {
		return res, err
	}
	defer setup.Close()
	api, err := client.New(client.WithHost(o.Host))
	if err != nil {
		return res, err
	}
	defer api.Close()
	ping, err := api.Ping(ctx, client.PingOptions{NegotiateAPIVersion: true})
	if err != nil {
		return res, err
	}
	res.DaemonAPI = ping.APIVersion
	res.OneExitPerEnvironment = docker.StoresEndpointCount(ping.APIVersion)
	pool, _, err := setup.AddressPool(ctx)
	if err != nil {
		return res, err
	}
	subnets, err := newCarver(ctx, api, pool)
	if err != nil {
		return res, err
	}
	envs := make([]string, o.Envs)
	for i := range envs {
		envs[i] = fmt.Sprintf("%s%03d", o.Prefix, i)
	}
	defer cleanupEnvs(setup, envs)

	// Up: the jobs go in Environment order, each network one Environment
	// ahead of its containers, which wait for it (rarely: it was taken
	// Services jobs earlier).
	ready := make([]chan struct{}, o.Envs)
	for e := range ready {
		ready[e] = make(chan struct{})
	}
	ids := make([][]string, o.Envs)
	for e := range ids {
		ids[e] = make([]string, o.Services)
	}
	var up []func() error
	for e := 0; e <= o.Envs; e++ {
		if e < o.Envs {
			up = append(up, func() error {
				defer close(ready[e])
				return createNetwork(ctx, api, subnets, o, envs[e])
			})
		}
		for s := 0; e > 0 && s < o.Services; s++ {
			env := e - 1
			up = append(up, func() error {
				<-ready[env]
				id, err := createStart(ctx, api, o, envs[env], fmt.Sprintf("s%03d", s))
				ids[env][s] = id
				return err
			})
		}
	}
	start := time.Now()
	if err := parallel(len(up), o.Workers, func(i int) error { return up[i]() }); err != nil {
		return res, err
	}
	res.Up = time.Since(start)

	// Down: the containers in Environment order; whichever call removes
	// an Environment's last container removes its network next, so the
	// Environments finish one after the other as the manager's do.
	secs := int(o.Grace / time.Second)
	var mu sync.Mutex
	stopRemove := func(id string) error {
		if _, err := api.ContainerStop(ctx, id, client.ContainerStopOptions{Timeout: &secs}); err != nil {
			return fmt.Errorf("stop %s: %w", id, err)
		}
		if _, err := api.ContainerRemove(ctx, id, client.ContainerRemoveOptions{RemoveVolumes: true}); err != nil {
			return fmt.Errorf("remove %s: %w", id, err)
		}
		return nil
	}
	removeEnvNetwork := func(e int) error {
		err := removeNetwork(ctx, api, docker.NetworkName(envs[e]))
		if err != nil && strings.Contains(err.Error(), "active endpoints") {
			mu.Lock()
			res.StuckNetworks = append(res.StuckNetworks, docker.NetworkName(envs[e]))
			mu.Unlock()
			return nil
		}
		return err
	}
	start = time.Now()
	if res.OneExitPerEnvironment {
		order := newExitOrder(ids)
		err = parallel(o.Workers, o.Workers, func(int) error {
			for {
				e, id, last, ok := order.take()
				if !ok {
					return nil
				}
				err := stopRemove(id)
				if err == nil && last {
					err = removeEnvNetwork(e)
				}
				order.done(e)
				if err != nil {
					return err
				}
			}
		})
	} else {
		left := make([]int, o.Envs)
		for e := range left {
			left[e] = o.Services
		}
		err = parallel(o.Envs*o.Services, o.Workers, func(i int) error {
			e, s := i/o.Services, i%o.Services
			if err := stopRemove(ids[e][s]); err != nil {
				return err
			}
			mu.Lock()
			left[e]--
			last := left[e] == 0
			mu.Unlock()
			if !last {
				return nil
			}
			return removeEnvNetwork(e)
		})
	}
	if err != nil {
		return res, err
	}
	res.Down = time.Since(start)
	return res, nil
}

func createNetwork(ctx context.Context, api *client.Client, subnets *carver, o EnvsOptions, env string) error {
	labels := map[string]string{v1.LabelManagedBy: o.ManagerID, v1.LabelEnvironment: env}
	// Another run on the daemon may take a subnet between our list and
	// the create: Docker refuses the overlap and the next free one is tried.
	for attempt := 0; ; attempt++ {
		subnet, err := subnets.next()
		if err != nil {
			return err
		}
		_, err = api.NetworkCreate(ctx, docker.NetworkName(env), client.NetworkCreateOptions{
			Driver: "bridge", Labels: labels,
			IPAM: &network.IPAM{Driver: "default", Config: []network.IPAMConfig{{Subnet: subnet}}},
		})
		if err == nil || attempt >= 10 || !strings.Contains(err.Error(), "overlaps") {
			if err != nil {
				return fmt.Errorf("create network of %s (subnet %s): %w", env, subnet, err)
			}
			return nil
		}
	}
}

// removeNetwork removes a network whose containers were just removed. The
// daemon (20.10) may still count a removed container's endpoint for a
// moment ("has active endpoints", see `bench endpoints`): the removal is
// tried again every 100 ms for up to 10 s, as the manager's backoff would.
// An endpoint still there after that is the daemon's stale record, which
// only its restart clears: the error names the network.
func removeNetwork(ctx context.Context, api *client.Client, name string) error {
	deadline := time.Now().Add(10 * time.Second)
	for {
		_, err := api.NetworkRemove(ctx, name, client.NetworkRemoveOptions{})
		if err == nil {
			return nil
		}
		if !strings.Contains(err.Error(), "active endpoints") || time.Now().After(deadline) {
			return fmt.Errorf("remove network %s: %w", name, err)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(100 * time.Millisecond):
		}
	}
}

func createStart(ctx context.Context, api *client.Client, o EnvsOptions, env, service string) (string, error) {
	netName := docker.NetworkName(env)
	labels := map[string]string{v1.LabelManagedBy: o.ManagerID, v1.LabelEnvironment: env, v1.LabelService: service, v1.LabelSpecHash: "bench"}
	cr, err := api.ContainerCreate(ctx, client.ContainerCreateOptions{
		Name:   docker.ContainerName(env, service),
		Config: &container.Config{Image: o.Image, Cmd: []string{"--http-port", "0"}, Labels: labels},
		HostConfig: &container.HostConfig{NetworkMode: container.NetworkMode(netName),
			Resources: container.Resources{Memory: o.MemoryLimit, MemoryReservation: o.MemoryReservation}},
		NetworkingConfig: &network.NetworkingConfig{EndpointsConfig: map[string]*network.EndpointSettings{
			netName: {Aliases: []string{service}},
		}},
	})
	if err != nil {
		return "", fmt.Errorf("create %s/%s: %w", env, service, err)
	}
	if _, err := api.ContainerStart(ctx, cr.ID, client.ContainerStartOptions{}); err != nil {
		return cr.ID, fmt.Errorf("start %s/%s: %w", env, service, err)
	}
	return cr.ID, nil
}

// carver hands out the /24s of the pool that no network used when it was
// made, each once.
type carver struct {
	mu   sync.Mutex
	pool netip.Prefix
	used []netip.Prefix
	at   uint32
}

func newCarver(ctx context.Context, api *client.Client, pool netip.Prefix) (*carver, error) {
	list, err := api.NetworkList(ctx, client.NetworkListOptions{})
	if err != nil {
		return nil, fmt.Errorf("list networks: %w", err)
	}
	c := &carver{pool: pool.Masked()}
	for _, n := range list.Items {
		for _, cfg := range n.IPAM.Config {
			if cfg.Subnet.IsValid() {
				c.used = append(c.used, cfg.Subnet)
			}
		}
	}
	return c, nil
}

func (c *carver) next() (netip.Prefix, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	const bits = docker.DefaultSubnetBits
	if c.pool.Bits() > bits {
		return netip.Prefix{}, fmt.Errorf("address pool %s is smaller than a /%d", c.pool, bits)
	}
	count := uint32(1) << (bits - c.pool.Bits())
	base := c.pool.Addr().As4()
	start := uint32(base[0])<<24 | uint32(base[1])<<16 | uint32(base[2])<<8 | uint32(base[3])
	for ; c.at < count; c.at++ {
		v := start + c.at<<(32-bits)
		cand := netip.PrefixFrom(netip.AddrFrom4([4]byte{byte(v >> 24), byte(v >> 16), byte(v >> 8), byte(v)}), bits)
		clash := false
		for _, u := range c.used {
			if u.Overlaps(cand) {
				clash = true
				break
			}
		}
		if !clash {
			c.at++
			return cand, nil
		}
	}
	return netip.Prefix{}, fmt.Errorf("address pool %s has no free /%d left", c.pool, bits)
}

// cleanupEnvs tears down whatever of the batch is left (after an error):
// the setup client stops and removes only what carries its identity.
func cleanupEnvs(c *docker.Client, envs []string) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	mine := make(map[string]bool, len(envs))
	for _, e := range envs {
		mine[e] = true
	}
	ctrs, err := c.ListContainers(ctx)
	if err == nil {
		_ = parallel(len(ctrs), 8, func(i int) error {
			if mine[ctrs[i].Environment] {
				return c.StopAndRemove(ctx, ctrs[i].ID, 10*time.Second)
			}
			return nil
		})
	}
	nets, err := c.ListNetworks(ctx)
	if err == nil {
		for _, n := range nets {
			if mine[n.Environment] {
				_ = c.RemoveNetwork(ctx, n.ID)
			}
		}
	}
}
