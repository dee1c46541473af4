package docker

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strconv"
	"time"

	"github.com/moby/moby/api/pkg/stdcopy"
	"github.com/moby/moby/client"
)

// LogOptions select what Logs streams.
type LogOptions struct {
	// Follow keeps the stream open for new lines until ctx ends.
	Follow bool
	// Tail is how many lines from the end to start with, at most MaxLogTail
	// (more is cut to it); 0 or less means none, only new lines with
	// Follow. There is no "everything": a log can be gigabytes.
	Tail int
	// Since drops lines older than this time (zero: no limit).
	Since time.Time
	// Timestamps prefixes each line with its RFC3339Nano time.
	Timestamps bool
}

// MaxLogTail is the most lines from the end a log stream starts with.
const MaxLogTail = 10000

// Logs copies a container's output to stdout and stderr until the log ends
// (or, with Follow, until ctx ends, which is a normal end and returns nil).
// It is a stream: it takes a token to start but holds no governor slot. A
// container without this manager's identity is refused (ErrNotOwned).
func (c *Client) Logs(ctx context.Context, containerID string, opts LogOptions, stdout, stderr io.Writer) error {
	id, err := c.ownedContainer(ctx, "container_logs", containerID)
	if err != nil {
		return fmt.Errorf("logs of %s: %w", shortID(containerID), err)
	}
	containerID = id
	done, err := c.gov.Stream(ctx, "container_logs", containerID)
	if err != nil {
		return fmt.Errorf("logs of %s: %w", shortID(containerID), err)
	}
	o := client.ContainerLogsOptions{ShowStdout: true, ShowStderr: true, Follow: opts.Follow, Timestamps: opts.Timestamps,
		Tail: strconv.Itoa(min(max(opts.Tail, 0), MaxLogTail))}
	if !opts.Since.IsZero() {
		o.Since = strconv.FormatInt(opts.Since.Unix(), 10)
	}
	rc, err := c.api.ContainerLogs(ctx, containerID, o)
	if err != nil {
		done(err)
		_, kind := classify(ctx, err)
		return fmt.Errorf("logs of %s: %w", shortID(containerID), &Error{Op: "container_logs", Object: containerID, Kind: kind, Err: err})
	}
	defer rc.Close()
	_, err = stdcopy.StdCopy(stdout, stderr, rc)
	if ctx.Err() != nil || errors.Is(err, io.EOF) {
		err = nil
	}
	done(err)
	if err != nil {
		return fmt.Errorf("logs of %s: %w", shortID(containerID), err)
	}
	return nil
}
