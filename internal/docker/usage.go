package docker

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/moby/moby/api/types/container"
	"github.com/moby/moby/client"

	"berth.dev/berth/internal/governor"
)

// ResourceUsage is one sample of a container's resource use.
type ResourceUsage struct {
	// MemoryUsage is the working set in bytes (page cache excluded, as
	// docker stats shows it); MemoryLimit is the cgroup limit.
	MemoryUsage int64
	MemoryLimit int64
	// CPUTotal is the container's CPU time so far; two samples give a rate.
	CPUTotal time.Duration
	Read     time.Time
}

// Usage takes one stats sample of a running container (stream=false,
// one-shot, a read). A container without this manager's identity is
// refused (ErrNotOwned).
func (c *Client) Usage(ctx context.Context, containerID string) (ResourceUsage, error) {
	var out ResourceUsage
	id, err := c.ownedContainer(ctx, "container_stats", containerID)
	if err != nil {
		return out, fmt.Errorf("stats of %s: %w", shortID(containerID), err)
	}
	containerID = id
	err = c.gov.Do(ctx, governor.Call{Op: "container_stats", Lane: governor.LaneRead, Object: containerID, Idempotent: true}, func(ctx context.Context, _ int) error {
		r, err := c.api.ContainerStats(ctx, containerID, client.ContainerStatsOptions{Stream: false})
		if err != nil {
			return err
		}
		defer r.Body.Close()
		var s container.StatsResponse
		if err := json.NewDecoder(r.Body).Decode(&s); err != nil {
			return fmt.Errorf("decode stats: %w", err)
		}
		m := s.MemoryStats
		usage := m.Usage
		// cgroup v2 reports inactive_file, v1 total_inactive_file; both
		// are reclaimable cache, not the container's own memory.
		for _, k := range []string{"inactive_file", "total_inactive_file"} {
			if v, ok := m.Stats[k]; ok && v < usage {
				usage -= v
				break
			}
		}
		out = ResourceUsage{MemoryUsage: int64(usage), MemoryLimit: int64(m.Limit), CPUTotal: time.Duration(s.CPUStats.CPUUsage.TotalUsage), Read: s.Read}
		return nil
	})
	if err != nil {
		return out, fmt.Errorf("stats of %s: %w", shortID(containerID), err)
	}
	return out, nil
}
