package docker

import (
	"context"
	"fmt"
	"slices"

	"github.com/moby/moby/api/types/network"
	"github.com/moby/moby/client"

	"berth.dev/berth/internal/governor"
)

// ConnectNetwork joins an owned container to one of its Environment's
// networks under aliases. Docker API 1.41 creates a container on a single
// network, so each further one is one connect, before the first start or
// to repair a container disconnected behind berth's back. Connect is not
// idempotent in Docker (a second one is refused), so a container already
// on the network counts as done: attached reports that, and a failed
// attempt that may have reached the daemon is checked the same way before
// any retry.
func (c *Client) ConnectNetwork(ctx context.Context, containerIDOrName, networkName string, aliases []string) (attached bool, err error) {
	ct, err := c.inspectContainer(ctx, containerIDOrName)
	if err != nil {
		return false, fmt.Errorf("connect %s to network %s: %w", containerIDOrName, networkName, err)
	}
	if !Owned(ct.Labels, c.id) {
		return false, fmt.Errorf("connect %s to network %s: %w", containerIDOrName, networkName,
			&Error{Op: "network_connect", Object: containerIDOrName, Kind: ErrNotOwned, Err: fmt.Errorf("container is not this manager's")})
	}
	n, err := c.InspectNetwork(ctx, networkName)
	if err != nil {
		return false, fmt.Errorf("connect %s to network %s: %w", ct.Name, networkName, err)
	}
	// The network must be the container's own Environment's: berth joins
	// only its own networks.
	if err := c.attributable("network_connect", "network", networkName, n.Labels, ct.Environment, ""); err != nil {
		return false, fmt.Errorf("connect %s: %w", ct.Name, err)
	}
	onNetwork := func(ct Container) bool {
		_, ok := ct.Networks[n.Name]
		return ok
	}
	if onNetwork(ct) {
		return true, nil
	}
	check := func(ctx context.Context) (bool, error) {
		now, err := c.inspectContainer(ctx, ct.ID)
		if err != nil {
			return false, err
		}
		return onNetwork(now), nil
	}
	cl := governor.Call{Op: "network_connect", Lane: governor.LaneWrite, Object: n.Name, Recover: check}
	err = c.gov.Do(ctx, cl, func(ctx context.Context, _ int) error {
		_, err := c.api.NetworkConnect(ctx, n.ID, client.NetworkConnectOptions{
			Container:      ct.ID,
			EndpointConfig: &network.EndpointSettings{Aliases: slices.Clone(aliases)},
		})
		return err
	})
	if err != nil {
		// Refused because it is on the network already (a connect the
		// cache had not seen yet): done.
		if ok, rerr := check(ctx); rerr == nil && ok {
			return true, nil
		}
		return false, fmt.Errorf("connect %s to network %s: %w", ct.Name, n.Name, err)
	}
	return false, nil
}
