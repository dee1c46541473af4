package plan

import (
	"testing"
	"time"
)

// TestStatusRecordsMemory: a service with a container reports the memory
// limit and reservation its container was given, so the dashboard reads
// them from status; a service without a container reports none.
func TestStatusRecordsMemory(t *testing.T) {
	env := demoEnv()
	st := status(t, env, converged(t, env), t0.Add(500*time.Millisecond))
	if api := svcStatus(st, "api"); api.MemoryLimitBytes != 64<<20 || api.MemoryRequestBytes != 32<<20 {
		t.Errorf("api memory %d/%d, want the spec's 64Mi limit and 32Mi request", api.MemoryLimitBytes, api.MemoryRequestBytes)
	}
	none := status(t, env, Observed{}, t0)
	if api := svcStatus(none, "api"); api.MemoryLimitBytes != 0 || api.MemoryRequestBytes != 0 {
		t.Errorf("api without a container reports memory %d/%d", api.MemoryLimitBytes, api.MemoryRequestBytes)
	}
}
