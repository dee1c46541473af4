package controllers

import (
	"context"
	"fmt"

	"berth.dev/berth/apis/v1alpha1"
	"berth.dev/berth/controllers/plan"
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

// collectOrphans tears down, gracefully and in order (containers, then
// networks, then volumes), every object of this manager whose Environment
// does not exist. Objects of other managers and unlabelled objects are
// never part of the plan, and the Docker layer refuses them anyway.
func (c *Controller) collectOrphans(ctx context.Context) error {
	// One collector at a time: two workers collecting the same objects
	// would only race each other to "not found".
	c.orphanMu.Lock()
	defer c.orphanMu.Unlock()

	envs, err := c.lister.List(everything)
	if err != nil {
		return fmt.Errorf("list environments: %w", err)
	}
	existing := make(map[string]bool, len(envs))
	for _, e := range envs {
		existing[e.Name] = true
	}
	p := plan.Orphans(inventory(c.cache.All()), existing, c.opts.Plan)
	if p.Empty() {
		return nil
	}
	c.log.Info("collecting orphans", "ops", len(p.Ops))
	// Orphans have no Environment object; the executor only needs a name
	// to log with.
	placeholder := &v1alpha1.Environment{}
	placeholder.Name = "(orphans)"
	_, err = c.execute(ctx, placeholder, p)
	return err
}
