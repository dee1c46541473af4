package docker

import (
	"context"

	"github.com/moby/moby/client"

	"berth.dev/berth/internal/governor"
)

// DiskUsage is the daemon's disk use by kind, in bytes (`docker system df`).
type DiskUsage struct {
	Images     int64
	Containers int64 // writable layers
	Volumes    int64
	BuildCache int64
}

// Total is the sum of every kind.
func (d DiskUsage) Total() int64 { return d.Images + d.Containers + d.Volumes + d.BuildCache }

// DiskUsage reads the daemon's disk use: one read, but one the daemon may
// take seconds to answer (it sizes every layer), so callers cache it.
func (c *Client) DiskUsage(ctx context.Context) (DiskUsage, error) {
	var d DiskUsage
	err := c.gov.Do(ctx, governor.Call{Op: "system_df", Lane: governor.LaneRead, Idempotent: true}, func(ctx context.Context, _ int) error {
		r, err := c.api.DiskUsage(ctx, client.DiskUsageOptions{Containers: true, Images: true, Volumes: true, BuildCache: true})
		if err != nil {
			return err
		}
		d = DiskUsage{
			Images:     r.Images.TotalSize,
			Containers: r.Containers.TotalSize,
			Volumes:    r.Volumes.TotalSize,
			BuildCache: r.BuildCache.TotalSize,
		}
		return nil
	})
	return d, err
}
