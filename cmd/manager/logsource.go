package main

import (
	"context"
	"fmt"
	"io"
	"time"

	"berth.dev/berth/internal/apiserver"
	"berth.dev/berth/internal/docker"
)

// dockerLogs is the API server's log source: the Docker informer's cache
// says which container runs a service, the Docker layer streams its output.
type dockerLogs struct {
	client *docker.Client
	cache  *docker.Informer
}

var _ apiserver.LogSource = dockerLogs{}

func (d dockerLogs) Logs(ctx context.Context, env, service string, opts apiserver.LogOptions, w io.Writer) error {
	c, ok := d.current(env, service)
	if !ok {
		return apiserver.ErrNoContainer
	}
	o := docker.LogOptions{Follow: opts.Follow, Since: opts.Since, Timestamps: opts.Timestamps}
	switch {
	case opts.TailLines > 0:
		o.Tail = int(opts.TailLines)
	case opts.TailLines == 0 && !opts.Follow:
		return nil
	case opts.TailLines == 0:
		// The Docker layer cannot ask for "no old lines" (its Tail 0 means
		// all), and Since has one-second precision: lines from the current
		// second may come too.
		if now := time.Now(); o.Since.Before(now) {
			o.Since = now
		}
	}
	// One writer for both: the client sees the lines in the order written.
	if err := d.client.Logs(ctx, c.ID, o, w, w); err != nil {
		return fmt.Errorf("service %s of environment %s: %w", service, env, err)
	}
	return nil
}

// current picks the service's container from the cache. During a
// replacement two may exist: the running one wins, then the newest.
func (d dockerLogs) current(env, service string) (docker.Container, bool) {
	var best docker.Container
	found := false
	for _, c := range d.cache.Containers(env) {
		if c.Service != service {
			continue
		}
		if !found || better(c, best) {
			best, found = c, true
		}
	}
	return best, found
}

func better(a, b docker.Container) bool {
	if ar, br := a.State == "running", b.State == "running"; ar != br {
		return ar
	}
	return a.CreatedAt.After(b.CreatedAt)
}
