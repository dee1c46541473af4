package buildctx

import (
	"archive/tar"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"
	"time"
)

// Spec is one build: the context directory on this host and what the
// Dockerfile is given.
type Spec struct {
	Dir        string
	Dockerfile string // relative to Dir; "" is Dockerfile
	Args       map[string]string
	Target     string
}

// Bounds on what berth reads from a context: a context is a source tree,
// not a disk; a bigger one is refused with the number, not read.
const (
	MaxFiles = 100_000
	MaxBytes = 2 << 30
)

// ContextError is a context the manager cannot use: missing, unreadable,
// not a directory, no Dockerfile, too big. Path is the host path at fault.
type ContextError struct {
	Path   string
	Reason string
	Err    error
}

func (e *ContextError) Error() string {
	if e.Err != nil {
		return fmt.Sprintf("build context %s: %s: %v", e.Path, e.Reason, e.Err)
	}
	return fmt.Sprintf("build context %s: %s", e.Path, e.Reason)
}

func (e *ContextError) Unwrap() error { return e.Err }

// IsContextError reports whether err is about the context on the host
// (as opposed to the daemon).
func IsContextError(err error) bool {
	var ce *ContextError
	return errors.As(err, &ce)
}

// entry is one file, directory or symlink of the context.
type entry struct {
	rel   string // slash-separated, relative to the context
	mode  fs.FileMode
	size  int64
	mtime time.Time
	link  string
}

func (s Spec) dockerfile() string {
	if s.Dockerfile == "" {
		return "Dockerfile"
	}
	return path.Clean(filepath.ToSlash(s.Dockerfile))
}

// list walks the context in name order, leaving out what .dockerignore
// excludes (never the Dockerfile or .dockerignore itself: the daemon needs
// both, and Docker's CLI sends them the same way).
func list(s Spec) ([]entry, error) {
	fi, err := os.Stat(s.Dir)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return nil, &ContextError{Path: s.Dir, Reason: "does not exist", Err: err}
	case errors.Is(err, fs.ErrPermission):
		return nil, &ContextError{Path: s.Dir, Reason: "permission denied", Err: err}
	case err != nil:
		return nil, &ContextError{Path: s.Dir, Reason: "cannot be read", Err: err}
	case !fi.IsDir():
		return nil, &ContextError{Path: s.Dir, Reason: "is not a directory"}
	}
	df := s.dockerfile()
	dfi, err := os.Lstat(filepath.Join(s.Dir, filepath.FromSlash(df)))
	if err != nil || !dfi.Mode().IsRegular() {
		reason := "has no Dockerfile " + df
		if err == nil {
			reason = "Dockerfile " + df + " is not a regular file"
		}
		return nil, &ContextError{Path: filepath.Join(s.Dir, df), Reason: reason, Err: err}
	}
	var ig *Ignore
	if f, err := os.Open(filepath.Join(s.Dir, ".dockerignore")); err == nil {
		ig, err = ParseIgnore(io.LimitReader(f, 1<<20))
		f.Close()
		if err != nil {
			return nil, &ContextError{Path: filepath.Join(s.Dir, ".dockerignore"), Reason: "cannot be parsed", Err: err}
		}
	} else if !errors.Is(err, fs.ErrNotExist) {
		return nil, &ContextError{Path: filepath.Join(s.Dir, ".dockerignore"), Reason: "cannot be read", Err: err}
	}

	var out []entry
	var total int64
	err = filepath.WalkDir(s.Dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			reason := "cannot be read"
			if errors.Is(err, fs.ErrPermission) {
				reason = "permission denied"
			}
			return &ContextError{Path: p, Reason: reason, Err: err}
		}
		if p == s.Dir {
			return nil
		}
		r, err := filepath.Rel(s.Dir, p)
		if err != nil {
			return &ContextError{Path: p, Reason: "outside the context", Err: err}
		}
		rel := filepath.ToSlash(r)
		always := rel == df || rel == ".dockerignore"
		if !always && ig.Excluded(rel) {
			if d.IsDir() && !ig.hasExceptions {
				return filepath.SkipDir
			}
			return nil
		}
		info, err := d.Info()
		if err != nil {
			return &ContextError{Path: p, Reason: "cannot be read", Err: err}
		}
		e := entry{rel: rel, mode: info.Mode(), mtime: info.ModTime()}
		switch {
		case info.Mode().IsRegular():
			e.size = info.Size()
		case info.Mode()&fs.ModeSymlink != 0:
			if e.link, err = os.Readlink(p); err != nil {
				return &ContextError{Path: p, Reason: "cannot read symlink", Err: err}
			}
		case info.IsDir():
		default:
			// Sockets, devices, pipes: Docker's CLI skips nothing but
			// they cannot be COPYed meaningfully; leave them out.
			return nil
		}
		total += e.size
		if len(out) >= MaxFiles {
			return &ContextError{Path: s.Dir, Reason: fmt.Sprintf("has more than %d files (add a .dockerignore)", MaxFiles)}
		}
		if total > MaxBytes {
			return &ContextError{Path: s.Dir, Reason: fmt.Sprintf("is larger than %d bytes (add a .dockerignore)", int64(MaxBytes))}
		}
		out = append(out, e)
		return nil
	})
	if err != nil {
		var ce *ContextError
		if errors.As(err, &ce) {
			return nil, ce
		}
		return nil, &ContextError{Path: s.Dir, Reason: "cannot be walked", Err: err}
	}
	// WalkDir visits in lexical order per directory; sort by the full
	// path so the order does not depend on the walk.
	slices.SortFunc(out, func(a, b entry) int { return strings.Compare(a.rel, b.rel) })
	return out, nil
}

// hashVersion changes every build tag when what is hashed changes.
const hashVersion = "berth-build-v1"

// field writes s length-prefixed, so no two sequences of fields hash alike.
func field(h hash.Hash, s string) {
	var n [8]byte
	binary.BigEndian.PutUint64(n[:], uint64(len(s)))
	h.Write(n[:])
	h.Write([]byte(s))
}

// header hashes the build's parameters (not its files).
func (s Spec) header(h hash.Hash) {
	field(h, hashVersion)
	field(h, s.dockerfile())
	field(h, s.Target)
	keys := make([]string, 0, len(s.Args))
	for k := range s.Args {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		field(h, k)
		field(h, s.Args[k])
	}
}

// Hash is the content hash of the build, hex: every file's path, type,
// permission bits and content (a symlink's target), the Dockerfile's path,
// the args and the target. Modification times and owners are left out, so
// a fresh checkout of the same tree builds the same tag.
func Hash(s Spec) (string, error) {
	entries, err := list(s)
	if err != nil {
		return "", err
	}
	h := sha256.New()
	s.header(h)
	for _, e := range entries {
		field(h, e.rel)
		field(h, fmt.Sprintf("%o", uint32(e.mode&(fs.ModeType|fs.ModePerm|fs.ModeSetuid|fs.ModeSetgid|fs.ModeSticky))))
		field(h, e.link)
		if !e.mode.IsRegular() {
			continue
		}
		sum, err := fileSum(filepath.Join(s.Dir, filepath.FromSlash(e.rel)))
		if err != nil {
			return "", err
		}
		field(h, sum)
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

func fileSum(p string) (string, error) {
	f, err := os.Open(p)
	if err != nil {
		return "", &ContextError{Path: p, Reason: "cannot be read", Err: err}
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, io.LimitReader(f, MaxBytes+1)); err != nil {
		return "", &ContextError{Path: p, Reason: "cannot be read", Err: err}
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

// Fingerprint is a cheap summary of the context from metadata only (paths,
// modes, sizes, modification times): when it is unchanged, Hash need not
// read the files again. It is not a content hash: a different fingerprint
// may still have the same Hash.
func Fingerprint(s Spec) (string, error) {
	entries, err := list(s)
	if err != nil {
		return "", err
	}
	h := sha256.New()
	s.header(h)
	for _, e := range entries {
		field(h, e.rel)
		field(h, fmt.Sprintf("%o %d %d", uint32(e.mode), e.size, e.mtime.UnixNano()))
		field(h, e.link)
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

// epoch is every entry's time in the tar: the daemon then sees the same
// bytes for the same tree, whenever it was checked out.
var epoch = time.Unix(0, 0).UTC()

// WriteTar writes the context as the uncompressed tar ImageBuild takes.
func WriteTar(s Spec, w io.Writer) error {
	entries, err := list(s)
	if err != nil {
		return err
	}
	tw := tar.NewWriter(w)
	for _, e := range entries {
		hdr := &tar.Header{
			Name:    e.rel,
			ModTime: epoch,
			Format:  tar.FormatPAX,
		}
		switch {
		case e.mode.IsDir():
			hdr.Typeflag, hdr.Name = tar.TypeDir, e.rel+"/"
		case e.mode&fs.ModeSymlink != 0:
			hdr.Typeflag, hdr.Linkname = tar.TypeSymlink, e.link
		default:
			hdr.Typeflag, hdr.Size = tar.TypeReg, e.size
		}
		// tar's mode bits for setuid and friends differ from Go's.
		hdr.Mode = int64(e.mode.Perm())
		if e.mode&fs.ModeSetuid != 0 {
			hdr.Mode |= 0o4000
		}
		if e.mode&fs.ModeSetgid != 0 {
			hdr.Mode |= 0o2000
		}
		if e.mode&fs.ModeSticky != 0 {
			hdr.Mode |= 0o1000
		}
		if err := tw.WriteHeader(hdr); err != nil {
			return fmt.Errorf("tar %s: %w", e.rel, err)
		}
		if hdr.Typeflag != tar.TypeReg {
			continue
		}
		if err := copyFile(tw, filepath.Join(s.Dir, filepath.FromSlash(e.rel)), e.size); err != nil {
			return err
		}
	}
	return tw.Close()
}

// copyFile copies exactly size bytes (the size the header promised): a
// file that grew or shrank since the walk fails the tar rather than
// corrupting it.
func copyFile(w io.Writer, p string, size int64) error {
	f, err := os.Open(p)
	if err != nil {
		return &ContextError{Path: p, Reason: "cannot be read", Err: err}
	}
	defer f.Close()
	n, err := io.Copy(w, io.LimitReader(f, size))
	if err != nil {
		return &ContextError{Path: p, Reason: "cannot be read", Err: err}
	}
	if n != size {
		return &ContextError{Path: p, Reason: "changed while it was read"}
	}
	return nil
}
