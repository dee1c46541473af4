package hostpath

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestResolveAndRead(t *testing.T) {
	root := t.TempDir()
	outside := t.TempDir()
	write := func(p, content string) {
		t.Helper()
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write(filepath.Join(root, "app.conf"), "ok")
	write(filepath.Join(outside, "secret"), "outside")
	if err := os.Mkdir(filepath.Join(root, "sub"), 0o755); err != nil {
		t.Fatal(err)
	}
	// Links inside the root: one to a file inside, one out of the root.
	if err := os.Symlink(filepath.Join(root, "app.conf"), filepath.Join(root, "sub", "in")); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(filepath.Join(outside, "secret"), filepath.Join(root, "escape")); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(outside, filepath.Join(root, "escape-dir")); err != nil {
		t.Fatal(err)
	}
	roots := []string{root}

	if data, err := ReadFile(roots, filepath.Join(root, "sub", "in"), 10); err != nil || string(data) != "ok" {
		t.Errorf("link inside the root: %q, %v", data, err)
	}
	for _, tc := range []struct{ path, want string }{
		{filepath.Join(root, "escape"), "not under a directory the manager allows"},
		{filepath.Join(root, "escape-dir", "secret"), "not under a directory the manager allows"},
		{filepath.Join(outside, "secret"), "not under a directory the manager allows"},
		{filepath.Join(root, "missing"), "no such file"},
		{filepath.Join(root, "sub"), "not a regular file"},
		{"relative", "berth apply -f"},
	} {
		if _, err := ReadFile(roots, tc.path, 10); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("ReadFile(%s) = %v, want an error with %q", tc.path, err, tc.want)
		}
	}
	if _, err := ReadFile(nil, filepath.Join(root, "app.conf"), 10); err == nil || !strings.Contains(err.Error(), "--allow-host-path") {
		t.Errorf("no roots: %v", err)
	}
	if _, err := ReadFile(roots, filepath.Join(root, "app.conf"), 1); err == nil || !strings.Contains(err.Error(), "larger than 1 bytes") {
		t.Errorf("over the limit: %v", err)
	}
	if got, err := Resolve(roots, filepath.Join(root, "sub")); err != nil || !strings.HasSuffix(got, "sub") {
		t.Errorf("directory: %q %v", got, err)
	}
	if _, err := Resolve(roots, filepath.Join(root, "escape-dir")); err == nil {
		t.Errorf("a directory link out of the root must be refused")
	}
	// A root that is itself a link still matches its resolved paths.
	linkRoot := filepath.Join(t.TempDir(), "rootlink")
	if err := os.Symlink(root, linkRoot); err != nil {
		t.Fatal(err)
	}
	if _, err := ReadFile([]string{linkRoot}, filepath.Join(linkRoot, "app.conf"), 10); err != nil {
		t.Errorf("root behind a link: %v", err)
	}
}
