package probe

import (
	"errors"
	"fmt"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// metrics are the berth_probe_* collectors.
type metrics struct {
	total    *prometheus.CounterVec
	duration *prometheus.HistogramVec
}

func newMetrics(reg prometheus.Registerer) (*metrics, error) {
	m := &metrics{
		total: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "berth_probe_total",
			Help: "Readiness probes run, by probe type (exec, http, tcp) and result (success, failure).",
		}, []string{"type", "result"}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "berth_probe_duration_seconds",
			Help:    "Time one readiness probe took, by probe type.",
			Buckets: []float64{.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30},
		}, []string{"type"}),
	}
	if reg == nil {
		return m, nil
	}
	var done []prometheus.Collector
	for _, c := range []prometheus.Collector{m.total, m.duration} {
		if err := reg.Register(c); err != nil {
			for _, d := range done {
				reg.Unregister(d)
			}
			var are prometheus.AlreadyRegisteredError
			if errors.As(err, &are) {
				return nil, fmt.Errorf("register probe metrics: another probe manager uses this registry: %w", err)
			}
			return nil, fmt.Errorf("register probe metrics: %w", err)
		}
		done = append(done, c)
	}
	return m, nil
}

func (m *metrics) observe(probeType string, success bool, d time.Duration) {
	result := "failure"
	if success {
		result = "success"
	}
	m.total.WithLabelValues(probeType, result).Inc()
	m.duration.WithLabelValues(probeType).Observe(d.Seconds())
}
