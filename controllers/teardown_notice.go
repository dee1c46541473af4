package controllers

import (
	"context"
	"time"

	"berth.dev/berth/apis/v1alpha1"
)

// terminatingNotice is how long a teardown runs before its status is
// written as Terminating. Tables and the dashboard show Terminating from
// the deletion timestamp at once; the status write is for a teardown that
// waits out a grace period, which then reads Terminating, with the Ready
// condition saying why, for as long as it takes. Stopping a container that
// exits on SIGTERM and removing it takes well under a second, but 100
// Environments deleted at once share the governor's slots, and each one's
// teardown then takes a few seconds (about 4 s at 100 × 5 here): 5 s keeps
// the write off all of those.
const terminatingNotice = 5 * time.Second

// teardownNotice is the Terminating status write of one teardown pass,
// made only if the pass is still running after terminatingNotice.
type teardownNotice struct {
	cancel context.CancelFunc
	done   chan struct{}
	env    *v1alpha1.Environment // the latest copy: the write's result, if it was made
}

// announceTeardown writes status (the teardown's Terminating status) once
// terminatingNotice has passed, unless stop is called first.
func (c *Controller) announceTeardown(ctx context.Context, env *v1alpha1.Environment, status v1alpha1.EnvironmentStatus) *teardownNotice {
	wait, cancel := context.WithCancel(ctx)
	n := &teardownNotice{cancel: cancel, done: make(chan struct{}), env: env}
	if env.Status.Phase == v1alpha1.PhaseTerminating {
		// A later pass of a teardown already announced: the status
		// after its ops says how it went.
		close(n.done)
		return n
	}
	go func() {
		defer close(n.done)
		timer := time.NewTimer(terminatingNotice)
		defer timer.Stop()
		select {
		case <-wait.Done():
			return
		case <-timer.C:
		}
		// ctx, not wait: a write under way is finished, not cut off,
		// when the ops end meanwhile.
		latest, err := c.writeStatusLatest(ctx, env, status, nil)
		if err != nil {
			// The teardown goes on; its next write says where it is.
			c.log.Error(err, "write Terminating status", "environment", env.Name)
			return
		}
		if latest != nil {
			n.env = latest
		}
	}()
	return n
}

// stop cancels the write if it has not started and waits for one that
// has; it returns the latest copy of the Environment.
func (n *teardownNotice) stop() *v1alpha1.Environment {
	n.cancel()
	<-n.done
	return n.env
}
