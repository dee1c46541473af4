package dashboard

import (
	"testing"

	"berth.dev/berth/apis/v1alpha1"
)

// TestReservedByReadsStatus: the engine page's reserved memory is what the
// controller recorded in the service's status, not a rebuilt config.
func TestReservedByReadsStatus(t *testing.T) {
	services := []v1alpha1.ServiceStatus{
		{Name: "db", MemoryLimitBytes: 512 << 20, MemoryRequestBytes: 256 << 20},
		{Name: "web", MemoryLimitBytes: 64 << 20},
	}
	if l, r := reservedBy(services, "db"); l != 512<<20 || r != 256<<20 {
		t.Errorf("db: %d/%d", l, r)
	}
	if l, r := reservedBy(services, "web"); l != 64<<20 || r != 0 {
		t.Errorf("web: %d/%d", l, r)
	}
	if l, r := reservedBy(services, "gone"); l != 0 || r != 0 {
		t.Errorf("a service the status lacks reserves %d/%d", l, r)
	}
}
