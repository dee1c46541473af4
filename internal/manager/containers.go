package manager

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"path"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"berth.dev/berth/apis/v1alpha1"
	"berth.dev/berth/internal/apiserver"
	"berth.dev/berth/internal/docker"
	"berth.dev/berth/internal/informer"
	"berth.dev/berth/internal/streamcap"
	"berth.dev/berth/internal/tarcopy"
)

// Caps on exec sessions and archive copies through the API: each holds a
// Docker stream (and goroutines) for as long as its client stays.
const (
	apiContainerStreams             = 32
	apiContainerStreamsPerContainer = 8
)

// dockerContainers is the API server's container source: the Docker
// informer's cache says which container runs a service, the Docker layer
// runs the exec or the archive call through the governor and refuses a
// container this manager does not own.
type dockerContainers struct {
	client  *docker.Client
	cache   *informer.Informer
	streams *streamcap.Limiter
}

func newDockerContainers(client *docker.Client, cache *informer.Informer) dockerContainers {
	return dockerContainers{client: client, cache: cache,
		streams: streamcap.New("API exec and copy streams", apiContainerStreams, apiContainerStreamsPerContainer)}
}

var _ apiserver.ContainerSource = dockerContainers{}

func (d dockerContainers) Exec(ctx context.Context, t apiserver.Target, req apiserver.ExecRequest) (int, error) {
	c, release, err := d.acquire(t)
	if err != nil {
		return -1, err
	}
	defer release()
	o := docker.ExecStreamOptions{Cmd: req.Command, TTY: req.TTY, Stdin: req.Stdin, Stdout: req.Stdout, Stderr: req.Stderr}
	if req.Resize != nil {
		sizes := make(chan docker.TerminalSize)
		o.Resize = sizes
		go func() {
			defer close(sizes)
			for sz := range req.Resize {
				select {
				case sizes <- docker.TerminalSize{Width: uint(sz.Width), Height: uint(sz.Height)}:
				case <-ctx.Done():
					return
				}
			}
		}()
	}
	code, err := d.client.ExecStream(ctx, c.ID, o)
	if err != nil {
		return -1, d.status(t, "", err)
	}
	return code, nil
}

func (d dockerContainers) ArchiveFrom(ctx context.Context, t apiserver.Target, p string) (io.ReadCloser, error) {
	c, release, err := d.acquire(t)
	if err != nil {
		return nil, err
	}
	rc, _, err := d.client.ArchiveFrom(ctx, c.ID, p)
	if err != nil {
		release()
		return nil, d.status(t, p, err)
	}
	return &releaseOnClose{ReadCloser: rc, release: release}, nil
}

// ArchiveTo unpacks into p when it is a directory; otherwise the archive's
// top entry is renamed to p's last element on the way and unpacked in p's
// parent, so `berth cp ./a ENV/svc:/b` makes /b whether or not the local
// name was b.
func (d dockerContainers) ArchiveTo(ctx context.Context, t apiserver.Target, p string, r io.Reader) error {
	c, release, err := d.acquire(t)
	if err != nil {
		return err
	}
	defer release()
	p = path.Clean(p)
	st, err := d.client.StatPath(ctx, c.ID, p)
	switch {
	case err == nil && st.Mode.IsDir():
		if err := d.client.ArchiveTo(ctx, c.ID, p, r); err != nil {
			return d.status(t, p, err)
		}
		return nil
	case err != nil && !docker.IsNotFound(err):
		return d.status(t, p, err)
	}
	if p == "/" {
		return apierrors.NewBadRequest("path: Invalid value: \"/\": not a directory")
	}
	parent, as := path.Dir(p), path.Base(p)
	pr, pw := io.Pipe()
	go func() {
		_, err := tarcopy.Rename(r, pw, as)
		pw.CloseWithError(err)
	}()
	defer pr.Close()
	if err := d.client.ArchiveTo(ctx, c.ID, parent, pr); err != nil {
		return d.status(t, parent, err)
	}
	return nil
}

// acquire finds the target's container and takes a stream slot for it.
func (d dockerContainers) acquire(t apiserver.Target) (docker.Container, func(), error) {
	c, ok := d.find(t)
	if !ok {
		return docker.Container{}, nil, apiserver.ErrNoContainer
	}
	release, err := d.streams.Acquire(c.ID[:min(12, len(c.ID))])
	if err != nil {
		return docker.Container{}, nil, apierrors.NewTooManyRequests(fmt.Sprintf("service %s of environment %s: %v", t.Service, t.Environment, err), 1)
	}
	return c, release, nil
}

// find picks the replica's container by its name, or the service's
// current one the way the log source does.
func (d dockerContainers) find(t apiserver.Target) (docker.Container, bool) {
	if t.Replica == nil {
		return currentContainer(d.cache, t.Environment, t.Service)
	}
	name := v1alpha1.ReplicaContainerName(t.Environment, t.Service, int(*t.Replica))
	for _, c := range d.cache.Containers(t.Environment) {
		if c.Service == t.Service && c.Name == name {
			return c, true
		}
	}
	return docker.Container{}, false
}

// status words a Docker error as an API status.
func (d dockerContainers) status(t apiserver.Target, p string, err error) error {
	where := fmt.Sprintf("service %s of environment %s", t.Service, t.Environment)
	code, reason := http.StatusInternalServerError, metav1.StatusReasonInternalError
	switch {
	case docker.IsNotOwned(err):
		code, reason = http.StatusForbidden, metav1.StatusReasonForbidden
	case docker.IsNotFound(err) && p != "":
		code, reason = http.StatusNotFound, metav1.StatusReasonNotFound
		err = fmt.Errorf("%s: no such file or directory in the container", p)
	case docker.IsNotFound(err):
		code, reason = http.StatusConflict, metav1.StatusReasonConflict
		err = fmt.Errorf("its container is gone (being replaced?): %w", err)
	case docker.IsInvalid(err), docker.IsConflict(err):
		// Docker's 400 (bad path, a directory over a file) and 409 (the
		// container is not running) are the user's to fix.
		code, reason = http.StatusBadRequest, metav1.StatusReasonBadRequest
	}
	return &apierrors.StatusError{ErrStatus: metav1.Status{Status: metav1.StatusFailure, Code: int32(code),
		Reason: reason, Message: fmt.Sprintf("%s: %v", where, err)}}
}

// releaseOnClose frees the stream slot when the archive is closed.
type releaseOnClose struct {
	io.ReadCloser
	release func()
}

func (r *releaseOnClose) Close() error {
	err := r.ReadCloser.Close()
	r.release()
	return err
}
