package manager

import (
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
)

// TestRegistriesKeepRuntimeOutOfTheSampler: the registry the dashboard
// samples every 2 s holds none of the Go runtime and process families
// (gathering them reads /proc and the runtime's metrics on every sample);
// /metrics still serves them next to berth's own.
func TestRegistriesKeepRuntimeOutOfTheSampler(t *testing.T) {
	berth, all := newRegistries()
	if err := registerManagerInfo(berth, "docker-1", "berth-abc"); err != nil {
		t.Fatal(err)
	}
	names := func(g prometheus.Gatherer) map[string]bool {
		t.Helper()
		mfs, err := g.Gather()
		if err != nil {
			t.Fatal(err)
		}
		out := map[string]bool{}
		for _, mf := range mfs {
			out[mf.GetName()] = true
		}
		return out
	}
	for n := range names(berth) {
		if strings.HasPrefix(n, "go_") || strings.HasPrefix(n, "process_") {
			t.Errorf("the dashboard's registry gathers the runtime family %s", n)
		}
	}
	served := names(all)
	for _, n := range []string{"berth_manager_info", "go_goroutines", "go_memstats_heap_alloc_bytes", "process_cpu_seconds_total", "process_resident_memory_bytes"} {
		if !served[n] {
			t.Errorf("/metrics does not serve %s", n)
		}
	}
}
