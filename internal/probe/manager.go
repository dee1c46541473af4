package probe

import (
	"cmp"
	"context"
	"reflect"
	"sync"
	"time"

	"github.com/go-logr/logr"
	"github.com/prometheus/client_golang/prometheus"
	"k8s.io/utils/clock"

	v1 "berth.dev/berth/apis/v1alpha1"
	"berth.dev/berth/internal/streamcap"
)

// Options configure a Manager.
type Options struct {
	// Logger gets the manager's logs; the zero value discards them.
	Logger logr.Logger
	// Registerer, when set, gets the berth_probe_* collectors.
	Registerer prometheus.Registerer
	// OnChange is called, from a worker goroutine and without locks held,
	// with the name of an Environment whose readiness picture changed. It
	// must not block: enqueueing the Environment is what it is for.
	OnChange func(environment string)
	// Execer runs exec probes for targets that carry none.
	Execer Execer
	// Logs reads container output for log probes of targets that carry
	// none.
	Logs LogStreamer
	// MaxLogStreams caps the log streams open at once (one per
	// log-probed container until its pattern has matched); 0 is
	// DefaultMaxLogStreams. A probe over the cap fails and tries again
	// next period.
	MaxLogStreams int
	// Clock schedules probes; tests pass a fake one. Nil is the real clock.
	Clock clock.Clock
}

// Spec asks for one container's readiness probe.
type Spec struct {
	Environment string
	Service     string
	Probe       *v1.Probe
	// Target reaches the container; Target.ContainerID identifies it.
	Target Target
	// StartedAt is when the container (last) started: the initial delay
	// counts from it, and a new value means a restart, which starts the
	// container's readiness afresh.
	StartedAt time.Time
}

type workerKey struct{ env, service string }

// DefaultMaxLogStreams is the default cap on open log-probe streams: each
// holds a Docker stream and a goroutine until its container's ready line
// has been seen, which is seconds for a healthy start.
const DefaultMaxLogStreams = 128

// Manager runs the readiness probes of every container the controller says
// needs one, one worker goroutine per container, and caches the results.
type Manager struct {
	log      logr.Logger
	onChange func(string)
	execer   Execer
	logs     LogStreamer
	// logStreams caps open log-probe streams, one per container.
	logStreams *streamcap.Limiter
	clock      clock.Clock
	metrics    *metrics

	ctx    context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup

	mu      sync.RWMutex
	stopped bool
	workers map[workerKey]*worker
	results map[string]Status // by container ID
	// draining holds, by container ID, the last retired worker of a
	// container until it returns.
	draining map[string]*worker
	// held are the Environments whose probes are suspended (a paused
	// standby): their workers skip their turns and keep their results.
	held map[string]bool
}

// NewManager returns a Manager whose workers stop when ctx is done or Stop
// is called. It fails only if the metrics cannot be registered.
func NewManager(ctx context.Context, opts Options) (*Manager, error) {
	met, err := newMetrics(opts.Registerer)
	if err != nil {
		return nil, err
	}
	clk := opts.Clock
	if clk == nil {
		clk = clock.RealClock{}
	}
	ctx, cancel := context.WithCancel(ctx)
	return &Manager{
		log:        opts.Logger.WithName("probe"),
		onChange:   opts.OnChange,
		execer:     opts.Execer,
		logs:       opts.Logs,
		logStreams: streamcap.New("log probe streams", cmp.Or(opts.MaxLogStreams, DefaultMaxLogStreams), 1),
		clock:      clk,
		metrics:    met,
		ctx:        ctx,
		cancel:     cancel,
		workers:    map[workerKey]*worker{},
		results:    map[string]Status{},
		draining:   map[string]*worker{},
		held:       map[string]bool{},
	}, nil
}

// Sync makes the probed containers of env exactly specs: it starts workers
// for new containers, stops those whose container is no longer listed, and
// restarts a worker whose container ID, start time or probe changed (its
// readiness starts afresh). A worker whose container is unchanged keeps its
// counts and only picks up the new target (addresses, published ports).
// Sync(env, nil) forgets env. Specs without a probe or container ID are
// ignored. Sync does not wait for stopped workers.
func (m *Manager) Sync(env string, specs []Spec) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.stopped {
		return
	}
	want := make(map[string]Spec, len(specs))
	for _, s := range specs {
		if s.Probe == nil || s.Target.ContainerID == "" {
			continue
		}
		if _, dup := want[s.Service]; dup {
			m.log.Info("ignoring a second probe spec for a service", "environment", env, "service", s.Service, "container", s.Target.ContainerID)
			continue
		}
		s.Environment = env
		want[s.Service] = s
	}
	if len(specs) == 0 {
		delete(m.held, env)
	}
	for key, w := range m.workers {
		if key.env != env {
			continue
		}
		if _, ok := want[key.service]; !ok {
			m.retireLocked(key, w)
		}
	}
	for service, s := range want {
		key := workerKey{env, service}
		old := m.workers[key]
		if old != nil && old.matches(s) {
			old.setTarget(s.Target)
			continue
		}
		if owner := m.ownerLocked(s.Target.ContainerID); owner != nil && owner != old {
			m.log.Info("container is already probed for another service; ignoring", "environment", env, "service", service,
				"container", s.Target.ContainerID, "probedAs", owner.key.service, "probedIn", owner.key.env)
			continue
		}
		if old != nil {
			m.retireLocked(key, old)
		}
		var prev <-chan struct{}
		if d := m.draining[s.Target.ContainerID]; d != nil {
			prev = d.done
		}
		w := newWorker(m, key, s)
		m.workers[key] = w
		m.results[w.id] = Status{}
		m.wg.Add(1)
		go w.run(prev)
	}
}

func (m *Manager) ownerLocked(containerID string) *worker {
	if _, ok := m.results[containerID]; !ok {
		return nil
	}
	for _, w := range m.workers {
		if w.id == containerID {
			return w
		}
	}
	return nil
}

// retireLocked stops a worker without waiting for it and drops its result,
// so a stale worker can neither be read nor write. Until it has returned,
// it is the worker a new one for the same container waits for.
func (m *Manager) retireLocked(key workerKey, w *worker) {
	w.cancel()
	delete(m.workers, key)
	delete(m.results, w.id)
	m.draining[w.id] = w
}

// exited forgets a retired worker once it has returned.
func (m *Manager) exited(w *worker) {
	m.mu.Lock()
	if m.draining[w.id] == w {
		delete(m.draining, w.id)
	}
	m.mu.Unlock()
}

// Hold suspends (held=true) or resumes the probes of env's containers.
// A paused container cannot answer a probe, and its failures would say
// nothing about how it will be once thawed: held workers skip their turns
// and keep the last results, so a standby that was Ready before its pause
// is Ready again the moment it is unpaused.
func (m *Manager) Hold(env string, held bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if held {
		m.held[env] = true
	} else {
		delete(m.held, env)
	}
}

func (m *Manager) isHeld(env string) bool {
	m.mu.RLock()
	defer m.mu.RUnlock()
	return m.held[env]
}

// Result is the readiness of a probed container. ok is false when the
// container is not being probed (never synced, or synced away).
func (m *Manager) Result(containerID string) (Status, bool) {
	m.mu.RLock()
	defer m.mu.RUnlock()
	s, ok := m.results[containerID]
	return s, ok
}

// Stop stops every worker and waits until all have returned. The Manager
// probes nothing afterwards; Sync is ignored.
func (m *Manager) Stop() {
	m.mu.Lock()
	m.stopped = true
	for key, w := range m.workers {
		m.retireLocked(key, w)
	}
	m.mu.Unlock()
	m.cancel()
	m.wg.Wait()
}

// record stores a worker's result unless the worker was retired meanwhile.
func (m *Manager) record(w *worker, r Result, at time.Time) (prev, cur Status, current bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.workers[w.key] != w {
		return Status{}, Status{}, false
	}
	prev = m.results[w.id]
	cur = prev.next(r, at, int(w.probe.SuccessThreshold), int(w.probe.FailureThreshold))
	m.results[w.id] = cur
	return prev, cur, true
}

// probeEqual compares probe specs; a nil and an empty list are the same.
func probeEqual(a, b *v1.Probe) bool {
	if a == nil || b == nil {
		return a == b
	}
	return reflect.DeepEqual(normalised(a), normalised(b))
}

func normalised(p *v1.Probe) *v1.Probe {
	c := p.DeepCopy()
	if c.Exec != nil && len(c.Exec.Command) == 0 {
		c.Exec.Command = nil
	}
	return c
}
