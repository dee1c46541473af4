package tarcopy

import (
	"archive/tar"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
)

// Pack writes localPath (a file, a symlink or a directory tree) to w as a
// tar stream whose one top entry is named rootName. Symlinks are archived
// as links, never followed; modes are kept; sockets and devices are
// refused. Owners are left out (uid/gid 0): the container's root owns what
// is copied in, as with `docker cp`.
func Pack(w io.Writer, localPath, rootName string) error {
	if !ValidBase(rootName) {
		return fmt.Errorf("archive root %q is not a single path element", rootName)
	}
	tw := tar.NewWriter(w)
	err := filepath.WalkDir(localPath, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(localPath, p)
		if err != nil {
			return err
		}
		name := rootName
		if rel != "." {
			name = rootName + "/" + filepath.ToSlash(rel)
		}
		return addEntry(tw, p, name)
	})
	if err != nil {
		return fmt.Errorf("pack %s: %w", localPath, err)
	}
	if err := tw.Close(); err != nil {
		return fmt.Errorf("pack %s: %w", localPath, err)
	}
	return nil
}

func addEntry(tw *tar.Writer, p, name string) error {
	fi, err := os.Lstat(p)
	if err != nil {
		return err
	}
	link := ""
	switch {
	case fi.Mode()&fs.ModeSymlink != 0:
		if link, err = os.Readlink(p); err != nil {
			return err
		}
	case fi.IsDir(), fi.Mode().IsRegular():
	default:
		return fmt.Errorf("%s: cannot copy a %s", p, fi.Mode().Type())
	}
	hdr, err := tar.FileInfoHeader(fi, link)
	if err != nil {
		return fmt.Errorf("%s: %w", p, err)
	}
	hdr.Name = name
	if fi.IsDir() {
		hdr.Name += "/"
	}
	hdr.Uid, hdr.Gid, hdr.Uname, hdr.Gname = 0, 0, "", ""
	hdr.Format = tar.FormatPAX
	if err := tw.WriteHeader(hdr); err != nil {
		return fmt.Errorf("%s: %w", p, err)
	}
	if !fi.Mode().IsRegular() {
		return nil
	}
	f, err := os.Open(p)
	if err != nil {
		return err
	}
	defer f.Close()
	// A file that grew since its stat would overflow its header: copy
	// exactly the size announced.
	if _, err := io.CopyN(tw, f, hdr.Size); err != nil {
		return fmt.Errorf("%s: %w", p, err)
	}
	return nil
}

// Rename copies the tar stream r to w with its root (its first entry's
// first element) renamed to as, checking every name on the way, so a copy
// lands under the name the user gave. It streams: nothing is buffered
// beyond one header.
func Rename(r io.Reader, w io.Writer, as string) (rootIsDir bool, err error) {
	if !ValidBase(as) {
		return false, fmt.Errorf("target name %q is not a single path element", as)
	}
	tr := tar.NewReader(r)
	tw := tar.NewWriter(w)
	root := ""
	for {
		hdr, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return rootIsDir, fmt.Errorf("read archive: %w", err)
		}
		if root == "" {
			if root, err = RootOf(hdr.Name); err != nil {
				return false, fmt.Errorf("archive: %w", err)
			}
			rootIsDir = hdr.Typeflag == tar.TypeDir
		}
		name, err := entryName(hdr.Name, root, as)
		if err != nil {
			return rootIsDir, fmt.Errorf("archive: %w", err)
		}
		if hdr.Typeflag == tar.TypeDir {
			name += "/"
		}
		hdr.Name = name
		if hdr.Typeflag == tar.TypeLink {
			if hdr.Linkname, err = entryName(hdr.Linkname, root, as); err != nil {
				return rootIsDir, fmt.Errorf("archive: hard link: %w", err)
			}
		}
		if err := tw.WriteHeader(hdr); err != nil {
			return rootIsDir, fmt.Errorf("write archive: %w", err)
		}
		if _, err := io.Copy(tw, tr); err != nil {
			return rootIsDir, fmt.Errorf("write archive: %w", err)
		}
	}
	if root == "" {
		return false, fmt.Errorf("archive is empty")
	}
	return rootIsDir, tw.Close()
}
