package governor

import (
	"fmt"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// Stats is a snapshot of the governor for the dashboard and tests. Calls
// count attempts (a retried call counts once per attempt), as the daemon
// sees them.
type Stats struct {
	Profile  Profile
	Limit    int     // current shared concurrency limit
	MaxLimit int     // hard cap (adaptive) or the fixed limit
	QPS      float64 // call starts per second allowed; 0 = unlimited

	InFlight       int // writes + reads in flight now
	InFlightWrites int
	InFlightReads  int
	InFlightLong   int // container stops
	OpenStreams    int // events, logs, waits, pulls
	PeakInFlight   int // high-water mark of writes + reads
	Waiting        int // calls queued at the gate now

	Calls   int64 // all attempts, every lane
	Reads   int64
	Writes  int64 // writes and stops
	Streams int64
	Errors  int64 // attempts that failed, whatever the reason
	Retries int64

	LimiterWait  time.Duration // total time calls spent queued at the gate
	LimitChanges int64         // AIMD moves

	// EventStreamDrops counts event streams that ended without being asked
	// to; DaemonOutages counts transitions from reachable to unreachable. A
	// daemon restart shows as both.
	EventStreamDrops int64
	DaemonOutages    int64
	LastOutage       time.Time

	ByOp map[string]OpStats
}

// OpStats is one operation's share of Stats.
type OpStats struct {
	Calls   int64
	Errors  int64
	Retries int64
	Latency time.Duration // total over all attempts
	Results map[string]int64
}

// stats holds the Prometheus collectors and the counters behind Stats.
type stats struct {
	calls       *prometheus.CounterVec
	inflight    *prometheus.GaugeVec
	limit       prometheus.Gauge
	latency     *prometheus.HistogramVec
	retries     *prometheus.CounterVec
	wait        *prometheus.HistogramVec
	limitMoves  *prometheus.CounterVec
	streamDrops prometheus.Counter
	outages     prometheus.Counter

	mu          sync.Mutex
	byOp        map[string]*OpStats
	byLane      [numLanes]int64
	errors      int64
	retryCount  int64
	waitTotal   time.Duration
	limitChange int64
	drops       int64
	outageCount int64
	lastOutage  time.Time
	unreachable bool
}

func newStats(reg prometheus.Registerer) (*stats, error) {
	s := &stats{
		calls: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "berth_docker_calls_total",
			Help: "Docker API call attempts by operation and result.",
		}, []string{"operation", "result"}),
		inflight: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "berth_docker_in_flight",
			Help: "Docker API calls in flight now, by governor lane (write, read, long, stream).",
		}, []string{"lane"}),
		limit: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "berth_docker_concurrency_limit",
			Help: "Current cap on concurrent Docker writes and reads (moves under the adaptive profile).",
		}),
		latency: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "berth_docker_call_duration_seconds",
			Help:    "Latency of Docker API call attempts by operation (time in the daemon, not queued).",
			Buckets: []float64{.002, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30},
		}, []string{"operation"}),
		retries: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "berth_docker_retries_total",
			Help: "Retries of Docker API calls after transient failures, by operation.",
		}, []string{"operation"}),
		wait: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "berth_docker_limiter_wait_seconds",
			Help:    "Time Docker API calls waited at the governor (concurrency cap and token bucket), by lane.",
			Buckets: []float64{.001, .01, .05, .1, .25, .5, 1, 2.5, 5, 10, 30},
		}, []string{"lane"}),
		limitMoves: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "berth_docker_limit_changes_total",
			Help: "Adaptive concurrency limit changes by direction (up, down).",
		}, []string{"direction"}),
		streamDrops: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "berth_docker_event_stream_drops_total",
			Help: "Docker event streams that ended unasked (daemon restart, broken connection).",
		}),
		outages: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "berth_docker_daemon_outages_total",
			Help: "Transitions of the Docker daemon from reachable to unreachable.",
		}),
		byOp: map[string]*OpStats{},
	}
	// Counters that only move on trouble still get their series at 0, so
	// /metrics and dashboards show "no retries" rather than no data.
	for _, op := range []string{"container_create", "container_start", "container_stop", "container_remove",
		"container_inspect", "network_create", "network_remove", "volume_create", "volume_remove", "image_pull"} {
		s.retries.WithLabelValues(op)
	}
	for _, dir := range []string{"up", "down"} {
		s.limitMoves.WithLabelValues(dir)
	}
	if reg != nil {
		for _, c := range []prometheus.Collector{s.calls, s.inflight, s.limit, s.latency, s.retries, s.wait, s.limitMoves, s.streamDrops, s.outages} {
			if err := reg.Register(c); err != nil {
				return nil, fmt.Errorf("register docker metrics: %w", err)
			}
		}
	}
	return s, nil
}

func (s *stats) admitted(l Lane, waited time.Duration) {
	s.wait.WithLabelValues(l.String()).Observe(waited.Seconds())
	s.inflight.WithLabelValues(l.String()).Inc()
	s.mu.Lock()
	s.waitTotal += waited
	s.byLane[l]++
	s.mu.Unlock()
}

func (s *stats) finished(l Lane, op, result string, d time.Duration, unreachable bool) {
	s.inflight.WithLabelValues(l.String()).Dec()
	s.calls.WithLabelValues(op, result).Inc()
	if l != LaneStream {
		s.latency.WithLabelValues(op).Observe(d.Seconds())
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	o := s.opLocked(op)
	o.Calls++
	o.Latency += d
	o.Results[result]++
	if result != ResultOK {
		o.Errors++
		s.errors++
	}
	switch {
	case unreachable:
		if !s.unreachable {
			s.unreachable = true
			s.outageCount++
			s.lastOutage = time.Now()
			s.outages.Inc()
		}
	case result != ResultCanceled:
		s.unreachable = false
	}
}

func (s *stats) retried(op string) {
	s.retries.WithLabelValues(op).Inc()
	s.mu.Lock()
	s.opLocked(op).Retries++
	s.retryCount++
	s.mu.Unlock()
}

func (s *stats) limitChanged(limit int, up bool) {
	s.limit.Set(float64(limit))
	dir := "down"
	if up {
		dir = "up"
	}
	s.limitMoves.WithLabelValues(dir).Inc()
	s.mu.Lock()
	s.limitChange++
	s.mu.Unlock()
}

func (s *stats) streamDropped() {
	s.streamDrops.Inc()
	s.mu.Lock()
	s.drops++
	s.mu.Unlock()
}

func (s *stats) opLocked(op string) *OpStats {
	o := s.byOp[op]
	if o == nil {
		o = &OpStats{Results: map[string]int64{}}
		s.byOp[op] = o
	}
	return o
}

func (s *stats) fill(st *Stats) {
	s.mu.Lock()
	defer s.mu.Unlock()
	st.Reads = s.byLane[LaneRead]
	st.Writes = s.byLane[LaneWrite] + s.byLane[LaneLong] + s.byLane[LaneBackground]
	st.Streams = s.byLane[LaneStream]
	st.Calls = st.Reads + st.Writes + st.Streams
	st.Errors = s.errors
	st.Retries = s.retryCount
	st.LimiterWait = s.waitTotal
	st.LimitChanges = s.limitChange
	st.EventStreamDrops = s.drops
	st.DaemonOutages = s.outageCount
	st.LastOutage = s.lastOutage
	st.ByOp = make(map[string]OpStats, len(s.byOp))
	for k, v := range s.byOp {
		c := *v
		c.Results = make(map[string]int64, len(v.Results))
		for r, n := range v.Results {
			c.Results[r] = n
		}
		st.ByOp[k] = c
	}
}
