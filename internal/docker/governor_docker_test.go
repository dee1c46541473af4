package docker

import (
	"context"
	"fmt"
	"sort"
	"sync"
	"testing"
	"time"

	"github.com/moby/moby/client"

	v1 "berth.dev/berth/apis/v1alpha1"
	"berth.dev/berth/internal/docker/faultproxy"
	"berth.dev/berth/internal/governor"
)

// TestDesktopProfileCapsAndSpaces: 30 parallel callers through the desktop
// profile; the daemon side (the proxy) must never see more than 3 requests
// in flight nor two request starts closer than 0.5 s. Each request is slowed
// by the proxy so the cap, not the spacing alone, is what binds.
func TestDesktopProfileCapsAndSpaces(t *testing.T) {
	needDocker(t)
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	env := envName(t, "desk")
	cleanupEnv(t, env)
	direct := newTestClient(t, dockerHost, governor.ProfileCI)
	if _, err := direct.EnsureNetwork(ctx, NetworkSpec{Environment: env}); err != nil {
		t.Fatal(err)
	}
	ctr, err := direct.CreateContainer(ctx, spec(env, "app", "--http-port", "0"))
	if err != nil {
		t.Fatal(err)
	}
	if err := direct.StartContainer(ctx, ctr.ID); err != nil {
		t.Fatal(err)
	}

	p := startProxy(t)
	c := newTestClient(t, p.Host(), governor.ProfileDesktop)
	if _, err := c.Ping(ctx); err != nil {
		t.Fatal(err)
	}
	p.Reset()
	p.SetFaults(faultproxy.Faults{Latency: 1500 * time.Millisecond})

	const callers = 30
	var wg sync.WaitGroup
	for i := 0; i < callers; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			var err error
			if i%2 == 0 {
				// A write: starting a running container is a no-op.
				err = c.StartContainer(ctx, ctr.ID)
			} else {
				_, err = c.InspectContainer(ctx, ctr.ID)
			}
			if err != nil {
				t.Error(err)
			}
		}(i)
	}
	wg.Wait()

	reqs := p.Requests()
	if len(reqs) != callers {
		t.Fatalf("proxy saw %d requests, want %d", len(reqs), callers)
	}
	if m := p.MaxInFlight(); m != 3 {
		t.Fatalf("max requests in flight at the daemon = %d, want exactly 3 (the cap, reached)", m)
	}
	starts := make([]time.Time, len(reqs))
	for i, r := range reqs {
		starts[i] = r.Start
	}
	sort.Slice(starts, func(i, j int) bool { return starts[i].Before(starts[j]) })
	minGap := time.Hour
	for i := 1; i < len(starts); i++ {
		if gap := starts[i].Sub(starts[i-1]); gap < minGap {
			minGap = gap
		}
	}
	t.Logf("30 calls: max in flight %d, smallest gap between call starts %s", p.MaxInFlight(), minGap)
	if minGap < 500*time.Millisecond {
		t.Fatalf("two calls started %s apart, want >= 0.5s", minGap)
	}
	if st := c.Stats(); st.PeakInFlight > 3 || st.LimiterWait <= 0 {
		t.Fatalf("governor stats: peak %d, limiter wait %s", st.PeakInFlight, st.LimiterWait)
	}
}

// TestFaultsNoDuplicates: 20 creates + starts + teardowns through a proxy
// that fails 20% of requests (500s, drops before the daemon, drops after
// it acted). Each step is retried the way the controller's queue would;
// the end state must have had exactly 20 containers, one network, and
// nothing left.
func TestFaultsNoDuplicates(t *testing.T) {
	needDocker(t)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	env := envName(t, "fault")
	cleanupEnv(t, env)
	p := startProxy(t)
	c := newTestClient(t, p.Host(), governor.ProfileCI, func(cfg *Config) {
		cfg.RetryBackoff = []time.Duration{100 * time.Millisecond, 200 * time.Millisecond, 400 * time.Millisecond}
	})
	if _, err := c.Ping(ctx); err != nil {
		t.Fatal(err)
	}
	p.SetFaults(faultproxy.Faults{ErrorRate: 0.10, DropBeforeRate: 0.05, DropAfterRate: 0.05})

	// untilOK is the controller's requeue: the same idempotent step again.
	untilOK := func(what string, f func() error) {
		t.Helper()
		var err error
		for attempt := 0; attempt < 15; attempt++ {
			if err = f(); err == nil {
				return
			}
			if !IsUnavailable(err) {
				break
			}
		}
		t.Fatalf("%s: %v", what, err)
	}
	untilOK("ensure network", func() error { _, err := c.EnsureNetwork(ctx, NetworkSpec{Environment: env}); return err })

	const n = 20
	ids := make([]string, n)
	var wg sync.WaitGroup
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			s := spec(env, fmt.Sprintf("svc%02d", i), "--http-port", "0")
			untilOK("create", func() error {
				cr, err := c.CreateContainer(ctx, s)
				ids[i] = cr.ID
				return err
			})
			untilOK("start", func() error { return c.StartContainer(ctx, ids[i]) })
		}(i)
	}
	wg.Wait()
	if t.Failed() {
		return
	}

	// The daemon's own view, not through the proxy.
	f := make(client.Filters).Add("label", v1.LabelEnvironment+"="+env)
	list, err := raw.ContainerList(ctx, client.ContainerListOptions{All: true, Filters: f})
	if err != nil {
		t.Fatal(err)
	}
	names := map[string]bool{}
	for _, it := range list.Items {
		if it.State != "running" {
			t.Errorf("container %v is %s, want running", it.Names, it.State)
		}
		names[it.Names[0]] = true
	}
	if len(list.Items) != n || len(names) != n {
		t.Fatalf("%d containers (%d names) for %s, want exactly %d", len(list.Items), len(names), env, n)
	}
	nets, err := raw.NetworkList(ctx, client.NetworkListOptions{Filters: make(client.Filters).Add("name", NetworkName(env))})
	if err != nil {
		t.Fatal(err)
	}
	if len(nets.Items) != 1 {
		t.Fatalf("%d networks named %s, want 1", len(nets.Items), NetworkName(env))
	}

	for i := 0; i < n; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			untilOK("teardown", func() error { return c.StopAndRemove(ctx, ids[i], 5*time.Second) })
		}(i)
	}
	wg.Wait()
	untilOK("remove network", func() error { return c.RemoveNetwork(ctx, NetworkName(env)) })
	list, err = raw.ContainerList(ctx, client.ContainerListOptions{All: true, Filters: f})
	if err != nil || len(list.Items) != 0 {
		t.Fatalf("after teardown: %d containers left (%v)", len(list.Items), err)
	}

	faults := map[string]int{}
	for _, r := range p.Requests() {
		faults[r.Fault]++
	}
	st := c.Stats()
	t.Logf("requests by fault: %v; governor retries %d, errors %d", faults, st.Retries, st.Errors)
	if faults["error"] == 0 || faults["drop-before"] == 0 || faults["drop-after"] == 0 || st.Retries == 0 {
		t.Fatalf("the faults did not happen (%v, %d retries): the test proved nothing", faults, st.Retries)
	}
}

// TestAdaptiveFollowsLatency: under steady demand the adaptive limit grows,
// drops when the proxy adds latency, and grows again once it is gone.
func TestAdaptiveFollowsLatency(t *testing.T) {
	needDocker(t)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	p := startProxy(t)
	c := newTestClient(t, p.Host(), governor.ProfileAdaptive)
	if _, err := c.Ping(ctx); err != nil {
		t.Fatal(err)
	}
	load, stop := context.WithCancel(ctx)
	defer stop()
	var wg sync.WaitGroup
	for i := 0; i < 12; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			for load.Err() == nil {
				if i%3 == 0 {
					// Writes too, so the whole cap is in demand; a volume
					// create of an existing name is a no-op.
					_, _ = c.EnsureVolume(load, VolumeSpec{Name: decoys.foreignVolume})
				} else {
					_, _ = c.ImagePresent(load, testImage)
				}
			}
		}(i)
	}
	defer wg.Wait()
	defer stop()

	limit := func() int { return c.Stats().Limit }
	eventually(t, 90*time.Second, "limit grows to >= 4 while healthy", func() bool { return limit() >= 4 })
	high := limit()
	p.SetFaults(faultproxy.Faults{Latency: 400 * time.Millisecond})
	eventually(t, 60*time.Second, "limit drops under injected latency", func() bool { return limit() <= high/2 })
	low := limit()
	p.SetFaults(faultproxy.Faults{})
	eventually(t, 90*time.Second, "limit grows again after latency is gone", func() bool { return limit() > low })
	t.Logf("adaptive limit: high %d, under latency %d, recovered to %d; stats %+v", high, low, limit(), c.Stats().LimitChanges)
}
