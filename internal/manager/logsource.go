package manager

import (
	"context"
	"fmt"
	"io"
	"net/http"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"berth.dev/berth/internal/apiserver"
	"berth.dev/berth/internal/buildctx"
	"berth.dev/berth/internal/docker"
	"berth.dev/berth/internal/informer"
	"berth.dev/berth/internal/streamcap"
)

// Caps on the API's log streams (environments/NAME/log): each holds a
// Docker stream and a goroutine for as long as its client stays.
const (
	apiLogStreams             = 32
	apiLogStreamsPerContainer = 4
)

// dockerLogs is the API server's log source: the Docker informer's cache
// says which container runs a service, the Docker layer streams its output
// (and refuses a container this manager does not own).
type dockerLogs struct {
	client  *docker.Client
	cache   *informer.Informer
	streams *streamcap.Limiter
	// builds holds each service's last build output, shown while the
	// service has no container (building, or the build failed).
	builds *buildctx.LogStore
}

func newDockerLogs(client *docker.Client, cache *informer.Informer, builds *buildctx.LogStore) dockerLogs {
	return dockerLogs{client: client, cache: cache, builds: builds, streams: streamcap.New("API log streams", apiLogStreams, apiLogStreamsPerContainer)}
}

var _ apiserver.LogSource = dockerLogs{}

func (d dockerLogs) Logs(ctx context.Context, env, service string, opts apiserver.LogOptions, w io.Writer) error {
	c, ok := currentContainer(d.cache, env, service)
	if !ok {
		if d.builds != nil {
			if out, built := d.builds.Get(env, service); built {
				_, err := w.Write(out)
				return err
			}
		}
		return apiserver.ErrNoContainer
	}
	if opts.TailLines == 0 && !opts.Follow {
		return nil
	}
	release, err := d.streams.Acquire(c.ID[:min(12, len(c.ID))])
	if err != nil {
		return apierrors.NewTooManyRequests(fmt.Sprintf("service %s of environment %s: %v", service, env, err), 1)
	}
	defer release()
	o := docker.LogOptions{Follow: opts.Follow, Since: opts.Since, Timestamps: opts.Timestamps, Tail: int(opts.TailLines)}
	// One writer for both: the client sees the lines in the order written.
	if err := d.client.Logs(ctx, c.ID, o, w, w); err != nil {
		if docker.IsNotOwned(err) {
			return &apierrors.StatusError{ErrStatus: metav1.Status{Status: metav1.StatusFailure, Code: http.StatusForbidden,
				Reason: metav1.StatusReasonForbidden, Message: fmt.Sprintf("service %s of environment %s: %v", service, env, err)}}
		}
		return fmt.Errorf("service %s of environment %s: %w", service, env, err)
	}
	return nil
}

// currentContainer picks the service's container from the cache, for the
// log source and for exec and copies. During a replacement two may exist:
// the running one wins, then the newest.
func currentContainer(cache *informer.Informer, env, service string) (docker.Container, bool) {
	var best docker.Container
	found := false
	for _, c := range cache.Containers(env) {
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
