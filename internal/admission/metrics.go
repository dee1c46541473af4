package admission

import (
	"fmt"

	"github.com/prometheus/client_golang/prometheus"
)

// RegisterMetrics exports the ledger's figures, read at scrape time: the
// budget, the requests admitted against it, the daemon's memory use and
// total, and the queue's length.
func RegisterMetrics(reg prometheus.Registerer, l *Ledger) error {
	gauge := func(name, help string, f func(Snapshot) float64) prometheus.Collector {
		return prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: name, Help: help}, func() float64 { return f(l.Snapshot()) })
	}
	for _, c := range []prometheus.Collector{
		gauge("berth_memory_budget_bytes", "The manager's memory budget for admitting Environments (--memory-budget); 0 is unlimited.",
			func(s Snapshot) float64 { return float64(s.Budget) }),
		gauge("berth_memory_admitted_bytes", "Memory requests of the admitted Environments.",
			func(s Snapshot) float64 { return float64(s.Admitted) }),
		gauge("berth_memory_used_bytes", "The Docker daemon's memory in use, as last sampled.",
			func(s Snapshot) float64 { return float64(s.Used) }),
		gauge("berth_memory_total_bytes", "The Docker daemon's total memory, as last sampled; 0 when unknown.",
			func(s Snapshot) float64 { return float64(s.Total) }),
		gauge("berth_memory_pressure_ratio", "The fraction of total memory in use above which nothing new is admitted (--memory-pressure).",
			func(s Snapshot) float64 { return s.Pressure }),
		gauge("berth_admission_queue_length", "Environments waiting in phase Queued for room in the memory budget.",
			func(s Snapshot) float64 { return float64(s.QueueLength) }),
	} {
		if err := reg.Register(c); err != nil {
			return fmt.Errorf("register admission metrics: %w", err)
		}
	}
	return nil
}
