package apiserver

import (
	"context"
	"io"
)

// ContainerSource runs commands in, and copies files to and from, the
// container behind a service (environments/NAME/exec and /archive). Like
// LogSource it is the manager's: the API server has no Docker client.
// Errors it returns as an apierrors status (forbidden for a container
// berth does not own, not found for a missing path) reach the client as
// they are; ErrNoContainer becomes a 400 naming the service's state.
type ContainerSource interface {
	// Exec runs req.Command in the target's container with the caller's
	// streams and returns its exit code once its output has ended.
	Exec(ctx context.Context, t Target, req ExecRequest) (exitCode int, err error)
	// ArchiveFrom opens a tar stream of path (Docker's archive format: one
	// top entry named after path's last element). The caller closes it.
	ArchiveFrom(ctx context.Context, t Target, path string) (io.ReadCloser, error)
	// ArchiveTo unpacks the tar stream r at path: into path when it is an
	// existing directory, else as path (the archive's top entry renamed
	// to path's last element, in path's parent directory).
	ArchiveTo(ctx context.Context, t Target, path string, r io.Reader) error
}

// Target names one container: a service of an Environment and, with
// several replicas, which one (nil: the service's current container, the
// running one first, as logs picks it).
type Target struct {
	Environment string
	Service     string
	Replica     *int32
}

// ExecRequest is one command and the streams it is attached to. A nil
// stream is not attached.
type ExecRequest struct {
	Command []string
	TTY     bool
	Stdin   io.Reader
	Stdout  io.Writer
	Stderr  io.Writer
	// Resize carries the client's terminal sizes (TTY only).
	Resize <-chan TerminalSize
}

// TerminalSize is a terminal's size in characters.
type TerminalSize struct {
	Width, Height uint16
}
