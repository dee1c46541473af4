// Package dockerbench measures the Docker layer: create+start and
// stop+remove of a batch of containers through each governor profile, and
// the same calls made directly with the Docker client and no governor, in
// the same run on the same daemon, so the ratio shows what the governor
// costs. It is used by `go test -bench` in internal/docker and by
// `go run ./hack/bench docker`.
package dockerbench

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/go-logr/logr"
	"github.com/moby/moby/api/types/container"
	"github.com/moby/moby/api/types/network"
	"github.com/moby/moby/client"

	v1 "berth.dev/berth/apis/v1alpha1"
	"berth.dev/berth/internal/docker"
	"berth.dev/berth/internal/governor"
)

// Direct is the mode name of the ungoverned baseline.
const Direct = "direct"

// Options for one batch.
type Options struct {
	Host  string
	Image string
	// Mode is Direct or a governor.Profile name.
	Mode string
	// MaxInFlight and QPS override the profile's limits (0 = the
	// profile's), as --docker-max-inflight and --docker-qps do.
	MaxInFlight int
	QPS         float64
	// AddressPool is passed to the client that makes the batch's network
	// (--docker-address-pool); empty is berth's default pool (a free /16).
	AddressPool string
	// N containers are created, started, stopped and removed.
	N int
	// Workers is the direct mode's concurrency (0 = all N at once). The
	// governed modes always run N callers and let the governor decide.
	Workers int
	// Grace is the stop grace period; the test image exits at once on
	// SIGTERM, so it only bounds a stuck container.
	Grace  time.Duration
	Logger logr.Logger
}

// Result of one batch.
type Result struct {
	Mode string
	N    int
	// Up is the wall time of all creates and starts, Down of all
	// teardowns (inspect, stop, wait, verify, remove for each).
	Up, Down time.Duration
	// Calls is the number of Docker API calls (attempts) made; Retries
	// how many of them were retries.
	Calls, Retries int64
	// PeakInFlight is the governor's high-water mark (0 for direct).
	PeakInFlight int
}

// CallsPerSecond is the batch's overall call rate.
func (r Result) CallsPerSecond() float64 {
	total := (r.Up + r.Down).Seconds()
	if total == 0 {
		return 0
	}
	return float64(r.Calls) / total
}

// Run performs one batch on a fresh user-defined bridge network (as an
// Environment gets) and removes everything it created, gracefully.
func Run(ctx context.Context, o Options) (Result, error) {
	if o.N <= 0 {
		return Result{}, fmt.Errorf("batch size %d: must be positive", o.N)
	}
	if o.Grace == 0 {
		o.Grace = 10 * time.Second
	}
	id := "berth-bench-" + randHex(4)
	env := "bench" + randHex(3)
	setup, err := docker.New(docker.Config{Host: o.Host, Profile: governor.ProfileCI, QPS: -1, MaxInFlight: 8, ManagerID: id, Logger: o.Logger, AddressPool: o.AddressPool})
	if err != nil {
		return Result{}, err
	}
	defer setup.Close()
	if _, err := setup.EnsureNetwork(ctx, docker.NetworkSpec{Environment: env}); err != nil {
		return Result{}, fmt.Errorf("bench network: %w", err)
	}
	defer cleanup(setup, env)

	res := Result{Mode: o.Mode, N: o.N}
	if o.Mode == Direct {
		err = runDirect(ctx, o, id, env, &res)
	} else {
		err = runGoverned(ctx, o, id, env, &res)
	}
	return res, err
}

func specFor(o Options, env string, i int) docker.ContainerSpec {
	return docker.ContainerSpec{
		Environment: env, Service: fmt.Sprintf("s%03d", i), Image: o.Image,
		Args: []string{"--http-port", "0"}, MemoryLimit: 32 << 20, SpecHash: "bench",
	}
}

func runGoverned(ctx context.Context, o Options, id, env string, res *Result) error {
	c, err := docker.New(docker.Config{Host: o.Host, Profile: governor.Profile(o.Mode), MaxInFlight: o.MaxInFlight, QPS: o.QPS, ManagerID: id, Logger: o.Logger})
	if err != nil {
		return err
	}
	defer c.Close()
	if _, err := c.Ping(ctx); err != nil {
		return err
	}
	before := c.Stats()
	ids := make([]string, o.N)
	start := time.Now()
	if err := parallel(o.N, o.N, func(i int) error {
		cr, err := c.CreateContainer(ctx, specFor(o, env, i))
		if err != nil {
			return err
		}
		ids[i] = cr.ID
		return c.StartContainer(ctx, cr.ID)
	}); err != nil {
		return err
	}
	res.Up = time.Since(start)
	start = time.Now()
	if err := parallel(o.N, o.N, func(i int) error { return c.StopAndRemove(ctx, ids[i], o.Grace) }); err != nil {
		return err
	}
	res.Down = time.Since(start)
	after := c.Stats()
	res.Calls = after.Calls - before.Calls
	res.Retries = after.Retries - before.Retries
	res.PeakInFlight = after.PeakInFlight
	return nil
}

// runDirect makes the same calls as the governed path with the plain
// client: create, start; then inspect, stop, wait, inspect, remove.
func runDirect(ctx context.Context, o Options, id, env string, res *Result) error {
	api, err := client.New(client.WithHost(o.Host))
	if err != nil {
		return err
	}
	defer api.Close()
	if _, err := api.Ping(ctx, client.PingOptions{NegotiateAPIVersion: true}); err != nil {
		return err
	}
	var calls atomic.Int64
	workers := o.Workers
	if workers <= 0 {
		workers = o.N
	}
	ids := make([]string, o.N)
	netName := docker.NetworkName(env)
	start := time.Now()
	if err := parallel(o.N, workers, func(i int) error {
		s := specFor(o, env, i)
		labels := map[string]string{v1.LabelManagedBy: id, v1.LabelEnvironment: env, v1.LabelService: s.Service, v1.LabelSpecHash: s.SpecHash}
		calls.Add(2)
		cr, err := api.ContainerCreate(ctx, client.ContainerCreateOptions{
			Name:       docker.ContainerName(env, s.Service),
			Config:     &container.Config{Image: s.Image, Cmd: s.Args, Labels: labels},
			HostConfig: &container.HostConfig{NetworkMode: container.NetworkMode(netName), Resources: container.Resources{Memory: s.MemoryLimit}},
			NetworkingConfig: &network.NetworkingConfig{EndpointsConfig: map[string]*network.EndpointSettings{
				netName: {Aliases: []string{s.Service}},
			}},
		})
		if err != nil {
			return err
		}
		ids[i] = cr.ID
		_, err = api.ContainerStart(ctx, cr.ID, client.ContainerStartOptions{})
		return err
	}); err != nil {
		return err
	}
	res.Up = time.Since(start)
	secs := int(o.Grace / time.Second)
	start = time.Now()
	if err := parallel(o.N, workers, func(i int) error {
		calls.Add(5)
		if _, err := api.ContainerInspect(ctx, ids[i], client.ContainerInspectOptions{}); err != nil {
			return err
		}
		if _, err := api.ContainerStop(ctx, ids[i], client.ContainerStopOptions{Timeout: &secs}); err != nil {
			return err
		}
		w := api.ContainerWait(ctx, ids[i], client.ContainerWaitOptions{Condition: container.WaitConditionNotRunning})
		select {
		case <-w.Result:
		case err := <-w.Error:
			return err
		}
		if _, err := api.ContainerInspect(ctx, ids[i], client.ContainerInspectOptions{}); err != nil {
			return err
		}
		_, err := api.ContainerRemove(ctx, ids[i], client.ContainerRemoveOptions{RemoveVolumes: true})
		return err
	}); err != nil {
		return err
	}
	res.Down = time.Since(start)
	res.Calls = calls.Load()
	return nil
}

// Throughput runs cheap reads (inspect of one running container) from
// callers goroutines for d through a profile, or directly, and returns the
// calls per second sustained.
func Throughput(ctx context.Context, o Options, callers int, d time.Duration) (float64, error) {
	id := "berth-bench-" + randHex(4)
	env := "bench" + randHex(3)
	setup, err := docker.New(docker.Config{Host: o.Host, Profile: governor.ProfileCI, QPS: -1, ManagerID: id, Logger: o.Logger, AddressPool: o.AddressPool})
	if err != nil {
		return 0, err
	}
	defer setup.Close()
	defer cleanup(setup, env)
	if _, err := setup.EnsureNetwork(ctx, docker.NetworkSpec{Environment: env}); err != nil {
		return 0, err
	}
	cr, err := setup.CreateContainer(ctx, specFor(o, env, 0))
	if err != nil {
		return 0, err
	}
	if err := setup.StartContainer(ctx, cr.ID); err != nil {
		return 0, err
	}

	var call func(context.Context) error
	if o.Mode == Direct {
		api, err := client.New(client.WithHost(o.Host))
		if err != nil {
			return 0, err
		}
		defer api.Close()
		call = func(ctx context.Context) error {
			_, err := api.ContainerInspect(ctx, cr.ID, client.ContainerInspectOptions{})
			return err
		}
	} else {
		c, err := docker.New(docker.Config{Host: o.Host, Profile: governor.Profile(o.Mode), MaxInFlight: o.MaxInFlight, QPS: o.QPS, ManagerID: id, Logger: o.Logger})
		if err != nil {
			return 0, err
		}
		defer c.Close()
		call = func(ctx context.Context) error {
			_, err := c.InspectContainer(ctx, cr.ID)
			return err
		}
	}
	if err := call(ctx); err != nil {
		return 0, err
	}
	runCtx, cancel := context.WithTimeout(ctx, d)
	defer cancel()
	var n atomic.Int64
	start := time.Now()
	var wg sync.WaitGroup
	for i := 0; i < callers; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for runCtx.Err() == nil {
				if call(runCtx) == nil {
					n.Add(1)
				}
			}
		}()
	}
	wg.Wait()
	return float64(n.Load()) / time.Since(start).Seconds(), nil
}

// parallel runs f(0..n-1) on workers goroutines and returns the first error.
func parallel(n, workers int, f func(i int) error) error {
	jobs := make(chan int)
	errs := make(chan error, n)
	var wg sync.WaitGroup
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range jobs {
				if err := f(i); err != nil {
					errs <- err
				}
			}
		}()
	}
	for i := 0; i < n; i++ {
		jobs <- i
	}
	close(jobs)
	wg.Wait()
	close(errs)
	return <-errs
}

// cleanup tears down whatever a batch left (after an error), gracefully.
func cleanup(c *docker.Client, env string) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	ctrs, err := c.ListContainers(ctx)
	if err == nil {
		_ = parallel(len(ctrs), 8, func(i int) error {
			if ctrs[i].Environment == env {
				return c.StopAndRemove(ctx, ctrs[i].ID, 10*time.Second)
			}
			return nil
		})
	}
	_ = c.RemoveNetwork(ctx, docker.NetworkName(env))
}

func randHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}
