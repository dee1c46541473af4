package probe

import (
	"context"
	"math/rand/v2"
	"sync"
	"time"

	"github.com/go-logr/logr"

	v1 "berth.dev/berth/apis/v1alpha1"
)

// worker probes one container on its probe's period until retired. Being
// one goroutine, it never runs its probe concurrently with itself.
type worker struct {
	m         *Manager
	key       workerKey
	id        string
	probe     *v1.Probe
	probeType string
	startedAt time.Time
	log       logr.Logger

	ctx    context.Context
	cancel context.CancelFunc
	done   chan struct{}

	mu     sync.Mutex
	target Target
	// prefer is the address that answered last, tried first next time.
	prefer string

	// logs is a log probe's stream; only the worker's goroutine touches
	// it.
	logs *logWatch
}

func newWorker(m *Manager, key workerKey, s Spec) *worker {
	ctx, cancel := context.WithCancel(m.ctx)
	w := &worker{
		m:         m,
		key:       key,
		id:        s.Target.ContainerID,
		probe:     s.Probe.DeepCopy(),
		probeType: Type(s.Probe),
		startedAt: s.StartedAt,
		ctx:       ctx,
		cancel:    cancel,
		done:      make(chan struct{}),
		log:       m.log.WithValues("environment", key.env, "service", key.service, "container", shortID(s.Target.ContainerID)),
	}
	w.setTarget(s.Target)
	return w
}

// matches says whether s describes the container and probe this worker
// already runs. An unknown (zero) start time on either side is no evidence
// of a restart: a container seen only through a list has none.
func (w *worker) matches(s Spec) bool {
	restarted := !w.startedAt.IsZero() && !s.StartedAt.IsZero() && !w.startedAt.Equal(s.StartedAt)
	return w.id == s.Target.ContainerID && !restarted && probeEqual(w.probe, s.Probe)
}

func (w *worker) setTarget(t Target) {
	if t.Execer == nil {
		t.Execer = w.m.execer
	}
	if t.Logs == nil {
		t.Logs = w.m.logs
	}
	w.mu.Lock()
	w.target = t
	w.mu.Unlock()
}

func (w *worker) snapshot() (Target, string) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.target, w.prefer
}

// run waits for the retired worker of the same container, if one is still
// finishing a probe (a container must never be probed twice at once), then
// for the initial delay, then probes every period until retired.
func (w *worker) run(prev <-chan struct{}) {
	defer w.m.wg.Done()
	defer w.m.exited(w)
	defer close(w.done)
	defer func() { w.logs.stop() }()
	if prev != nil {
		// Even when retired itself: a successor waits on this worker's
		// done, which must mean the whole chain before it is idle. The
		// predecessor is cancelled, so the wait is one probe at most.
		<-prev
	}
	period := seconds(w.probe.PeriodSeconds, v1.DefaultProbePeriodSeconds)
	next := w.firstProbe(period)
	for {
		if !w.sleepUntil(next) {
			return
		}
		if !w.m.isHeld(w.key.env) {
			w.probeOnce()
		}
		// Like a ticker that drops ticks: a probe slower than the period
		// is followed by the next one at once, never by a burst.
		next = next.Add(period)
		if now := w.m.clock.Now(); next.Before(now) {
			next = now
		}
	}
}

// firstProbe is the start time plus the initial delay. A container that
// has been up for more than a period already (the manager restarted) is
// probed after a random part of a period instead, so hundreds of workers
// starting together do not probe in lockstep.
func (w *worker) firstProbe(period time.Duration) time.Time {
	now := w.m.clock.Now()
	started := w.startedAt
	if started.IsZero() || started.After(now) {
		started = now
	}
	first := started.Add(time.Duration(w.probe.InitialDelaySeconds) * time.Second)
	if first.Before(now) {
		first = now
		if now.Sub(started) > period+time.Duration(w.probe.InitialDelaySeconds)*time.Second {
			first = now.Add(rand.N(period))
		}
	}
	return first
}

// sleepUntil waits for t on the manager's clock; false when retired.
func (w *worker) sleepUntil(t time.Time) bool {
	d := t.Sub(w.m.clock.Now())
	if d <= 0 {
		return w.ctx.Err() == nil
	}
	timer := w.m.clock.NewTimer(d)
	defer timer.Stop()
	select {
	case <-timer.C():
		return w.ctx.Err() == nil
	case <-w.ctx.Done():
		return false
	}
}

func (w *worker) probeOnce() {
	target, prefer := w.snapshot()
	began := time.Now()
	var res Result
	if w.probe.Log != nil {
		res = w.probeLog(target)
		res.Message = clip(res.Message, maxStatusMessage)
	} else {
		res = run(w.ctx, w.probe, target, prefer)
	}
	took := time.Since(began)
	if w.ctx.Err() != nil {
		// Retired mid-probe: the answer belongs to a container nobody
		// asks about any more, and a cancelled probe proves nothing.
		return
	}
	w.m.metrics.observe(w.probeType, res.Success, took)
	if res.Address != "" {
		w.mu.Lock()
		w.prefer = res.Address
		w.mu.Unlock()
	}
	prev, st, current := w.m.record(w, res, w.m.clock.Now())
	if !current {
		return
	}
	w.log.V(2).Info("probed", "success", res.Success, "message", res.Message, "took", took)
	if !worthTelling(prev, st) {
		return
	}
	if prev.Ready != st.Ready {
		w.log.Info("readiness changed", "ready", st.Ready, "message", st.Message)
	} else {
		w.log.V(1).Info("probe failing", "ready", st.Ready, "failures", st.ConsecutiveFailures, "message", st.Message)
	}
	if w.m.onChange != nil {
		w.m.onChange(w.key.env)
	}
}

func seconds(n, def int32) time.Duration {
	if n <= 0 {
		n = def
	}
	return time.Duration(n) * time.Second
}

func shortID(id string) string {
	if len(id) > 12 {
		return id[:12]
	}
	return id
}
