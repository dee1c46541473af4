package docker

import (
	"context"
	"testing"
	"time"

	"berth.dev/berth/internal/governor"
)

func TestDiskUsageCountsTheTestImage(t *testing.T) {
	needDocker(t)
	c := newTestClient(t, dockerHost, governor.ProfileCI)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	d, err := c.DiskUsage(ctx)
	if err != nil {
		t.Fatal(err)
	}
	// berth-testapp:dev is present for every Docker test, so images take
	// some space; the total is the sum of its parts.
	if d.Images <= 0 {
		t.Errorf("images use %d bytes, want > 0 with the test image present", d.Images)
	}
	if d.Total() != d.Images+d.Containers+d.Volumes+d.BuildCache {
		t.Errorf("total %d is not the sum of %+v", d.Total(), d)
	}
}
