package docker

import (
	"archive/tar"
	"bytes"
	"context"
	"fmt"
	"path"
	"strings"
	"time"

	"github.com/moby/moby/client"

	"berth.dev/berth/internal/governor"
)

// FileSpec is one regular file written into a container.
type FileSpec struct {
	// Path is absolute in the container; missing parent directories are
	// created (root-owned, 0755) by the daemon.
	Path string
	// Mode is the permission bits (0444, 0400).
	Mode int64
	// UID and GID own the file, as numbers in the container's user
	// namespace.
	UID, GID int
	Content  []byte
}

// fileModTime is the modification time of every file berth writes: a
// constant, so the same files make the same archive.
var fileModTime = time.Unix(0, 0).UTC()

// CopyFiles writes files into the container id in one CopyToContainer
// call, with their mode and owner. It is meant for a created container
// before its start (the image's entrypoint then sees the files), and is
// idempotent: writing the same files again replaces them. The archive
// holds only the files, no directory entries, so an existing directory
// (/run, /etc) keeps its own mode and owner. Content is never logged or
// put in an error.
func (c *Client) CopyFiles(ctx context.Context, id string, files []FileSpec) error {
	if len(files) == 0 {
		return nil
	}
	archive, err := fileArchive(files)
	if err != nil {
		return fmt.Errorf("copy files into %s: %w", shortID(id), err)
	}
	err = c.gov.Do(ctx, governor.Call{Op: "container_copy", Lane: governor.LaneWrite, Object: id, Idempotent: true}, func(ctx context.Context, _ int) error {
		_, err := c.api.CopyToContainer(ctx, id, client.CopyToContainerOptions{
			DestinationPath: "/",
			Content:         bytes.NewReader(archive),
		})
		return err
	})
	if err != nil {
		return fmt.Errorf("copy %d file(s) into %s: %w", len(files), shortID(id), err)
	}
	return nil
}

// fileArchive is the tar of files, rooted at /.
func fileArchive(files []FileSpec) ([]byte, error) {
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for _, f := range files {
		if !path.IsAbs(f.Path) || path.Clean(f.Path) != f.Path || f.Path == "/" {
			return nil, fmt.Errorf("file path %q must be absolute and clean", f.Path)
		}
		hdr := &tar.Header{
			Typeflag: tar.TypeReg,
			Name:     strings.TrimPrefix(f.Path, "/"),
			Mode:     f.Mode & 0o777,
			Uid:      f.UID,
			Gid:      f.GID,
			Size:     int64(len(f.Content)),
			ModTime:  fileModTime,
			Format:   tar.FormatPAX,
		}
		if err := tw.WriteHeader(hdr); err != nil {
			return nil, fmt.Errorf("archive %s: %w", f.Path, err)
		}
		if _, err := tw.Write(f.Content); err != nil {
			return nil, fmt.Errorf("archive %s: %w", f.Path, err)
		}
	}
	if err := tw.Close(); err != nil {
		return nil, fmt.Errorf("archive: %w", err)
	}
	return buf.Bytes(), nil
}
