package dashboard

import (
	"cmp"
	"context"
	"html/template"
	"math"
	"slices"
	"sync"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"

	"berth.dev/berth/apis/v1alpha1"
	"berth.dev/berth/internal/docker"
	"berth.dev/berth/internal/governor"
	"berth.dev/berth/internal/informer"
)

// engineLive is the part of the Engine page that every sample refreshes.
type engineLive struct {
	Charts   []template.HTML
	Ops      []opRow
	Governor governor.Stats
	Informer informer.Stats
	Sampled  time.Time
	// Admission is the memory budget, what is admitted against it, the
	// daemon's memory use and the queue, as last sampled.
	Admission admissionView
	// Role is the manager's role (leader or standby), as last sampled.
	Role roleView
}

// admissionView is the Engine page's admission panel, in bytes.
type admissionView struct {
	Known                         bool
	Budget, Admitted, Used, Total int64
	Queue                         int
	AdmittedPct, UsedPct          float64
	PressurePct                   float64 // 0: the check is off
	UnderPressure                 bool
}

func newAdmissionView(f admissionFigures) admissionView {
	v := admissionView{
		Known: f.Known, Budget: int64(f.Budget), Admitted: int64(f.Admitted), Used: int64(f.Used), Total: int64(f.Total),
		Queue: int(f.Queue), PressurePct: f.Pressure * 100,
	}
	v.AdmittedPct, v.UsedPct = percent(v.Admitted, v.Budget), percent(v.Used, v.Total)
	v.UnderPressure = v.PressurePct > 0 && v.Total > 0 && v.UsedPct > v.PressurePct
	return v
}

// opRow is one Docker operation in the Engine page's table.
type opRow struct {
	Op        string
	Rate      float64 // calls/s over the last few samples
	Calls     float64
	P50, P99  float64 // milliseconds, since start
	HasLatent bool
}

// Windows, in samples: quantiles over ~10 s, the busiest operations over
// ~30 s.
const (
	quantileWindow = 5
	topWindow      = 15
)

func (s *Server) engineLive() engineLive {
	ss, _ := s.sampler.snapshot()
	return buildEngineLive(ss, s.opts.History, s.opts.Docker.Stats(), s.opts.Cache.Stats())
}

func buildEngineLive(ss []sample, slots int, gov governor.Stats, inf informer.Stats) engineLive {
	live := engineLive{Governor: gov, Informer: inf}
	if len(ss) > 0 {
		live.Sampled = ss[len(ss)-1].at
		live.Admission = newAdmissionView(ss[len(ss)-1].admission)
		live.Role = ss[len(ss)-1].role
	}
	calls := []series{{Name: "all", Points: rate(ss, func(s sample) float64 { return sum(s.calls) })}}
	for _, op := range topOps(ss, topWindow, 3) {
		calls = append(calls, series{Name: op, Points: rate(ss, func(s sample) float64 { return s.calls[op] })})
	}
	charts := []chart{
		{Title: "Docker calls/s", Series: calls},
		{Title: "In flight vs limit", Series: []series{
			{Name: "in flight", Points: gauge(ss, func(s sample) float64 { return s.inFlight })},
			{Name: "limit", Points: gauge(ss, func(s sample) float64 { return s.limit }), Dashed: true},
		}},
		{Title: "Docker latency", Unit: "ms", Series: []series{
			{Name: "p50", Points: latencyQuantile(ss, 0.5, quantileWindow)},
			{Name: "p99", Points: latencyQuantile(ss, 0.99, quantileWindow)},
		}},
		{Title: "Retries and errors /s", Series: []series{
			{Name: "retries", Points: rate(ss, func(s sample) float64 { return s.retries })},
			{Name: "errors", Points: rate(ss, func(s sample) float64 { return s.errors })},
		}},
		{Title: "Throttle wait per call", Unit: "ms", Series: []series{{Name: "mean", Points: meanWait(ss)}}},
		{Title: "Memory", Unit: "GiB", Series: []series{
			{Name: "used", Points: gauge(ss, func(s sample) float64 { return s.admission.Used / (1 << 30) })},
			{Name: "admitted", Points: gauge(ss, func(s sample) float64 { return s.admission.Admitted / (1 << 30) })},
			{Name: "budget", Points: gauge(ss, func(s sample) float64 { return s.admission.Budget / (1 << 30) }), Dashed: true},
		}},
		{Title: "Admission queue", Series: []series{{Name: "queued", Points: gauge(ss, func(s sample) float64 { return s.admission.Queue })}}},
		{Title: "Workqueue depth", Series: []series{{Name: "depth", Points: gauge(ss, func(s sample) float64 { return s.queueDepth })}}},
		{Title: "Workqueue adds and retries /s", Series: []series{
			{Name: "adds", Points: rate(ss, func(s sample) float64 { return s.queueAdds })},
			{Name: "retries", Points: rate(ss, func(s sample) float64 { return s.queueRetries })},
		}},
		{Title: "Longest running reconcile", Unit: "s", Series: []series{{Name: "now", Points: gauge(ss, func(s sample) float64 { return s.longest })}}},
		{Title: "Reconciles/s", Series: []series{
			{Name: "success", Points: rate(ss, func(s sample) float64 { return s.reconciles["success"] })},
			{Name: "requeue", Points: rate(ss, func(s sample) float64 { return s.reconciles["requeue"] })},
			{Name: "error", Points: rate(ss, func(s sample) float64 { return s.reconciles["error"] })},
		}},
	}
	for _, c := range charts {
		c.Slots = slots
		live.Charts = append(live.Charts, c.svg())
	}
	live.Ops = opRows(ss)
	return live
}

func opRows(ss []sample) []opRow {
	if len(ss) == 0 {
		return nil
	}
	last, first := ss[len(ss)-1], ss[max(0, len(ss)-1-quantileWindow)]
	dt := last.at.Sub(first.at).Seconds()
	var rows []opRow
	for op, n := range last.calls {
		r := opRow{Op: op, Calls: n}
		if dt > 0 {
			r.Rate = max(n-first.calls[op], 0) / dt
		}
		if h, ok := last.opLatency[op]; ok && h.count > 0 {
			r.P50, r.P99, r.HasLatent = quantile(0.5, h)*1000, quantile(0.99, h)*1000, true
		}
		rows = append(rows, r)
	}
	slices.SortFunc(rows, func(a, b opRow) int { return cmp.Or(cmp.Compare(b.Calls, a.Calls), cmp.Compare(a.Op, b.Op)) })
	return rows
}

// infoCache keeps the daemon's info for a few seconds, so reloading the
// Engine page does not turn into a stream of Docker reads. Disk use is kept
// longer: the daemon sizes every layer to answer it.
type infoCache struct {
	docker  Docker
	ttl     time.Duration
	diskTTL time.Duration

	mu   sync.Mutex
	at   time.Time
	info docker.DaemonInfo
	err  error

	diskAt  time.Time
	disk    docker.DiskUsage
	diskErr error
}

func (c *infoCache) diskUsage(ctx context.Context) (docker.DiskUsage, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if !c.diskAt.IsZero() && time.Since(c.diskAt) < c.diskTTL {
		return c.disk, c.diskErr
	}
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	c.disk, c.diskErr = c.docker.DiskUsage(ctx)
	c.diskAt = time.Now()
	return c.disk, c.diskErr
}

func (c *infoCache) get(ctx context.Context) (docker.DaemonInfo, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if !c.at.IsZero() && time.Since(c.at) < c.ttl {
		return c.info, c.err
	}
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	c.info, c.err = c.docker.Info(ctx)
	c.at = time.Now()
	return c.info, c.err
}

// reservation is the memory berth's running containers may use, by their
// limits (hard) and reservations (soft), from the specs that made them.
type reservation struct {
	Containers int
	Limit      int64
	Requested  int64
	Unknown    int // running containers whose Environment is gone (orphans)
}

// reserved sums the memory limits and reservations of the running
// containers, as the controller recorded them in each service's status.
func (s *Server) reserved() reservation {
	var r reservation
	for _, c := range s.opts.Cache.All().Containers {
		if !c.Running() {
			continue
		}
		r.Containers++
		env, err := s.lister.Get(c.Environment)
		if err != nil {
			if apierrors.IsNotFound(err) {
				r.Unknown++
			}
			continue
		}
		limit, requested := reservedBy(env.Status.Services, c.Service)
		r.Limit += limit
		r.Requested += requested
	}
	return r
}

// reservedBy is the memory limit and reservation the status records for
// service; zeros when it records none (not reconciled yet).
func reservedBy(services []v1alpha1.ServiceStatus, service string) (limit, requested int64) {
	for _, st := range services {
		if st.Name == service {
			return st.MemoryLimitBytes, st.MemoryRequestBytes
		}
	}
	return 0, 0
}

// percent is part of whole in percent, for bars; 0 when whole is unknown.
func percent(part, whole int64) float64 {
	if whole <= 0 {
		return 0
	}
	return math.Min(100, float64(part)*100/float64(whole))
}
