package docker

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/moby/moby/api/types/container"
	"github.com/moby/moby/client"

	v1 "berth.dev/berth/apis/v1alpha1"
	"berth.dev/berth/internal/governor"
)

// Teardown never forces: a forced removal kills a container without its
// grace period and, in the seed, storms of them crashed Docker Desktop. A
// removal that fails is returned, and the caller's backoff retries it.

// stopSlack is how much longer than the grace period a stop may take
// before the attempt is abandoned: Docker's kill after the grace period and
// the container's cleanup happen inside the same call.
const stopSlack = 60 * time.Second

// StopAndRemove tears one container down the safe way: inspect, and if it
// runs, stop it with grace (its stop signal, then Docker's kill once grace
// has passed); wait until it is not running; verify; remove it without
// force, with its anonymous volumes. It refuses (ErrNotOwned) a container
// without this manager's identity, and a container that is already gone is
// success.
func (c *Client) StopAndRemove(ctx context.Context, idOrName string, grace time.Duration) error {
	return c.stopAndRemove(ctx, idOrName, grace, false)
}

// stopAndRemove is StopAndRemove; turnHeld says the caller holds the
// container's exit turn already (RemoveKnown's fallback).
func (c *Client) stopAndRemove(ctx context.Context, idOrName string, grace time.Duration, turnHeld bool) error {
	if grace < 0 {
		grace = 0
	}
	cur, err := c.inspectContainer(ctx, idOrName)
	if IsNotFound(err) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("teardown %s: %w", idOrName, err)
	}
	if err := c.checkOwned("container_remove", cur.Name, cur.Labels); err != nil {
		return err
	}
	if !turnHeld {
		release, err := c.exitTurn(ctx, cur.Name, cur.Labels)
		if err != nil {
			return err
		}
		defer release()
	}
	// From here on only the inspected ID is used: the name could be
	// reassigned to someone else's container in between.
	id := cur.ID
	for round := 0; cur.Running() || cur.State == string(container.StatePaused); round++ {
		if round >= 3 {
			return fmt.Errorf("teardown %s: still %s after %d stops", cur.Name, cur.State, round)
		}
		if cur.State == string(container.StatePaused) {
			// A frozen process cannot act on its stop signal.
			if err := c.unpause(ctx, id); err != nil && !IsConflict(err) {
				return fmt.Errorf("teardown %s: %w", cur.Name, err)
			}
		}
		if err := c.stop(ctx, id, grace); err != nil {
			if IsNotFound(err) {
				return nil
			}
			return fmt.Errorf("teardown %s: %w", cur.Name, err)
		}
		if err := c.waitNotRunning(ctx, id, grace+stopSlack); err != nil && !IsNotFound(err) {
			return fmt.Errorf("teardown %s: %w", cur.Name, err)
		}
		cur, err = c.InspectContainer(ctx, id)
		if IsNotFound(err) {
			return nil
		}
		if err != nil {
			return fmt.Errorf("teardown %s: verify stopped: %w", cur.Name, err)
		}
	}
	if err := c.remove(ctx, id); err != nil {
		return fmt.Errorf("teardown %s: %w", cur.Name, err)
	}
	return nil
}

// KnownContainer is a container as the informer's cache knows it: its ID
// (never a name: a name can pass to someone else's container), the labels
// the cache holds for that ID (labels never change for an ID) and whether
// it runs.
type KnownContainer struct {
	ID      string
	Name    string
	Labels  map[string]string
	Running bool
}

// RemoveKnown is StopAndRemove with the answers the event-fed cache
// already has: whether it exists and whether it runs. It costs Docker a
// stop (only when it runs) and a remove, instead of inspect, stop, wait,
// inspect, remove. Every step of the safe removal is still there: the
// ownership check on the cached labels; a graceful stop that returns only
// once the container has exited (signal, grace, Docker's kill), so no
// separate wait; and a remove without force, which Docker itself refuses
// with a 409 while the container runs. That refusal (the cache was behind:
// it restarted, or was paused) falls back to the inspected protocol.
func (c *Client) RemoveKnown(ctx context.Context, k KnownContainer, grace time.Duration) error {
	if k.ID == "" {
		return c.StopAndRemove(ctx, k.Name, grace)
	}
	if err := c.checkOwned("container_remove", k.Name, k.Labels); err != nil {
		return err
	}
	release, err := c.exitTurn(ctx, k.Name, k.Labels)
	if err != nil {
		return err
	}
	defer release()
	if grace < 0 {
		grace = 0
	}
	if k.Running {
		if err := c.stop(ctx, k.ID, grace); err != nil {
			if IsNotFound(err) {
				return nil
			}
			return fmt.Errorf("teardown %s: %w", k.Name, err)
		}
	}
	err = c.remove(ctx, k.ID)
	switch {
	case err == nil || IsNotFound(err):
		return nil
	case IsConflict(err):
		c.log.Info("container not removable as the cache saw it; inspecting", "container", k.Name, "error", err.Error())
		return c.stopAndRemove(ctx, k.ID, grace, true)
	}
	return fmt.Errorf("teardown %s: %w", k.Name, err)
}

// stop is Docker's stop: signal, grace, kill. It runs in the long lane, so a
// container that ignores SIGTERM holds no slot other calls need.
func (c *Client) stop(ctx context.Context, id string, grace time.Duration) error {
	secs := int((grace + time.Second - 1) / time.Second)
	cl := governor.Call{Op: "container_stop", Lane: governor.LaneLong, Object: id, Idempotent: true, Timeout: grace + stopSlack}
	return c.gov.Do(ctx, cl, func(ctx context.Context, _ int) error {
		_, err := c.api.ContainerStop(ctx, id, client.ContainerStopOptions{Timeout: &secs})
		return err
	})
}

func (c *Client) unpause(ctx context.Context, id string) error {
	cl := governor.Call{Op: "container_unpause", Lane: governor.LaneWrite, Object: id, Idempotent: true}
	return c.gov.Do(ctx, cl, func(ctx context.Context, _ int) error {
		_, err := c.api.ContainerUnpause(ctx, id, client.ContainerUnpauseOptions{})
		return err
	})
}

// waitNotRunning blocks until Docker reports the container not running.
func (c *Client) waitNotRunning(ctx context.Context, id string, limit time.Duration) error {
	ctx, cancel := context.WithTimeout(ctx, limit)
	defer cancel()
	done, err := c.gov.Stream(ctx, "container_wait", id)
	if err != nil {
		return err
	}
	res := c.api.ContainerWait(ctx, id, client.ContainerWaitOptions{Condition: container.WaitConditionNotRunning})
	select {
	case <-res.Result:
		done(nil)
		return nil
	case err := <-res.Error:
		done(err)
		_, kind := classify(ctx, err)
		return &Error{Op: "container_wait", Object: id, Kind: kind, Err: err}
	}
}

// remove deletes a stopped container and its anonymous volumes, never
// forced. A retry that finds it gone means the first attempt worked.
func (c *Client) remove(ctx context.Context, id string) error {
	cl := governor.Call{Op: "container_remove", Lane: governor.LaneWrite, Object: id, Idempotent: true}
	return c.gov.Do(ctx, cl, func(ctx context.Context, attempt int) error {
		_, err := c.api.ContainerRemove(ctx, id, client.ContainerRemoveOptions{RemoveVolumes: true})
		if attempt > 0 && err != nil && isNotFoundErr(err) {
			return nil
		}
		return err
	})
}

// checkOwned refuses to act on an object without this manager's identity.
func (c *Client) checkOwned(op, object string, labels map[string]string) error {
	if Owned(labels, c.id) {
		return nil
	}
	owner := labels[v1.LabelManagedBy]
	if owner == "" {
		owner = "nobody"
	}
	c.log.Info("refusing to touch an object berth does not own", "op", op, "object", object, "owner", owner)
	return &Error{Op: op, Object: object, Kind: ErrNotOwned, Err: fmt.Errorf("managed by %s, not this manager", owner)}
}

func isNotFoundErr(err error) bool {
	_, kind := classify(context.Background(), err)
	return errors.Is(kind, ErrNotFound)
}
