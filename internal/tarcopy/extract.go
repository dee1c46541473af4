package tarcopy

import (
	"archive/tar"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"slices"
)

// Summary counts what Extract wrote.
type Summary struct {
	Files, Dirs, Links int
	Bytes              int64
	// Skipped are entries of kinds berth does not create (devices,
	// FIFOs): their names, for a warning.
	Skipped []string
}

// Extract unpacks the tar stream r under dir, which must exist. The
// archive's root (its first entry's first element) is written as as, or
// under its own name when as is "". Modes are kept (the permission bits;
// set-id bits are dropped), owners are not: the files belong to the user
// running berth. Directory modes are applied last, so a read-only
// directory still receives its files.
func Extract(r io.Reader, dir, as string) (Summary, error) {
	var sum Summary
	if as != "" && !ValidBase(as) {
		return sum, fmt.Errorf("target name %q is not a single path element", as)
	}
	root, err := os.OpenRoot(dir)
	if err != nil {
		return sum, fmt.Errorf("open target %s: %w", dir, err)
	}
	defer root.Close()

	type dirMode struct {
		name string
		mode fs.FileMode
	}
	var dirs []dirMode
	archiveRoot := ""
	tr := tar.NewReader(r)
	for {
		hdr, err := tr.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return sum, fmt.Errorf("read archive: %w", err)
		}
		if archiveRoot == "" {
			if archiveRoot, err = RootOf(hdr.Name); err != nil {
				return sum, fmt.Errorf("archive: %w", err)
			}
		}
		name, err := entryName(hdr.Name, archiveRoot, as)
		if err != nil {
			return sum, fmt.Errorf("archive: %w", err)
		}
		mode := fs.FileMode(hdr.Mode).Perm()
		switch hdr.Typeflag {
		case tar.TypeDir:
			if err := root.MkdirAll(name, 0o700); err != nil {
				return sum, fmt.Errorf("create directory %s: %w", name, err)
			}
			// Owner-writable and searchable until the end.
			if err := root.Chmod(name, mode|0o700); err != nil {
				return sum, fmt.Errorf("chmod %s: %w", name, err)
			}
			dirs = append(dirs, dirMode{name, mode})
			sum.Dirs++
		case tar.TypeReg:
			n, err := writeFile(root, name, mode, tr)
			sum.Bytes += n
			if err != nil {
				return sum, err
			}
			sum.Files++
		case tar.TypeSymlink:
			// The link's target is content, not a path berth writes to:
			// it may point anywhere, as a copied symlink does. Later
			// entries cannot write through it (os.Root refuses).
			if err := prepare(root, name); err != nil {
				return sum, err
			}
			if err := root.Symlink(hdr.Linkname, name); err != nil {
				return sum, fmt.Errorf("create symlink %s: %w", name, err)
			}
			sum.Links++
		case tar.TypeLink:
			target, err := entryName(hdr.Linkname, archiveRoot, as)
			if err != nil {
				return sum, fmt.Errorf("archive: hard link %s: %w", hdr.Name, err)
			}
			if err := prepare(root, name); err != nil {
				return sum, err
			}
			if err := root.Link(target, name); err != nil {
				return sum, fmt.Errorf("create hard link %s: %w", name, err)
			}
			sum.Links++
		case tar.TypeXGlobalHeader:
		default:
			sum.Skipped = append(sum.Skipped, name)
		}
	}
	// Deepest first: a parent's final mode may forbid touching children.
	slices.Reverse(dirs)
	for _, d := range dirs {
		if err := root.Chmod(d.name, d.mode); err != nil {
			return sum, fmt.Errorf("chmod %s: %w", d.name, err)
		}
	}
	return sum, nil
}

// prepare makes the parent directory of name and removes what name is now
// unless it is a directory: an existing file or symlink is replaced, never
// written through.
func prepare(root *os.Root, name string) error {
	if parent := path.Dir(name); parent != "." {
		if err := root.MkdirAll(parent, 0o755); err != nil {
			return fmt.Errorf("create directory %s: %w", parent, err)
		}
	}
	fi, err := root.Lstat(name)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return nil
	case err != nil:
		return fmt.Errorf("stat %s: %w", name, err)
	case fi.IsDir():
		return fmt.Errorf("%s is a directory in the target; not replacing it", name)
	}
	if err := root.Remove(name); err != nil {
		return fmt.Errorf("replace %s: %w", name, err)
	}
	return nil
}

func writeFile(root *os.Root, name string, mode fs.FileMode, r io.Reader) (int64, error) {
	if err := prepare(root, name); err != nil {
		return 0, err
	}
	// O_EXCL: prepare removed what was there; anything now in the way
	// appeared meanwhile and is not followed.
	f, err := root.OpenFile(name, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return 0, fmt.Errorf("create %s: %w", name, err)
	}
	n, err := io.Copy(f, r)
	if err != nil {
		f.Close()
		return n, fmt.Errorf("write %s: %w", name, err)
	}
	if err := f.Chmod(mode); err != nil {
		f.Close()
		return n, fmt.Errorf("chmod %s: %w", name, err)
	}
	if err := f.Close(); err != nil {
		return n, fmt.Errorf("write %s: %w", name, err)
	}
	return n, nil
}
