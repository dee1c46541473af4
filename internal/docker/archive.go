package docker

import (
	"context"
	"fmt"
	"io"
	"os"
	"path"
	"sync"
	"time"

	"github.com/moby/moby/client"

	"berth.dev/berth/internal/governor"
)

// PathStat describes a path in a container's filesystem.
type PathStat struct {
	Name       string
	Size       int64
	Mode       os.FileMode
	ModTime    time.Time
	LinkTarget string
}

// StatPath describes path in a container (ErrNotFound when it does not
// exist). Read lane: it is a HEAD request.
func (c *Client) StatPath(ctx context.Context, containerID, p string) (PathStat, error) {
	id, err := c.ownedContainer(ctx, "container_stat_path", containerID)
	if err != nil {
		return PathStat{}, fmt.Errorf("stat %s in %s: %w", p, shortID(containerID), err)
	}
	var st PathStat
	err = c.gov.Do(ctx, governor.Call{Op: "container_stat_path", Lane: governor.LaneRead, Object: id, Idempotent: true}, func(ctx context.Context, _ int) error {
		r, err := c.api.ContainerStatPath(ctx, id, client.ContainerStatPathOptions{Path: p})
		st = PathStat{Name: r.Stat.Name, Size: r.Stat.Size, Mode: r.Stat.Mode, ModTime: r.Stat.Mtime, LinkTarget: r.Stat.LinkTarget}
		return err
	})
	if err != nil {
		return PathStat{}, fmt.Errorf("stat %s in %s: %w", p, shortID(id), err)
	}
	return st, nil
}

// ArchiveFrom opens a tar stream of path in a container (Docker's GET
// /containers/{id}/archive: one entry named after path's last element,
// then a directory's tree). Docker builds the archive itself, so it needs
// no tar in the image. The stream holds a governor stream token until it
// is closed; the caller must close it.
func (c *Client) ArchiveFrom(ctx context.Context, containerID, p string) (io.ReadCloser, PathStat, error) {
	if !path.IsAbs(p) {
		return nil, PathStat{}, &Error{Op: "container_archive_get", Object: containerID, Kind: ErrInvalid, Err: fmt.Errorf("path %q is not absolute", p)}
	}
	id, err := c.ownedContainer(ctx, "container_archive_get", containerID)
	if err != nil {
		return nil, PathStat{}, fmt.Errorf("copy %s from %s: %w", p, shortID(containerID), err)
	}
	done, err := c.gov.Stream(ctx, "container_archive_get", id)
	if err != nil {
		return nil, PathStat{}, fmt.Errorf("copy %s from %s: %w", p, shortID(id), err)
	}
	r, err := c.api.CopyFromContainer(ctx, id, client.CopyFromContainerOptions{SourcePath: p})
	if err != nil {
		done(err)
		_, kind := classify(ctx, err)
		return nil, PathStat{}, fmt.Errorf("copy %s from %s: %w", p, shortID(id), &Error{Op: "container_archive_get", Object: id, Kind: kind, Err: err})
	}
	st := PathStat{Name: r.Stat.Name, Size: r.Stat.Size, Mode: r.Stat.Mode, ModTime: r.Stat.Mtime, LinkTarget: r.Stat.LinkTarget}
	return &streamBody{ReadCloser: r.Content, done: done}, st, nil
}

// ArchiveTo extracts the tar stream r into dir, an existing directory of
// the container (Docker's PUT /containers/{id}/archive, which unpacks it
// itself: no tar needed in the image). Entries keep their modes; a
// directory is never replaced by a file or the reverse. The upload is a
// stream: it may be large, so no per-call timeout cuts it.
func (c *Client) ArchiveTo(ctx context.Context, containerID, dir string, r io.Reader) error {
	if !path.IsAbs(dir) {
		return &Error{Op: "container_archive_put", Object: containerID, Kind: ErrInvalid, Err: fmt.Errorf("path %q is not absolute", dir)}
	}
	id, err := c.ownedContainer(ctx, "container_archive_put", containerID)
	if err != nil {
		return fmt.Errorf("copy into %s:%s: %w", shortID(containerID), dir, err)
	}
	done, err := c.gov.Stream(ctx, "container_archive_put", id)
	if err != nil {
		return fmt.Errorf("copy into %s:%s: %w", shortID(id), dir, err)
	}
	// Not retried: the body is a stream, read once.
	_, err = c.api.CopyToContainer(ctx, id, client.CopyToContainerOptions{DestinationPath: dir, Content: r})
	done(err)
	if err != nil {
		_, kind := classify(ctx, err)
		return fmt.Errorf("copy into %s:%s: %w", shortID(id), dir, &Error{Op: "container_archive_put", Object: id, Kind: kind, Err: err})
	}
	return nil
}

// streamBody ends the governor stream when the body is closed.
type streamBody struct {
	io.ReadCloser
	done func(error)
	once sync.Once
}

func (b *streamBody) Close() error {
	err := b.ReadCloser.Close()
	b.once.Do(func() { b.done(nil) })
	return err
}
