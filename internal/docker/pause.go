package docker

import (
	"context"
	"fmt"

	"github.com/moby/moby/client"

	"berth.dev/berth/internal/governor"
)

// PauseContainer freezes a running container (`docker pause`): its
// processes keep their memory but get no CPU. A pool's standbys wait this
// way. Pausing a container that is already paused is success.
func (c *Client) PauseContainer(ctx context.Context, id string) error {
	cl := governor.Call{Op: "container_pause", Lane: governor.LaneWrite, Object: id, Idempotent: true}
	err := c.gov.Do(ctx, cl, func(ctx context.Context, _ int) error {
		_, err := c.api.ContainerPause(ctx, id, client.ContainerPauseOptions{})
		return err
	})
	if err != nil && !(IsConflict(err) && c.isPaused(ctx, id)) {
		return fmt.Errorf("pause container %s: %w", shortID(id), err)
	}
	return nil
}

// UnpauseContainer thaws a paused container. Unpausing one that is not
// paused (already thawed by an earlier attempt) is success.
func (c *Client) UnpauseContainer(ctx context.Context, id string) error {
	if err := c.unpause(ctx, id); err != nil && !(IsConflict(err) && !c.isPaused(ctx, id)) {
		return fmt.Errorf("unpause container %s: %w", shortID(id), err)
	}
	return nil
}

func (c *Client) isPaused(ctx context.Context, id string) bool {
	cur, err := c.inspectContainer(ctx, id)
	return err == nil && cur.State == "paused"
}
