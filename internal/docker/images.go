package docker

import (
	"context"
	"errors"
	"fmt"

	"github.com/moby/moby/client"

	"berth.dev/berth/internal/governor"
)

// PullPolicy says when EnsureImage may pull (the Environment API's
// imagePullPolicy).
type PullPolicy string

const (
	PullAlways       PullPolicy = "Always"
	PullIfNotPresent PullPolicy = "IfNotPresent"
	PullNever        PullPolicy = "Never"
)

// PullProgress is one progress message of a pull, as Docker reports it per
// layer (ID) with a status such as "Downloading" or "Pull complete".
type PullProgress struct {
	ID      string
	Status  string
	Current int64
	Total   int64
}

// EnsureImage makes sure ref is on the host as policy allows: Never only
// checks (ErrImageNotPresent when missing), IfNotPresent pulls when missing,
// Always pulls. Pull failures at the registry (unreachable, no such image)
// are ErrRegistryUnreachable. progress may be nil.
func (c *Client) EnsureImage(ctx context.Context, ref string, policy PullPolicy, progress func(PullProgress)) error {
	switch policy {
	case PullAlways, PullIfNotPresent, PullNever:
	case "":
		policy = PullIfNotPresent
	default:
		return &Error{Op: "image_pull", Object: ref, Kind: ErrInvalid, Err: fmt.Errorf("unknown pull policy %q", policy)}
	}
	if policy != PullAlways {
		present, err := c.ImagePresent(ctx, ref)
		if err != nil {
			return fmt.Errorf("ensure image %s: %w", ref, err)
		}
		if present {
			return nil
		}
		if policy == PullNever {
			return fmt.Errorf("image %s is not present on the Docker host and imagePullPolicy is Never (build or load it first): %w", ref, ErrImageNotPresent)
		}
	}
	return c.pull(ctx, ref, progress)
}

// ImagePresent reports whether ref exists locally (one read).
func (c *Client) ImagePresent(ctx context.Context, ref string) (bool, error) {
	err := c.gov.Do(ctx, governor.Call{Op: "image_inspect", Lane: governor.LaneRead, Object: ref, Idempotent: true}, func(ctx context.Context, _ int) error {
		r, err := c.api.ImageInspect(ctx, ref)
		if err == nil {
			c.known.setImageHealth(ref, imageHealthcheck(r.Config))
		}
		return err
	})
	if IsNotFound(err) {
		return false, nil
	}
	return err == nil, err
}

// pull pulls ref as a stream (no governor slot: pulls take minutes) with
// retries of transient failures; a pull is idempotent.
func (c *Client) pull(ctx context.Context, ref string, progress func(PullProgress)) error {
	// The reference may name other content afterwards.
	c.known.forgetImage(ref)
	// Resolved once per pull, outside the governor (no Docker call); the
	// value holds a password, so it goes only into the request header.
	auth, err := registryAuth(c.dockerConfig, ref)
	if err != nil {
		return &Error{Op: "image_pull", Object: ref, Kind: ErrRegistryAuth, Err: err}
	}
	err = c.gov.Do(ctx, governor.Call{Op: "image_pull", Lane: governor.LaneStream, Object: ref, Idempotent: true}, func(ctx context.Context, _ int) error {
		resp, err := c.api.ImagePull(ctx, ref, client.ImagePullOptions{RegistryAuth: auth})
		if err != nil {
			return asRegistryAuthError(err)
		}
		defer resp.Close()
		for msg, err := range resp.JSONMessages(ctx) {
			if err != nil {
				return err
			}
			if msg.Error != nil {
				return asRegistryAuthError(&pullError{msg: msg.Error.Message})
			}
			if progress != nil && (msg.Status != "" || msg.ID != "") {
				p := PullProgress{ID: msg.ID, Status: msg.Status}
				if msg.Progress != nil {
					p.Current, p.Total = msg.Progress.Current, msg.Progress.Total
				}
				progress(p)
			}
		}
		return nil
	})
	if err == nil {
		return nil
	}
	if ctx.Err() != nil {
		return fmt.Errorf("pull %s: %w", ref, err)
	}
	var pe *pullError
	var ae *registryAuthError
	switch {
	case errors.As(err, &ae):
		return registryAuthFailure(c.dockerConfig, ref, auth != "", err)
	case IsNotFound(err):
		return fmt.Errorf("pull %s: the registry has no such image: %w: %w", ref, ErrRegistryUnreachable, err)
	case IsUnavailable(err):
		return fmt.Errorf("pull %s: registry unreachable: %w: %w", ref, ErrRegistryUnreachable, err)
	case errors.As(err, &pe) || IsForbidden(err):
		return fmt.Errorf("pull %s: %w: %w", ref, ErrRegistryUnreachable, err)
	}
	return fmt.Errorf("pull %s: %w", ref, err)
}

// pullError is an error the daemon reported inside the pull stream, after
// answering 200.
type pullError struct{ msg string }

func (e *pullError) Error() string { return e.msg }
