package remote

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestLocalDestination: into an existing directory, else as the path in
// its parent, which must exist.
func TestLocalDestination(t *testing.T) {
	base := t.TempDir()
	if err := os.Mkdir(filepath.Join(base, "dir"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(base, "file"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	for local, want := range map[string][2]string{
		"dir":    {filepath.Join(base, "dir"), ""},
		"file":   {base, "file"},
		"absent": {base, "absent"},
	} {
		dir, as, err := localDestination(filepath.Join(base, local))
		if err != nil || dir != want[0] || as != want[1] {
			t.Errorf("%s: (%q, %q, %v), want (%q, %q)", local, dir, as, err, want[0], want[1])
		}
	}
	if _, _, err := localDestination(filepath.Join(base, "absent", "x")); err == nil || !strings.Contains(err.Error(), "does not exist") {
		t.Errorf("missing parent: %v, want an error saying the directory does not exist", err)
	}
}
