package docker

import (
	"context"
	"fmt"
	"sync"

	"github.com/moby/moby/client/pkg/versions"

	v1 "berth.dev/berth/apis/v1alpha1"
)

// endpointCountGoneAPI is the Engine API version of Docker 28.1, the first
// whose daemon lets a network go by the endpoints it has. Before it,
// libnetwork keeps a separate stored endpoint count per network and
// updates it with a read-modify-write that can lose a decrement when two
// endpoints of one network are deleted at once (a container's endpoint is
// deleted when it exits). The count then stays above zero with no
// endpoint left, and the daemon refuses the network's removal with "has
// active endpoints" until it restarts (moby/moby#43286). Measured here on
// Docker 20.10 (40 networks of 5 containers at 16 in flight, read back
// from the daemon's network store): stopping and removing the containers
// of each network together left 3 of 120 networks with a count and no
// endpoint; one at a time per network, 0 of 200.
const endpointCountGoneAPI = "1.49"

// exitTurns lets one container per Environment stop and be removed at a
// time on a daemon with a stored endpoint count: the containers of an
// Environment are the ones that share its networks, and one turn spans
// the stop and the remove, which Docker 20.10 answers only after the
// exited container's endpoints are gone. Turns are per Environment, so
// different Environments still stop in parallel, and waiting for one
// holds no governor slot.
type exitTurns struct {
	mu    sync.Mutex
	turns map[string]chan struct{}
	refs  map[string]int
}

// take waits for key's turn; release must be called once.
func (t *exitTurns) take(ctx context.Context, key string) (release func(), err error) {
	t.mu.Lock()
	if t.turns == nil {
		t.turns, t.refs = map[string]chan struct{}{}, map[string]int{}
	}
	turn := t.turns[key]
	if turn == nil {
		turn = make(chan struct{}, 1)
		t.turns[key] = turn
	}
	t.refs[key]++
	t.mu.Unlock()
	drop := func() {
		t.mu.Lock()
		if t.refs[key]--; t.refs[key] == 0 {
			delete(t.turns, key)
			delete(t.refs, key)
		}
		t.mu.Unlock()
	}
	select {
	case turn <- struct{}{}:
	case <-ctx.Done():
		drop()
		return nil, ctx.Err()
	}
	return func() {
		<-turn
		drop()
	}, nil
}

// storesEndpointCount reports whether the daemon decides a network's
// removal by a stored endpoint count (see endpointCountGoneAPI). A
// daemon whose version is not known yet is asked; one that does not
// answer is treated as one that does: the careful way only costs time.
func (c *Client) storesEndpointCount(ctx context.Context) bool {
	v, _ := c.daemonAPI.Load().(string)
	if v == "" {
		v, _ = c.Ping(ctx)
	}
	return StoresEndpointCount(v)
}

// StoresEndpointCount is whether a daemon of that API version keeps a
// stored endpoint count, so that two containers of one network must not
// exit at once; an unknown version ("") is taken to.
func StoresEndpointCount(apiVersion string) bool {
	return apiVersion == "" || versions.LessThan(apiVersion, endpointCountGoneAPI)
}

// exitTurn takes the turn of the Environment a container belongs to (by
// its labels) when the daemon needs one; the release is a no-op otherwise.
func (c *Client) exitTurn(ctx context.Context, name string, labels map[string]string) (release func(), err error) {
	env := labels[v1.LabelEnvironment]
	if env == "" || !c.storesEndpointCount(ctx) {
		return func() {}, nil
	}
	release, err = c.exits.take(ctx, env)
	if err != nil {
		return nil, fmt.Errorf("teardown %s: wait for the other containers of %s to go: %w", trimName(name), env, err)
	}
	return release, nil
}
