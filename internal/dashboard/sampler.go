package dashboard

import (
	"context"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
)

// sample is one reading of the cumulative governor and workqueue figures,
// taken in-process from the metrics registry: the charts are differences
// between consecutive samples, so they show exactly what /metrics would.
type sample struct {
	at time.Time

	calls     map[string]float64 // Docker call attempts by operation (all results)
	errors    float64            // attempts that failed for a reason other than not found or cancel
	retries   float64
	latency   histogram // Docker call latency, every operation
	opLatency map[string]histogram
	waitSum   float64 // seconds calls spent queued at the governor
	waitCount float64
	inFlight  float64 // writes + reads in flight
	limit     float64

	queueDepth   float64
	queueAdds    float64
	queueRetries float64
	longest      float64 // seconds the longest running reconcile has run
	reconciles   map[string]float64

	admission admissionFigures
	role      roleView
}

// roleView is the manager's role from berth_manager_leader: leader or
// standby (--leader-elect), with its identity and host.
type roleView struct {
	Known          bool
	Leader         bool
	Identity, Host string
}

// admissionFigures are the memory admission gauges (berth_memory_*,
// berth_admission_queue_length); Known is false until the controller
// registered them (it resolves the budget first).
type admissionFigures struct {
	Known                         bool
	Budget, Admitted, Used, Total float64
	Pressure                      float64
	Queue                         float64
}

// histogram is a cumulative Prometheus histogram: counts[i] observations
// were at most bounds[i]; count includes those above the last bound.
type histogram struct {
	bounds []float64
	counts []float64
	count  float64
}

func (h *histogram) add(m *dto.Histogram) {
	if len(h.bounds) == 0 {
		for _, b := range m.GetBucket() {
			h.bounds = append(h.bounds, b.GetUpperBound())
		}
		h.counts = make([]float64, len(h.bounds))
	}
	for i, b := range m.GetBucket() {
		if i < len(h.counts) && b.GetUpperBound() == h.bounds[i] {
			h.counts[i] += float64(b.GetCumulativeCount())
		}
	}
	h.count += float64(m.GetSampleCount())
}

// sub is the histogram of the observations made between old and h.
func (h histogram) sub(old histogram) histogram {
	out := histogram{bounds: h.bounds, counts: make([]float64, len(h.counts)), count: h.count - old.count}
	for i := range h.counts {
		out.counts[i] = h.counts[i]
		if i < len(old.counts) {
			out.counts[i] -= old.counts[i]
		}
	}
	return out
}

// sampler reads the registry every interval and keeps the last few
// minutes. Open Engine pages wait on its broadcast channel.
type sampler struct {
	g    prometheus.Gatherer
	keep int

	mu      sync.Mutex
	samples []sample
	tick    chan struct{} // closed and replaced after every sample
}

func newSampler(g prometheus.Gatherer, keep int) *sampler {
	return &sampler{g: g, keep: keep + 1, tick: make(chan struct{})}
}

func (s *sampler) run(ctx context.Context, every time.Duration) {
	t := time.NewTicker(every)
	defer t.Stop()
	s.take(time.Now())
	for {
		select {
		case <-ctx.Done():
			return
		case now := <-t.C:
			s.take(now)
		}
	}
}

func (s *sampler) take(now time.Time) {
	mfs, err := s.g.Gather()
	if err != nil && len(mfs) == 0 {
		return
	}
	sm := readSample(mfs)
	sm.at = now
	s.mu.Lock()
	s.samples = append(s.samples, sm)
	if len(s.samples) > s.keep {
		s.samples = append(s.samples[:0], s.samples[len(s.samples)-s.keep:]...)
	}
	close(s.tick)
	s.tick = make(chan struct{})
	s.mu.Unlock()
}

// snapshot returns the samples so far and the channel the next one closes.
func (s *sampler) snapshot() ([]sample, <-chan struct{}) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]sample(nil), s.samples...), s.tick
}

// readSample picks the families the Engine page charts.
func readSample(mfs []*dto.MetricFamily) sample {
	sm := sample{calls: map[string]float64{}, opLatency: map[string]histogram{}, reconciles: map[string]float64{}}
	for _, mf := range mfs {
		for _, m := range mf.GetMetric() {
			switch mf.GetName() {
			case "berth_docker_calls_total":
				v := m.GetCounter().GetValue()
				sm.calls[label(m, "operation")] += v
				switch label(m, "result") {
				case "ok", "not_found", "canceled":
				default:
					sm.errors += v
				}
			case "berth_docker_retries_total":
				sm.retries += m.GetCounter().GetValue()
			case "berth_docker_call_duration_seconds":
				sm.latency.add(m.GetHistogram())
				op := label(m, "operation")
				h := sm.opLatency[op]
				h.add(m.GetHistogram())
				sm.opLatency[op] = h
			case "berth_docker_limiter_wait_seconds":
				sm.waitSum += m.GetHistogram().GetSampleSum()
				sm.waitCount += float64(m.GetHistogram().GetSampleCount())
			case "berth_docker_in_flight":
				if l := label(m, "lane"); l == "write" || l == "read" {
					sm.inFlight += m.GetGauge().GetValue()
				}
			case "berth_docker_concurrency_limit":
				sm.limit = m.GetGauge().GetValue()
			case "workqueue_depth":
				sm.queueDepth += m.GetGauge().GetValue()
			case "workqueue_adds_total":
				sm.queueAdds += m.GetCounter().GetValue()
			case "workqueue_retries_total":
				sm.queueRetries += m.GetCounter().GetValue()
			case "workqueue_longest_running_processor_seconds":
				sm.longest = max(sm.longest, m.GetGauge().GetValue())
			case "berth_reconcile_total":
				sm.reconciles[label(m, "result")] += m.GetCounter().GetValue()
			case "berth_memory_budget_bytes":
				sm.admission.Known, sm.admission.Budget = true, m.GetGauge().GetValue()
			case "berth_memory_admitted_bytes":
				sm.admission.Admitted = m.GetGauge().GetValue()
			case "berth_memory_used_bytes":
				sm.admission.Used = m.GetGauge().GetValue()
			case "berth_memory_total_bytes":
				sm.admission.Total = m.GetGauge().GetValue()
			case "berth_memory_pressure_ratio":
				sm.admission.Pressure = m.GetGauge().GetValue()
			case "berth_manager_leader":
				sm.role = roleView{Known: true, Leader: m.GetGauge().GetValue() == 1, Identity: label(m, "identity"), Host: label(m, "host")}
			case "berth_admission_queue_length":
				sm.admission.Queue = m.GetGauge().GetValue()
			}
		}
	}
	return sm
}

func label(m *dto.Metric, name string) string {
	for _, l := range m.GetLabel() {
		if l.GetName() == name {
			return l.GetValue()
		}
	}
	return ""
}
