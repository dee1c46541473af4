package buildctx

import (
	"archive/tar"
	"bytes"
	"errors"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

func writeTree(t *testing.T, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	for name, content := range files {
		p := filepath.Join(dir, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

func mustHash(t *testing.T, s Spec) string {
	t.Helper()
	h, err := Hash(s)
	if err != nil {
		t.Fatal(err)
	}
	return h
}

func baseTree(t *testing.T) string {
	return writeTree(t, map[string]string{
		"Dockerfile":      "FROM scratch\nCOPY . /\n",
		"app/main.txt":    "hello",
		"app/data.txt":    "data",
		"docs/readme.md":  "ignored",
		"tmp.log":         "ignored",
		"keep.log":        "kept by exception",
		".dockerignore":   "docs\n*.log\n!keep.log\n# comment\n",
		"Dockerfile.prod": "FROM scratch\n",
	})
}

func TestHashChangesWithEveryInput(t *testing.T) {
	dir := baseTree(t)
	base := Spec{Dir: dir, Args: map[string]string{"A": "1"}, Target: "t"}
	h0 := mustHash(t, base)
	if h1 := mustHash(t, base); h1 != h0 {
		t.Fatalf("hash not stable: %s vs %s", h0, h1)
	}
	for _, tc := range []struct {
		name   string
		change func(t *testing.T) Spec
	}{
		{"file content", func(t *testing.T) Spec {
			os.WriteFile(filepath.Join(dir, "app/main.txt"), []byte("hellO"), 0o644)
			return base
		}},
		{"file mode", func(t *testing.T) Spec {
			os.Chmod(filepath.Join(dir, "app/data.txt"), 0o755)
			return base
		}},
		{"new file", func(t *testing.T) Spec {
			os.WriteFile(filepath.Join(dir, "app/new.txt"), nil, 0o644)
			return base
		}},
		{"renamed file", func(t *testing.T) Spec {
			os.Rename(filepath.Join(dir, "app/new.txt"), filepath.Join(dir, "app/new2.txt"))
			return base
		}},
		{"dockerfile content", func(t *testing.T) Spec {
			os.WriteFile(filepath.Join(dir, "Dockerfile"), []byte("FROM scratch\n"), 0o644)
			return base
		}},
		{"dockerfile path", func(t *testing.T) Spec { s := base; s.Dockerfile = "Dockerfile.prod"; return s }},
		{"arg value", func(t *testing.T) Spec { s := base; s.Args = map[string]string{"A": "2"}; return s }},
		{"arg name", func(t *testing.T) Spec { s := base; s.Args = map[string]string{"B": "1"}; return s }},
		{"target", func(t *testing.T) Spec { s := base; s.Target = "u"; return s }},
		{"dockerignore itself", func(t *testing.T) Spec {
			os.WriteFile(filepath.Join(dir, ".dockerignore"), []byte("docs\n*.log\n!keep.log\n"), 0o644)
			return base
		}},
		{"symlink", func(t *testing.T) Spec {
			if err := os.Symlink("app/main.txt", filepath.Join(dir, "link")); err != nil {
				t.Fatal(err)
			}
			return base
		}},
		{"kept by exception", func(t *testing.T) Spec {
			os.WriteFile(filepath.Join(dir, "keep.log"), []byte("changed"), 0o644)
			return base
		}},
	} {
		prev := mustHash(t, base)
		s := tc.change(t)
		if h := mustHash(t, s); h == prev {
			t.Errorf("%s: hash did not change (%s)", tc.name, h)
		}
	}
}

func TestHashIgnoresDockerignoredFilesAndTimes(t *testing.T) {
	dir := baseTree(t)
	s := Spec{Dir: dir}
	h0 := mustHash(t, s)
	os.WriteFile(filepath.Join(dir, "docs/readme.md"), []byte("changed"), 0o644)
	os.WriteFile(filepath.Join(dir, "docs/more.md"), []byte("new"), 0o644)
	os.WriteFile(filepath.Join(dir, "tmp.log"), []byte("changed"), 0o644)
	os.WriteFile(filepath.Join(dir, "other.log"), []byte("new"), 0o644)
	if h := mustHash(t, s); h != h0 {
		t.Errorf("ignored files changed the hash")
	}
	// A fresh copy of the same tree (other times) hashes the same.
	if h := mustHash(t, Spec{Dir: baseTree(t)}); h != h0 {
		t.Errorf("same tree, other mtimes: hash differs")
	}
}

func TestTarHoldsWhatIsNotIgnored(t *testing.T) {
	dir := baseTree(t)
	var buf bytes.Buffer
	if err := WriteTar(Spec{Dir: dir}, &buf); err != nil {
		t.Fatal(err)
	}
	tr := tar.NewReader(&buf)
	var names []string
	for {
		h, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		names = append(names, h.Name)
		if h.Name == "app/main.txt" {
			b, _ := io.ReadAll(tr)
			if string(b) != "hello" || h.Mode != 0o644 {
				t.Errorf("app/main.txt: %q mode %o", b, h.Mode)
			}
		}
	}
	want := []string{".dockerignore", "Dockerfile", "Dockerfile.prod", "app/", "app/data.txt", "app/main.txt", "keep.log"}
	if !slices.Equal(names, want) {
		t.Errorf("tar has %v, want %v", names, want)
	}
}

func TestDockerfileAlwaysSentEvenIfIgnored(t *testing.T) {
	dir := writeTree(t, map[string]string{"Dockerfile": "FROM scratch\n", ".dockerignore": "*\n", "a": "x"})
	var buf bytes.Buffer
	if err := WriteTar(Spec{Dir: dir}, &buf); err != nil {
		t.Fatal(err)
	}
	tr := tar.NewReader(&buf)
	var names []string
	for h, err := tr.Next(); err == nil; h, err = tr.Next() {
		names = append(names, h.Name)
	}
	if !slices.Equal(names, []string{".dockerignore", "Dockerfile"}) {
		t.Errorf("got %v", names)
	}
}

func TestContextErrorsNameThePath(t *testing.T) {
	dir := writeTree(t, map[string]string{"file": "x"})
	for _, tc := range []struct {
		spec   Spec
		path   string
		reason string
	}{
		{Spec{Dir: filepath.Join(dir, "missing")}, filepath.Join(dir, "missing"), "does not exist"},
		{Spec{Dir: filepath.Join(dir, "file")}, filepath.Join(dir, "file"), "not a directory"},
		{Spec{Dir: dir}, filepath.Join(dir, "Dockerfile"), "no Dockerfile"},
	} {
		_, err := Hash(tc.spec)
		var ce *ContextError
		if !errors.As(err, &ce) || ce.Path != tc.path || !strings.Contains(ce.Reason, tc.reason) {
			t.Errorf("%+v: got %v, want path %s reason %q", tc.spec, err, tc.path, tc.reason)
		}
	}
}

func TestIgnorePatterns(t *testing.T) {
	for _, tc := range []struct {
		rules string
		path  string
		want  bool
	}{
		{"*.go", "main.go", true},
		{"*.go", "pkg/main.go", false},
		{"**/*.go", "pkg/main.go", true},
		{"**/*.go", "main.go", true},
		{"node_modules", "node_modules/a/b.js", true},
		{"/build", "build/x", true},
		{"a/**/b", "a/x/y/b", true},
		{"a/**/b", "a/b", true},
		{"?.txt", "ab.txt", false},
		{"[ab].txt", "a.txt", true},
		{"*\n!keep", "keep", false},
		{"*\n!keep\nkeep", "keep", true},
	} {
		ig, err := ParseIgnore(strings.NewReader(tc.rules))
		if err != nil {
			t.Fatal(err)
		}
		if got := ig.Excluded(tc.path); got != tc.want {
			t.Errorf("rules %q path %s: excluded=%v, want %v", tc.rules, tc.path, got, tc.want)
		}
	}
}

func TestFingerprintFollowsMetadata(t *testing.T) {
	dir := baseTree(t)
	s := Spec{Dir: dir}
	f0, err := Fingerprint(s)
	if err != nil {
		t.Fatal(err)
	}
	if f1, _ := Fingerprint(s); f1 != f0 {
		t.Fatal("fingerprint not stable")
	}
	os.WriteFile(filepath.Join(dir, "app/main.txt"), []byte("longer content"), 0o644)
	if f1, _ := Fingerprint(s); f1 == f0 {
		t.Error("size change did not change the fingerprint")
	}
}
