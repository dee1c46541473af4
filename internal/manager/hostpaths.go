package manager

import (
	"fmt"
	"os"
	"path/filepath"
)

// hostPathRoots are the --allow-host-path directories, absolute and clean
// (a relative one is taken against the manager's working directory, as
// any path flag). Each must be an existing directory: a typo would
// otherwise silently allow nothing, or, created later, something else.
func hostPathRoots(dirs []string) ([]string, error) {
	var out []string
	for _, d := range dirs {
		if d == "" {
			return nil, fmt.Errorf("--allow-host-path: empty directory")
		}
		abs, err := filepath.Abs(d)
		if err != nil {
			return nil, fmt.Errorf("--allow-host-path %s: %w", d, err)
		}
		st, err := os.Stat(abs)
		if err != nil {
			return nil, fmt.Errorf("--allow-host-path %s: %w", d, err)
		}
		if !st.IsDir() {
			return nil, fmt.Errorf("--allow-host-path %s: not a directory", d)
		}
		out = append(out, filepath.Clean(abs))
	}
	return out, nil
}
