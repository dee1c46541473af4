package docker

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// IdentityFile is the file in the manager's data dir holding its identity.
const IdentityFile = "manager-id"

// LoadOrCreateIdentity returns the manager identity kept in
// dataDir/manager-id, creating it (random, 0600) on first use. The identity
// must survive restarts: it is how berth recognises its own containers after
// a crash, so a corrupt file is an error, never silently replaced (that
// would orphan everything the manager created).
func LoadOrCreateIdentity(dataDir string) (string, error) {
	path := filepath.Join(dataDir, IdentityFile)
	if id, err := readIdentity(path); err == nil || !errors.Is(err, fs.ErrNotExist) {
		return id, err
	}
	if err := os.MkdirAll(dataDir, 0o700); err != nil {
		return "", fmt.Errorf("create data dir %s: %w", dataDir, err)
	}
	buf := make([]byte, 12)
	if _, err := rand.Read(buf); err != nil {
		return "", fmt.Errorf("generate manager id: %w", err)
	}
	id := "berth-" + hex.EncodeToString(buf)

	// Write a temp file and hard-link it into place: the link fails if
	// another manager won the race, and then its identity is the one.
	tmp, err := os.CreateTemp(dataDir, ".manager-id-*")
	if err != nil {
		return "", fmt.Errorf("write manager id: %w", err)
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.WriteString(id + "\n"); err != nil {
		tmp.Close()
		return "", fmt.Errorf("write manager id: %w", err)
	}
	if err := tmp.Chmod(0o600); err != nil {
		tmp.Close()
		return "", fmt.Errorf("write manager id: %w", err)
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return "", fmt.Errorf("write manager id: %w", err)
	}
	if err := tmp.Close(); err != nil {
		return "", fmt.Errorf("write manager id: %w", err)
	}
	if err := os.Link(tmp.Name(), path); err != nil && !errors.Is(err, fs.ErrExist) {
		return "", fmt.Errorf("install manager id %s: %w", path, err)
	}
	return readIdentity(path)
}

func readIdentity(path string) (string, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return "", fmt.Errorf("read manager id: %w", err)
	}
	id := strings.TrimSpace(string(b))
	if err := validateIdentity(id); err != nil {
		return "", fmt.Errorf("manager id in %s: %w", path, err)
	}
	return id, nil
}

// validateIdentity keeps the identity usable as a Docker label value and in
// a label filter (no '=' or ',' and nothing invisible).
func validateIdentity(id string) error {
	if id == "" {
		return errors.New("empty")
	}
	if len(id) > 63 {
		return fmt.Errorf("%q: longer than 63 characters", id)
	}
	for _, r := range id {
		ok := r == '-' || r == '_' || r == '.' || (r >= '0' && r <= '9') || (r >= 'a' && r <= 'z') || (r >= 'A' && r <= 'Z')
		if !ok {
			return fmt.Errorf("%q: only letters, digits, '-', '_' and '.' are allowed", id)
		}
	}
	return nil
}
