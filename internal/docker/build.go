package docker

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/moby/moby/api/types/build"
	"github.com/moby/moby/client"

	v1 "berth.dev/berth/apis/v1alpha1"
	"berth.dev/berth/internal/buildctx"
	"berth.dev/berth/internal/governor"
)

// BuildTimeout bounds one build: generous (a cold dependency download in a
// RUN step takes minutes), but a build hung in the daemon must end.
const BuildTimeout = 30 * time.Minute

// Builder is the image-building part of Docker: builds, the list of
// what this manager built, and their graceful removal.
type Builder interface {
	BuildImage(ctx context.Context, spec BuildSpec, out io.Writer) (Built, error)
	BuiltImages(ctx context.Context) ([]BuiltImage, error)
	RemoveBuiltImage(ctx context.Context, ref string, also ...string) error
	RemoveBuiltImageID(ctx context.Context, id string) error
}

// BuildSpec is an image to build with the daemon's classic builder.
type BuildSpec struct {
	Context buildctx.Spec
	// Tag is the content-addressed tag (berth-build/<service>:<hash>); the
	// build is skipped when it exists.
	Tag string
	// Also are more tags for the same image (the service's image, when
	// the spec sets both image and build).
	Also []string
	// Hash is the content hash the tag is made of; it goes in the
	// berth.dev/build-hash label.
	Hash string
}

// Built is what BuildImage did.
type Built struct {
	ImageID string
	// Skipped: an image with the tag existed; nothing was built.
	Skipped bool
}

// BuildImage builds spec unless its tag exists, writing the build's output
// to out (which should bound what it keeps; see buildctx.Tail). It runs on
// the stream lane, like a pull: a build takes minutes and must not hold a
// slot that creates, starts and stops need. Intermediate containers are
// removed the normal way (Remove), never forced.
func (c *Client) BuildImage(ctx context.Context, spec BuildSpec, out io.Writer) (Built, error) {
	// The tag may name other content afterwards.
	c.known.forgetImage(spec.Tag)
	if out == nil {
		out = io.Discard
	}
	var id string
	err := c.gov.Do(ctx, governor.Call{Op: "image_inspect", Lane: governor.LaneRead, Object: spec.Tag, Idempotent: true}, func(ctx context.Context, _ int) error {
		r, err := c.api.ImageInspect(ctx, spec.Tag)
		if err == nil {
			id = r.ID
		}
		return err
	})
	if err == nil {
		return Built{ImageID: id, Skipped: true}, nil
	}
	if !IsNotFound(err) {
		return Built{}, fmt.Errorf("build %s: %w", spec.Tag, err)
	}
	args := map[string]*string{}
	for k, v := range spec.Context.Args {
		args[k] = &v
	}
	labels := map[string]string{
		v1.LabelManagedBy: c.id,
		v1.LabelBuildHash: spec.Hash,
	}
	opts := client.ImageBuildOptions{
		Tags:        append([]string{spec.Tag}, spec.Also...),
		Dockerfile:  spec.Context.Dockerfile,
		BuildArgs:   args,
		Target:      spec.Context.Target,
		Labels:      labels,
		Remove:      true,
		ForceRemove: false,
		Version:     build.BuilderV1,
	}
	if opts.Dockerfile == "" {
		opts.Dockerfile = v1.DefaultDockerfile
	}
	// The context is re-read on every attempt: a retry after a dropped
	// connection resends the whole tar. A build with the same tag is
	// idempotent (the same content gives the same image).
	err = c.gov.Do(ctx, governor.Call{Op: "image_build", Lane: governor.LaneStream, Object: spec.Tag, Idempotent: true}, func(ctx context.Context, _ int) error {
		ctx, cancel := context.WithTimeout(ctx, BuildTimeout)
		defer cancel()
		pr, pw := io.Pipe()
		go func() { pw.CloseWithError(buildctx.WriteTar(spec.Context, pw)) }()
		defer pr.Close()
		resp, err := c.api.ImageBuild(ctx, pr, opts)
		if err != nil {
			return err
		}
		defer resp.Body.Close()
		id, err = readBuildStream(resp.Body, out)
		return err
	})
	if err != nil {
		return Built{}, fmt.Errorf("build %s: %w", spec.Tag, err)
	}
	return Built{ImageID: id}, nil
}

// buildError is a failure the daemon reported inside the build stream (a
// RUN that exited non-zero, a bad Dockerfile), after answering 200. It is
// not transient: the same build fails again.
type buildError struct{ msg string }

func (e *buildError) Error() string { return e.msg }

// Unwrap classifies it as an invalid request, so it is not retried.
func (e *buildError) Unwrap() error { return ErrInvalid }

// readBuildStream copies the build's output to out and returns the
// image ID the daemon reports. Each message is one chunk the daemon sent;
// nothing is accumulated here, out decides what is kept.
func readBuildStream(body io.Reader, out io.Writer) (string, error) {
	dec := json.NewDecoder(body)
	var id string
	for {
		var msg struct {
			Stream      string           `json:"stream"`
			Status      string           `json:"status"`
			Aux         *json.RawMessage `json:"aux"`
			ErrorDetail *struct {
				Message string `json:"message"`
			} `json:"errorDetail"`
			Error string `json:"error"`
		}
		if err := dec.Decode(&msg); err == io.EOF {
			return id, nil
		} else if err != nil {
			return id, fmt.Errorf("read build output: %w", err)
		}
		if msg.Stream != "" {
			io.WriteString(out, msg.Stream)
		}
		if msg.Status != "" {
			io.WriteString(out, msg.Status+"\n")
		}
		if msg.ErrorDetail != nil || msg.Error != "" {
			m := msg.Error
			if msg.ErrorDetail != nil && msg.ErrorDetail.Message != "" {
				m = msg.ErrorDetail.Message
			}
			io.WriteString(out, m+"\n")
			return id, &buildError{msg: strings.TrimSpace(m)}
		}
		if msg.Aux != nil {
			var aux struct {
				ID string `json:"ID"`
			}
			if json.Unmarshal(*msg.Aux, &aux) == nil && aux.ID != "" {
				id = aux.ID
			}
		}
	}
}

// BuiltImage is an image berth built (it carries this manager's identity
// and a build hash).
type BuiltImage struct {
	ID      string
	Tags    []string
	Hash    string
	Size    int64
	Created time.Time
}

// BuiltImages lists the images this manager built.
func (c *Client) BuiltImages(ctx context.Context) ([]BuiltImage, error) {
	var out []BuiltImage
	err := c.gov.Do(ctx, governor.Call{Op: "image_list", Lane: governor.LaneRead, Object: "built images", Idempotent: true}, func(ctx context.Context, _ int) error {
		r, err := c.api.ImageList(ctx, client.ImageListOptions{
			Filters: c.ownedFilter().Add("label", v1.LabelBuildHash),
		})
		if err != nil {
			return err
		}
		out = out[:0]
		for _, s := range r.Items {
			if s.Labels[v1.LabelManagedBy] != c.id || s.Labels[v1.LabelBuildHash] == "" {
				continue // the filter should have said so; never trust it alone
			}
			out = append(out, BuiltImage{ID: s.ID, Tags: realTags(s.RepoTags), Hash: s.Labels[v1.LabelBuildHash], Size: s.Size, Created: time.Unix(s.Created, 0)})
		}
		return nil
	})
	return out, err
}

// RemoveBuiltImage removes ref, an image this manager built, without
// force (PruneChildren removes its untagged parents, the classic builder's
// intermediate images). also are more tags of the same build (the
// service's image name): each is untagged first, but only while it still
// points at ref's image. An image a container still uses is refused by
// the daemon (ErrConflict), which callers treat as "still in use". An
// image not built by this manager is ErrNotOwned and left alone. A missing
// image is ErrNotFound, so a caller can tell "removed" from "already gone".
func (c *Client) RemoveBuiltImage(ctx context.Context, ref string, also ...string) error {
	id, labels, err := c.inspectImage(ctx, ref)
	if err != nil {
		return fmt.Errorf("remove image %s: %w", ref, err)
	}
	if labels[v1.LabelManagedBy] != c.id || labels[v1.LabelBuildHash] == "" {
		return &Error{Op: "image_remove", Object: ref, Kind: ErrNotOwned, Err: fmt.Errorf("image %s was not built by this manager", ref)}
	}
	for _, alias := range also {
		aid, _, err := c.inspectImage(ctx, alias)
		if IsNotFound(err) || (err == nil && aid != id) {
			continue // gone, or now another image: not ours to untag
		}
		if err != nil {
			return fmt.Errorf("remove image tag %s: %w", alias, err)
		}
		if err := c.removeImage(ctx, alias); err != nil {
			return err
		}
	}
	return c.removeImage(ctx, ref)
}

// realTags drops the placeholders an older daemon lists for an untagged
// image ("<none>:<none>", "<none>@<none>"): they are not references, and
// removing one is "invalid reference format".
func realTags(tags []string) []string {
	var out []string
	for _, t := range tags {
		if !strings.HasPrefix(t, "<none>") {
			out = append(out, t)
		}
	}
	return out
}

// RemoveBuiltImageID removes the image id, one this manager built, by its
// ID and without force: first each tag that still names it (a tag moved
// to another image since is left to that image), then the ID itself,
// which also removes an image whose tags were all moved away (dangling).
// A container using it makes the daemon refuse (ErrConflict); an image
// not built by this manager is ErrNotOwned; a missing one ErrNotFound.
func (c *Client) RemoveBuiltImageID(ctx context.Context, id string) error {
	var tags []string
	var labels map[string]string
	err := c.gov.Do(ctx, governor.Call{Op: "image_inspect", Lane: governor.LaneRead, Object: id, Idempotent: true}, func(ctx context.Context, _ int) error {
		r, err := c.api.ImageInspect(ctx, id)
		if err == nil {
			id, tags = r.ID, realTags(r.RepoTags)
			if r.Config != nil {
				labels = r.Config.Labels
			}
		}
		return err
	})
	if err != nil {
		return fmt.Errorf("remove image %s: %w", id, err)
	}
	if labels[v1.LabelManagedBy] != c.id || labels[v1.LabelBuildHash] == "" {
		return &Error{Op: "image_remove", Object: id, Kind: ErrNotOwned, Err: fmt.Errorf("image %s was not built by this manager", id)}
	}
	for _, tag := range tags {
		tid, _, err := c.inspectImage(ctx, tag)
		if IsNotFound(err) || (err == nil && tid != id) {
			continue // moved to another image meanwhile: not ours to untag
		}
		if err != nil {
			return fmt.Errorf("remove image tag %s: %w", tag, err)
		}
		// Untags only while other tags remain; the last one removes
		// the image (refused while a container uses it).
		if err := c.removeImage(ctx, tag); err != nil {
			return err
		}
	}
	// The last untag may have removed the image already (NotFound is nil).
	return c.removeImage(ctx, id)
}

func (c *Client) inspectImage(ctx context.Context, ref string) (id string, labels map[string]string, err error) {
	err = c.gov.Do(ctx, governor.Call{Op: "image_inspect", Lane: governor.LaneRead, Object: ref, Idempotent: true}, func(ctx context.Context, _ int) error {
		r, err := c.api.ImageInspect(ctx, ref)
		if err == nil {
			id = r.ID
			if r.Config != nil {
				labels = r.Config.Labels
			}
		}
		return err
	})
	return id, labels, err
}

func (c *Client) removeImage(ctx context.Context, ref string) error {
	err := c.gov.Do(ctx, governor.Call{Op: "image_remove", Lane: governor.LaneWrite, Object: ref, Idempotent: true}, func(ctx context.Context, _ int) error {
		_, err := c.api.ImageRemove(ctx, ref, client.ImageRemoveOptions{Force: false, PruneChildren: true})
		return err
	})
	if IsNotFound(err) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("remove image %s: %w", ref, err)
	}
	return nil
}
