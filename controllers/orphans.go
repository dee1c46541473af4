package controllers

import (
	"context"
	"fmt"
	"time"

	"berth.dev/berth/apis/v1alpha1"
	"berth.dev/berth/controllers/plan"
	"berth.dev/berth/internal/docker"
)

// enqueueOrphans queues every Environment name that owns Docker objects
// but has no Environment object: a crash between create and store, a wiped
// store, a delete whose teardown never ran. Their reconcile finds no
// Environment and collects them. It runs at start-up and on every resync.
func (c *Controller) enqueueOrphans(context.Context) {
	for _, name := range c.cache.Environments() {
		if name == "" {
			continue
		}
		if _, err := c.lister.Get(name); err != nil {
			c.enqueue(name)
		}
	}
}

// orphanNetworkRetry is how soon the collector tries again a network the
// daemon refused to remove for active endpoints: stale ones clear only
// with a daemon restart, so neither the queue's fast backoff nor an error
// per attempt helps anyone.
const orphanNetworkRetry = time.Minute

// collectOrphans tears down, gracefully and in order (containers, then
// networks, then volumes), every object of this manager whose Environment
// does not exist. Objects of other managers and unlabelled objects are
// never part of the plan, and the Docker layer refuses them anyway. A
// network the daemon will not remove for active endpoints (left by a
// teardown that finished without it) is tried again every
// orphanNetworkRetry, until the daemon lets it go.
func (c *Controller) collectOrphans(ctx context.Context) (Result, error) {
	// One collector at a time: two workers collecting the same objects
	// would only race each other to "not found".
	c.orphanMu.Lock()
	defer c.orphanMu.Unlock()

	envs, err := c.lister.List(everything)
	if err != nil {
		return Result{}, fmt.Errorf("list environments: %w", err)
	}
	existing := make(map[string]bool, len(envs))
	for _, e := range envs {
		existing[e.Name] = true
	}
	p := plan.Orphans(inventory(c.cache.All()), existing, c.opts.Plan)
	if p.Empty() {
		return Result{}, nil
	}
	c.log.Info("collecting orphans", "ops", len(p.Ops))
	// Orphans have no Environment object; the executor only needs a name
	// to log with.
	placeholder := &v1alpha1.Environment{}
	placeholder.Name = "(orphans)"
	_, err = c.execute(ctx, placeholder, p)
	if docker.IsActiveEndpoints(err) {
		c.log.Info("an orphan network is still refused for active endpoints (stale endpoints clear with a Docker daemon restart); trying again later",
			"retry", orphanNetworkRetry.String(), "error", err.Error())
		return Result{RequeueAfter: orphanNetworkRetry}, nil
	}
	return Result{}, err
}
