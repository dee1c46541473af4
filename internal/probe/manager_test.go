package probe

import (
	"context"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	"k8s.io/apimachinery/pkg/util/intstr"
	clocktesting "k8s.io/utils/clock/testing"

	v1 "berth.dev/berth/apis/v1alpha1"
)

func execSpecProbe(success, failure int32) *v1.Probe {
	return &v1.Probe{Exec: &v1.ExecAction{Command: []string{"/testapp", "check"}}, PeriodSeconds: 2, TimeoutSeconds: 1, SuccessThreshold: success, FailureThreshold: failure}
}

func TestManagerThresholdsAndOnChange(t *testing.T) {
	f := newFixture(t)
	f.exec.set("c1", true)
	f.m.Sync("shop", []Spec{f.spec("db", "c1", execSpecProbe(2, 3))})

	type want struct {
		healthy bool
		ready   bool
		changes int
	}
	// One probe per step, a period apart: success threshold 2, failure 3.
	plan := []want{
		{true, false, 0},  // one success: not yet
		{true, true, 1},   // two: ready
		{true, true, 1},   // steady: no news
		{false, true, 2},  // first failure: news, still ready
		{false, true, 2},  // second
		{false, false, 3}, // third: not ready
		{false, false, 3}, // steady failure: no news
		{true, false, 3},  // one success
		{true, true, 4},   // ready again
	}
	for i, w := range plan {
		f.exec.set("c1", w.healthy)
		if i > 0 {
			f.clock.Step(2 * time.Second)
		}
		st := f.settle("c1", i+1)
		if st.Ready != w.ready || !st.Known || f.ch.get("shop") != w.changes {
			t.Fatalf("probe %d (healthy=%v): status %+v, %d changes; want ready=%v, %d changes", i+1, w.healthy, st, f.ch.get("shop"), w.ready, w.changes)
		}
	}
	if got := testutil.ToFloat64(f.m.metrics.total.WithLabelValues(TypeExec, "success")); got != 5 {
		t.Errorf("berth_probe_total{exec,success} = %v, want 5", got)
	}
	if got := testutil.ToFloat64(f.m.metrics.total.WithLabelValues(TypeExec, "failure")); got != 4 {
		t.Errorf("berth_probe_total{exec,failure} = %v, want 4", got)
	}
	if n, err := testutil.GatherAndCount(f.reg, "berth_probe_total", "berth_probe_duration_seconds"); err != nil || n != 3 {
		t.Errorf("gathered %d series (err %v), want 2 counters and 1 histogram", n, err)
	}
}

func TestManagerInitialDelay(t *testing.T) {
	f := newFixture(t)
	f.exec.set("c1", true)
	p := execSpecProbe(1, 3)
	p.InitialDelaySeconds = 5
	s := f.spec("db", "c1", p)
	s.StartedAt = f.clock.Now().Add(-2 * time.Second) // up for 2 s already
	f.m.Sync("shop", []Spec{s})

	eventually(t, "the worker to wait", func() bool { return f.clock.Waiters() == 1 })
	if st, ok := f.m.Result("c1"); !ok || st.Known || st.Ready {
		t.Fatalf("during the initial delay: %+v, %v; want probed, unknown, not ready", st, ok)
	}
	f.clock.Step(2999 * time.Millisecond)
	eventually(t, "the worker to wait again", func() bool { return f.clock.Waiters() == 1 })
	if n := f.exec.count("c1"); n != 0 {
		t.Fatalf("probed %d times before the initial delay passed", n)
	}
	f.clock.Step(time.Millisecond)
	if st := f.settle("c1", 1); !st.Ready {
		t.Fatalf("after the initial delay: %+v, want ready", st)
	}
	if f.ch.get("shop") != 1 {
		t.Errorf("%d changes, want 1", f.ch.get("shop"))
	}
}

func TestManagerRestartsWorkerOnNewContainer(t *testing.T) {
	f := newFixture(t)
	f.exec.set("old", true)
	f.m.Sync("shop", []Spec{f.spec("db", "old", execSpecProbe(1, 3))})
	if st := f.settle("old", 1); !st.Ready {
		t.Fatalf("old container: %+v", st)
	}

	// The service's container was recreated: new ID, readiness from scratch.
	f.m.Sync("shop", []Spec{f.spec("db", "new", execSpecProbe(1, 3))})
	if _, ok := f.m.Result("old"); ok {
		t.Error("the old container's result is still served")
	}
	if st, ok := f.m.Result("new"); !ok || st.Ready {
		t.Errorf("new container before its first probe: %+v, %v; want probed, not ready", st, ok)
	}
	if st := f.settle("new", 1); st.Ready || st.ConsecutiveFailures != 1 {
		t.Errorf("new (unhealthy) container: %+v", st)
	}
	eventually(t, "one worker goroutine", func() bool { return workerGoroutines() == 1 })
	f.clock.Step(2 * time.Second)
	f.settle("new", 2)
	if n := f.exec.count("old"); n != 1 {
		t.Errorf("the old container was probed %d times, want 1", n)
	}

	// Restarted in place (same ID, new start time): readiness starts over.
	f.exec.set("new", true)
	f.clock.Step(2 * time.Second)
	if st := f.settle("new", 3); !st.Ready {
		t.Fatalf("new container: %+v", st)
	}
	hold := make(chan struct{})
	f.exec.mu.Lock()
	f.exec.block["new"] = hold // keep the next probe from answering yet
	f.exec.mu.Unlock()
	restarted := f.spec("db", "new", execSpecProbe(1, 3)) // started now, not at the first Sync
	f.m.Sync("shop", []Spec{restarted})
	if st, _ := f.m.Result("new"); st.Known || st.Ready {
		t.Errorf("after an in-place restart: %+v, want unknown and not ready", st)
	}
	close(hold)
	if st := f.settle("new", 4); !st.Ready || st.ConsecutiveSuccesses != 1 {
		t.Errorf("first probe after the restart: %+v, want ready after one success", st)
	}
}

func TestManagerKeepsCountsWhenOnlyTheTargetMoves(t *testing.T) {
	f := newFixture(t)
	addrA, acceptedA := acceptAll(t)
	addrB, acceptedB := acceptAll(t)
	target := func(addr string) Target {
		h, p := hostPort(t, addr)
		return Target{ContainerID: "c1", Published: []PublishedPort{{ContainerPort: 5432, HostIP: h, HostPort: p}}}
	}
	s := Spec{Service: "db", Probe: tcpProbe(intstr.FromInt32(5432)), Target: target(addrA), StartedAt: f.clock.Now()}
	f.m.Sync("shop", []Spec{s})
	eventually(t, "first probe", func() bool { st, _ := f.m.Result("c1"); return st.Ready && f.clock.Waiters() == 1 })

	// The published port changed (the daemon restarted, say): same
	// container, so no restart of its readiness.
	s.Target = target(addrB)
	f.m.Sync("shop", []Spec{s})
	f.clock.Step(2 * time.Second)
	eventually(t, "second probe", func() bool {
		st, _ := f.m.Result("c1")
		return st.ConsecutiveSuccesses == 2 && f.clock.Waiters() == 1
	})
	if acceptedA() != 1 || acceptedB() != 1 {
		t.Errorf("connections: A %d, B %d; want one each", acceptedA(), acceptedB())
	}
	if f.ch.get("shop") != 1 {
		t.Errorf("%d changes, want 1 (ready once)", f.ch.get("shop"))
	}
}

func TestManagerSyncDropsServicesAndEnvironments(t *testing.T) {
	f := newFixture(t)
	f.m.Sync("a", []Spec{f.spec("db", "a-db", execSpecProbe(1, 3)), f.spec("web", "a-web", execSpecProbe(1, 3))})
	f.m.Sync("b", []Spec{f.spec("db", "b-db", execSpecProbe(1, 3)), {Service: "noprobe", Target: Target{ContainerID: "b-x"}}})
	eventually(t, "three workers", func() bool { return workerGoroutines() == 3 })
	if _, ok := f.m.Result("b-x"); ok {
		t.Error("a spec without a probe got a worker")
	}

	f.m.Sync("a", []Spec{f.spec("db", "a-db", execSpecProbe(1, 3))})
	eventually(t, "two workers", func() bool { return workerGoroutines() == 2 })
	if _, ok := f.m.Result("a-web"); ok {
		t.Error("a-web is still probed after its service went away")
	}
	f.m.Sync("b", nil)
	eventually(t, "one worker", func() bool { return workerGoroutines() == 1 })
	if _, ok := f.m.Result("b-db"); ok {
		t.Error("b-db is still probed after its environment went away")
	}
	if _, ok := f.m.Result("a-db"); !ok {
		t.Error("a-db lost its worker to another environment's sync")
	}
}

// A changed probe restarts the worker, and the new one waits for the old
// one's probe to finish: a container is never probed twice at once.
func TestManagerNeverOverlapsProbesOfOneContainer(t *testing.T) {
	f := newFixture(t)
	release := make(chan struct{})
	f.exec.mu.Lock()
	f.exec.block["c1"] = release
	f.exec.mu.Unlock()
	f.m.Sync("shop", []Spec{f.spec("db", "c1", execSpecProbe(1, 3))})
	eventually(t, "the first probe to start", func() bool { return f.exec.count("c1") == 1 })

	// Replaced by a changed probe; dropped and added back; replaced
	// again before that worker even started: each successor must wait.
	f.m.Sync("shop", []Spec{f.spec("db", "c1", execSpecProbe(1, 5))})
	f.m.Sync("shop", nil)
	f.m.Sync("shop", []Spec{f.spec("db", "c1", execSpecProbe(1, 5))})
	f.m.Sync("shop", []Spec{f.spec("db", "c1", execSpecProbe(1, 7))})
	time.Sleep(200 * time.Millisecond) // room for a wrong second probe to start
	f.exec.mu.Lock()
	delete(f.exec.block, "c1")
	f.exec.mu.Unlock()
	close(release)
	f.settle("c1", 2)
	f.exec.mu.Lock()
	defer f.exec.mu.Unlock()
	if f.exec.overlap {
		t.Error("two probes of one container ran at once")
	}
}

func TestManagerStopLeavesNoGoroutines(t *testing.T) {
	ex := newFakeExec()
	clk := clocktesting.NewFakeClock(time.Unix(1_700_000_000, 0))
	m, err := NewManager(context.Background(), Options{Execer: ex, Clock: clk})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(m.Stop)
	hang := make(chan struct{})
	defer close(hang)
	ex.block["busy"] = hang
	ex.cancellable = true
	slow := execSpecProbe(1, 3)
	slow.InitialDelaySeconds = 3600
	m.Sync("e", []Spec{
		{Service: "busy", Probe: execSpecProbe(1, 3), Target: Target{ContainerID: "busy"}, StartedAt: clk.Now()},
		{Service: "idle", Probe: slow, Target: Target{ContainerID: "idle"}, StartedAt: clk.Now()},
	})
	// A third worker waiting for the one it replaces.
	m.Sync("e", []Spec{
		{Service: "busy", Probe: execSpecProbe(1, 9), Target: Target{ContainerID: "busy"}, StartedAt: clk.Now()},
		{Service: "idle", Probe: slow, Target: Target{ContainerID: "idle"}, StartedAt: clk.Now()},
	})
	eventually(t, "workers running", func() bool { return workerGoroutines() >= 2 && ex.count("busy") >= 1 && clk.Waiters() == 1 })

	m.Stop()
	noWorkersLeft(t)
	if _, ok := m.Result("idle"); ok {
		t.Error("results are served after Stop")
	}
	m.Sync("e", []Spec{{Service: "idle", Probe: slow, Target: Target{ContainerID: "idle"}, StartedAt: clk.Now()}})
	time.Sleep(50 * time.Millisecond) // room for a wrongly started worker to show
	if n := workerGoroutines(); n != 0 {
		t.Errorf("Sync after Stop started %d workers", n)
	}
	m.Stop() // twice is harmless
}

func TestManagerStopsWithItsContext(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	clk := clocktesting.NewFakeClock(time.Unix(1_700_000_000, 0))
	m, err := NewManager(ctx, Options{Execer: newFakeExec(), Clock: clk})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(m.Stop)
	m.Sync("e", []Spec{{Service: "a", Probe: execSpecProbe(1, 3), Target: Target{ContainerID: "a"}, StartedAt: clk.Now()}})
	eventually(t, "the worker to sleep", func() bool { return clk.Waiters() == 1 })
	cancel()
	eventually(t, "the worker to end", func() bool { return workerGoroutines() == 0 })
}

func TestManagerMetricsRegistration(t *testing.T) {
	reg := prometheus.NewRegistry()
	m, err := NewManager(context.Background(), Options{Registerer: reg})
	if err != nil {
		t.Fatal(err)
	}
	defer m.Stop()
	if _, err := NewManager(context.Background(), Options{Registerer: reg}); err == nil {
		t.Error("a second manager on the same registry registered its metrics")
	}
}

// Workers for containers that have been up a while (a manager restart)
// spread their first probes over a period instead of all probing at once.
func TestManagerSpreadsFirstProbesOfOldContainers(t *testing.T) {
	f := newFixture(t)
	var specs []Spec
	for _, id := range []string{"a", "b", "c"} {
		f.exec.set(id, true)
		s := f.spec(id, id, execSpecProbe(1, 3))
		s.StartedAt = f.clock.Now().Add(-time.Hour)
		specs = append(specs, s)
	}
	f.m.Sync("shop", specs)
	eventually(t, "three workers waiting", func() bool { return f.clock.Waiters() == 3 })
	for _, id := range []string{"a", "b", "c"} {
		if n := f.exec.count(id); n != 0 {
			t.Errorf("%s probed at once (%d), want after a random part of the period", id, n)
		}
	}
	f.clock.Step(2 * time.Second)
	for _, id := range []string{"a", "b", "c"} {
		eventually(t, id+" ready", func() bool { st, _ := f.m.Result(id); return st.Ready })
	}
}
