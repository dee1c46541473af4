// Package paths locates berth's files on the user's machine. The manager and
// the CLI both resolve the default data directory here, so that `berth`
// without flags talks to the manager started without flags.
package paths

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
)

// appName is the directory berth owns under the XDG base directories.
const appName = "berth"

// DefaultDataDir is $XDG_DATA_HOME/berth, else ~/.local/share/berth.
//
// A relative $XDG_DATA_HOME is ignored, as the XDG base directory spec asks:
// a relative data dir would silently move with the working directory, and the
// CLI would then miss the manager's kubeconfig.
func DefaultDataDir() (string, error) {
	if xdg := os.Getenv("XDG_DATA_HOME"); xdg != "" && filepath.IsAbs(xdg) {
		return filepath.Join(xdg, appName), nil
	}
	home, err := os.UserHomeDir()
	if err != nil {
		return "", fmt.Errorf("locating berth's data dir: neither an absolute $XDG_DATA_HOME nor a home directory: %w", err)
	}
	if home == "" {
		return "", errors.New("locating berth's data dir: the home directory is empty")
	}
	return filepath.Join(home, ".local", "share", appName), nil
}

// Kubeconfig is where the manager writes the kubeconfig of its API server
// inside dataDir once the server answers.
func Kubeconfig(dataDir string) string {
	return filepath.Join(dataDir, "kubeconfig")
}

// DefaultCacheDir is $XDG_CACHE_HOME/berth, else ~/.cache/berth: the CLI's
// discovery and OpenAPI cache. It is kept apart from ~/.kube/cache so that
// berth neither reads nor litters a user's Kubernetes client state.
func DefaultCacheDir() (string, error) {
	dir, err := os.UserCacheDir()
	if err != nil {
		return "", fmt.Errorf("locating berth's cache dir: %w", err)
	}
	return filepath.Join(dir, appName), nil
}

// EnsurePrivateDir creates dir with mode 0700, or tightens an existing one
// to 0700: the data dir holds the API token and the store's sockets, and a
// directory made earlier by a user's mkdir (0755 under the usual umask)
// would let every local user list it and reach those sockets. MkdirAll
// alone keeps an existing directory's mode. A path that exists but is no
// directory is an error.
func EnsurePrivateDir(dir string) error {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("create %s: %w", dir, err)
	}
	st, err := os.Stat(dir)
	if err != nil {
		return fmt.Errorf("stat %s: %w", dir, err)
	}
	if !st.IsDir() {
		return fmt.Errorf("%s is not a directory", dir)
	}
	if st.Mode().Perm() != 0o700 {
		if err := os.Chmod(dir, 0o700); err != nil {
			return fmt.Errorf("restrict %s to 0700: %w", dir, err)
		}
	}
	return nil
}
