package controllers

import (
	"context"
	"io"
	"time"

	"berth.dev/berth/internal/docker"
	"berth.dev/berth/internal/probe"
)

// probeLogs reads a container's output for log probes through the Docker
// layer's log stream (the governor's stream admission, owned containers
// only): what it wrote since it started, at most docker.MaxLogTail lines
// back, then new lines as they come.
func probeLogs(d docker.Docker) probe.LogStreamer {
	return probe.LogFunc(func(ctx context.Context, id string, since time.Time, stdout, stderr io.Writer) error {
		return d.Logs(ctx, id, docker.LogOptions{Follow: true, Tail: docker.MaxLogTail, Since: since}, stdout, stderr)
	})
}
