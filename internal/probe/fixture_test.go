package probe

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/go-logr/logr/testr"
	"github.com/prometheus/client_golang/prometheus"
	clocktesting "k8s.io/utils/clock/testing"

	v1 "berth.dev/berth/apis/v1alpha1"
)

// fakeExec answers exec probes from a health flag per container and
// records calls and overlap.
type fakeExec struct {
	mu       sync.Mutex
	healthy  map[string]bool
	calls    map[string]int
	inFlight map[string]int
	overlap  bool
	// block, when set for a container, holds its probes until closed,
	// ignoring cancellation like a slow daemon unless cancellable.
	block       map[string]chan struct{}
	cancellable bool
}

func newFakeExec() *fakeExec {
	return &fakeExec{healthy: map[string]bool{}, calls: map[string]int{}, inFlight: map[string]int{}, block: map[string]chan struct{}{}}
}

func (f *fakeExec) Exec(ctx context.Context, id string, cmd []string, timeout time.Duration) (ExecResult, error) {
	f.mu.Lock()
	f.calls[id]++
	f.inFlight[id]++
	if f.inFlight[id] > 1 {
		f.overlap = true
	}
	block, cancellable := f.block[id], f.cancellable
	f.mu.Unlock()
	var err error
	if block != nil {
		if cancellable {
			select {
			case <-block:
			case <-ctx.Done():
				err = ctx.Err()
			}
		} else {
			<-block
		}
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.inFlight[id]--
	if err != nil {
		return ExecResult{}, err
	}
	if f.healthy[id] {
		return ExecResult{Output: "ok"}, nil
	}
	return ExecResult{ExitCode: 1, Output: "unhealthy"}, nil
}

func (f *fakeExec) set(id string, healthy bool) {
	f.mu.Lock()
	f.healthy[id] = healthy
	f.mu.Unlock()
}

func (f *fakeExec) count(id string) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.calls[id]
}

// changes counts OnChange calls per Environment.
type changes struct {
	mu sync.Mutex
	n  map[string]int
}

func (c *changes) on(env string) {
	c.mu.Lock()
	if c.n == nil {
		c.n = map[string]int{}
	}
	c.n[env]++
	c.mu.Unlock()
}

func (c *changes) get(env string) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.n[env]
}

type fixture struct {
	t     *testing.T
	clock *clocktesting.FakeClock
	exec  *fakeExec
	ch    *changes
	reg   *prometheus.Registry
	m     *Manager
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	f := &fixture{t: t, clock: clocktesting.NewFakeClock(time.Unix(1_700_000_000, 0)), exec: newFakeExec(), ch: &changes{}, reg: prometheus.NewRegistry()}
	m, err := NewManager(context.Background(), Options{Logger: testr.New(t), Registerer: f.reg, OnChange: f.ch.on, Execer: f.exec, Clock: f.clock})
	if err != nil {
		t.Fatal(err)
	}
	f.m = m
	t.Cleanup(func() {
		m.Stop()
		noWorkersLeft(t)
	})
	return f
}

func (f *fixture) spec(service, id string, p *v1.Probe) Spec {
	return Spec{Service: service, Probe: p, Target: Target{ContainerID: id}, StartedAt: f.clock.Now()}
}

// settle waits until container id has been probed n times and its worker
// sleeps again, so the cache holds the n-th result.
func (f *fixture) settle(id string, n int) Status {
	f.t.Helper()
	eventually(f.t, "probe to settle", func() bool {
		st, ok := f.m.Result(id)
		return f.exec.count(id) == n && ok && st.LastProbe.Equal(f.clock.Now()) && f.clock.Waiters() >= 1
	})
	st, _ := f.m.Result(id)
	return st
}
