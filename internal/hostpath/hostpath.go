// Package hostpath is where the manager touches its own host's files on a
// spec's behalf: every host path it mounts or reads is checked against the
// roots the manager permits (--allow-host-path) with symlinks resolved, so
// a link inside a root that points out of it is refused. Admission checks
// the same roots lexically (v1alpha1.Policy.HostPathAllowed); this is the
// check at the moment of use.
package hostpath

import (
	"fmt"
	"io"
	"os"
	"path/filepath"

	"berth.dev/berth/apis/v1alpha1"
)

// Resolve is p with every symlink resolved, provided both the lexical path
// and the resolved one lie under one of roots (each root resolved too, so
// a root that is itself a link, such as /tmp on macOS, still matches).
// The error names the path and why it is refused or unreadable.
func Resolve(roots []string, p string) (string, error) {
	if err := (v1alpha1.Policy{AllowedHostPaths: roots}).HostPathAllowed(p); err != nil {
		return "", err
	}
	resolved, err := filepath.EvalSymlinks(p)
	if err != nil {
		return "", fmt.Errorf("host path %s: %w", p, err)
	}
	for _, root := range roots {
		r, err := filepath.EvalSymlinks(root)
		if err != nil {
			continue // a root that does not exist allows nothing
		}
		if v1alpha1.PathWithin(resolved, r) {
			return resolved, nil
		}
	}
	return "", fmt.Errorf("host path %s resolves to %s, which is not under a directory the manager allows (%s)", p, resolved, v1alpha1.AllowHostPathFlag)
}

// ReadFile reads the regular file at p, resolved and checked as Resolve
// does, refusing one larger than limit bytes.
func ReadFile(roots []string, p string, limit int64) ([]byte, error) {
	resolved, err := Resolve(roots, p)
	if err != nil {
		return nil, err
	}
	f, err := os.Open(resolved)
	if err != nil {
		return nil, fmt.Errorf("host path %s: %w", p, err)
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, fmt.Errorf("host path %s: %w", p, err)
	}
	if !st.Mode().IsRegular() {
		return nil, fmt.Errorf("host path %s is not a regular file", p)
	}
	// Read one byte past the limit: a file that grows between Stat and
	// Read is still caught.
	data, err := io.ReadAll(io.LimitReader(f, limit+1))
	if err != nil {
		return nil, fmt.Errorf("host path %s: %w", p, err)
	}
	if int64(len(data)) > limit {
		return nil, fmt.Errorf("host path %s is larger than %d bytes, the most berth writes into a container", p, limit)
	}
	return data, nil
}
