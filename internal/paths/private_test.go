package paths

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestEnsurePrivateDir(t *testing.T) {
	tests := []struct {
		name     string
		existing os.FileMode // 0: the directory does not exist yet
	}{
		{name: "creates a missing dir 0700"},
		{name: "tightens an existing 0755 dir", existing: 0o755},
		{name: "tightens an existing 0777 dir", existing: 0o777},
		{name: "makes an existing 0500 dir 0700 (the manager writes into it)", existing: 0o500},
		{name: "keeps a 0700 dir", existing: 0o700},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "a", "berth")
			file := filepath.Join(dir, "token")
			if tt.existing != 0 {
				if err := os.MkdirAll(dir, 0o700); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(file, []byte("x"), 0o600); err != nil {
					t.Fatal(err)
				}
				// Chmod, not Mkdir's mode: the umask would mask it.
				if err := os.Chmod(dir, tt.existing); err != nil {
					t.Fatal(err)
				}
			}
			if err := EnsurePrivateDir(dir); err != nil {
				t.Fatalf("EnsurePrivateDir: %v", err)
			}
			st, err := os.Stat(dir)
			if err != nil {
				t.Fatal(err)
			}
			if got := st.Mode().Perm(); got != 0o700 {
				t.Errorf("mode = %v, want 0700", got)
			}
			if tt.existing != 0 {
				fst, err := os.Stat(file)
				if err != nil {
					t.Fatal(err)
				}
				if got := fst.Mode().Perm(); got != 0o600 {
					t.Errorf("file inside: mode = %v, want 0600 kept", got)
				}
			}
		})
	}
}

func TestEnsurePrivateDirRefusesAFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "berth")
	if err := os.WriteFile(path, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	err := EnsurePrivateDir(path)
	if err == nil || !strings.Contains(err.Error(), path) {
		t.Fatalf("EnsurePrivateDir(file) = %v, want an error naming %s", err, path)
	}
}
