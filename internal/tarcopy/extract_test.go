package tarcopy

import (
	"archive/tar"
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// entry is one tar entry of a hand-made archive.
type entry struct {
	name, link, body string
	typ              byte
	mode             int64
}

func archive(t *testing.T, entries ...entry) *bytes.Reader {
	t.Helper()
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for _, e := range entries {
		mode := e.mode
		if mode == 0 {
			mode = 0o644
		}
		hdr := &tar.Header{Name: e.name, Linkname: e.link, Typeflag: e.typ, Mode: mode, Size: int64(len(e.body))}
		if e.typ != tar.TypeReg {
			hdr.Size = 0
		}
		if err := tw.WriteHeader(hdr); err != nil {
			t.Fatal(err)
		}
		if hdr.Size > 0 {
			if _, err := tw.Write([]byte(e.body)); err != nil {
				t.Fatal(err)
			}
		}
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	return bytes.NewReader(buf.Bytes())
}

// TestExtractRefusesHostileArchives: whatever a container's archive says,
// nothing lands outside the target directory.
func TestExtractRefusesHostileArchives(t *testing.T) {
	cases := map[string][]entry{
		"dot-dot file": {
			{name: "data/", typ: tar.TypeDir, mode: 0o755},
			{name: "data/../../escaped", typ: tar.TypeReg, body: "pwned"},
		},
		"absolute name": {
			{name: "/escaped", typ: tar.TypeReg, body: "pwned"},
		},
		"second root": {
			{name: "data/", typ: tar.TypeDir, mode: 0o755},
			{name: "escaped", typ: tar.TypeReg, body: "pwned"},
		},
		"write through a symlink to a directory outside": {
			{name: "data/", typ: tar.TypeDir, mode: 0o755},
			{name: "data/out", typ: tar.TypeSymlink, link: "../../outside"},
			{name: "data/out/escaped", typ: tar.TypeReg, body: "pwned"},
		},
		"write through an absolute symlink": {
			{name: "data/", typ: tar.TypeDir, mode: 0o755},
			{name: "data/out", typ: tar.TypeSymlink, link: "OUTSIDE"},
			{name: "data/out/escaped", typ: tar.TypeReg, body: "pwned"},
		},
		"symlink then a file of its name": {
			{name: "data/", typ: tar.TypeDir, mode: 0o755},
			{name: "data/f", typ: tar.TypeSymlink, link: "OUTSIDE/escaped"},
			{name: "data/f/", typ: tar.TypeDir, mode: 0o755},
		},
		"hard link to a file outside": {
			{name: "data/", typ: tar.TypeDir, mode: 0o755},
			{name: "data/h", typ: tar.TypeLink, link: "../victim"},
		},
		"hard link by absolute name": {
			{name: "data/", typ: tar.TypeDir, mode: 0o755},
			{name: "data/h", typ: tar.TypeLink, link: "OUTSIDE/victim"},
		},
	}
	for name, entries := range cases {
		t.Run(name, func(t *testing.T) {
			base := t.TempDir()
			target := filepath.Join(base, "target", "inner")
			outside := filepath.Join(base, "outside")
			for _, d := range []string{target, outside} {
				if err := os.MkdirAll(d, 0o755); err != nil {
					t.Fatal(err)
				}
			}
			victim := filepath.Join(base, "target", "victim")
			if err := os.WriteFile(victim, []byte("keep"), 0o600); err != nil {
				t.Fatal(err)
			}
			for i := range entries {
				entries[i].link = strings.ReplaceAll(entries[i].link, "OUTSIDE", outside)
			}
			_, err := Extract(archive(t, entries...), target, "")
			if err == nil {
				t.Errorf("Extract succeeded; want a refusal")
			}
			for _, p := range []string{filepath.Join(base, "escaped"), filepath.Join(base, "target", "escaped"), filepath.Join(outside, "escaped")} {
				if _, err := os.Lstat(p); err == nil {
					t.Errorf("%s was written outside the target", p)
				}
			}
			if b, _ := os.ReadFile(victim); string(b) != "keep" {
				t.Errorf("victim file changed: %q", b)
			}
		})
	}
}

// TestExtractKeepsModesAndRenames: a normal archive lands under the new
// name with its modes; a read-only directory still gets its files.
func TestExtractKeepsModesAndRenames(t *testing.T) {
	dir := t.TempDir()
	a := archive(t,
		entry{name: "data/", typ: tar.TypeDir, mode: 0o555},
		entry{name: "data/run.sh", typ: tar.TypeReg, body: "#!", mode: 0o751},
		entry{name: "data/sub/", typ: tar.TypeDir, mode: 0o700},
		entry{name: "data/sub/f", typ: tar.TypeReg, body: "f", mode: 0o600},
		entry{name: "data/link", typ: tar.TypeSymlink, link: "run.sh"},
		entry{name: "data/hard", typ: tar.TypeLink, link: "data/sub/f"},
		entry{name: "data/fifo", typ: tar.TypeFifo},
	)
	sum, err := Extract(a, dir, "copy")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = os.Chmod(filepath.Join(dir, "copy"), 0o755) })
	for p, want := range map[string]os.FileMode{"copy": 0o555 | os.ModeDir, "copy/run.sh": 0o751, "copy/sub": 0o700 | os.ModeDir, "copy/sub/f": 0o600} {
		fi, err := os.Lstat(filepath.Join(dir, p))
		if err != nil {
			t.Errorf("%s: %v", p, err)
			continue
		}
		if fi.Mode() != want {
			t.Errorf("%s: mode %v, want %v", p, fi.Mode(), want)
		}
	}
	if l, err := os.Readlink(filepath.Join(dir, "copy", "link")); err != nil || l != "run.sh" {
		t.Errorf("symlink: %q, %v", l, err)
	}
	if b, err := os.ReadFile(filepath.Join(dir, "copy", "hard")); err != nil || string(b) != "f" {
		t.Errorf("hard link: %q, %v", b, err)
	}
	if sum.Files != 2 || sum.Dirs != 2 || sum.Links != 2 || len(sum.Skipped) != 1 {
		t.Errorf("summary %+v", sum)
	}
}

// TestExtractReplacesAFileNotThroughALink: an existing symlink in the
// target named like an archive file is replaced, not written through.
func TestExtractReplacesAFileNotThroughALink(t *testing.T) {
	base := t.TempDir()
	target := filepath.Join(base, "t")
	if err := os.MkdirAll(target, 0o755); err != nil {
		t.Fatal(err)
	}
	victim := filepath.Join(base, "victim")
	if err := os.WriteFile(victim, []byte("keep"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(victim, filepath.Join(target, "f")); err != nil {
		t.Fatal(err)
	}
	if _, err := Extract(archive(t, entry{name: "f", typ: tar.TypeReg, body: "new"}), target, ""); err != nil {
		t.Fatal(err)
	}
	if b, _ := os.ReadFile(victim); string(b) != "keep" {
		t.Errorf("written through the symlink: victim is %q", b)
	}
	if b, _ := os.ReadFile(filepath.Join(target, "f")); string(b) != "new" {
		t.Errorf("target file is %q, want new", b)
	}
}

// TestPackRenameExtractRoundTrip: Pack, then Rename (what the manager does
// for a destination that does not exist), then Extract.
func TestPackRenameExtractRoundTrip(t *testing.T) {
	src := filepath.Join(t.TempDir(), "src")
	if err := os.MkdirAll(filepath.Join(src, "d"), 0o750); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(src, "d", "x"), []byte("x"), 0o640); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink("d/x", filepath.Join(src, "l")); err != nil {
		t.Fatal(err)
	}
	var packed, renamed bytes.Buffer
	if err := Pack(&packed, src, "src"); err != nil {
		t.Fatal(err)
	}
	isDir, err := Rename(&packed, &renamed, "dst")
	if err != nil || !isDir {
		t.Fatalf("Rename: dir %v, %v", isDir, err)
	}
	out := t.TempDir()
	if _, err := Extract(&renamed, out, ""); err != nil {
		t.Fatal(err)
	}
	if b, err := os.ReadFile(filepath.Join(out, "dst", "d", "x")); err != nil || string(b) != "x" {
		t.Errorf("dst/d/x: %q, %v", b, err)
	}
	if fi, err := os.Stat(filepath.Join(out, "dst", "d")); err != nil || fi.Mode().Perm() != 0o750 {
		t.Errorf("dst/d mode: %v, %v", fi, err)
	}
	if l, _ := os.Readlink(filepath.Join(out, "dst", "l")); l != "d/x" {
		t.Errorf("dst/l -> %q", l)
	}
	if _, err := Rename(archive(t, entry{name: "a", typ: tar.TypeReg}, entry{name: "../b", typ: tar.TypeReg}), &bytes.Buffer{}, "x"); err == nil {
		t.Error("Rename passed a \"..\" entry")
	}
	for _, bad := range []string{"", ".", "..", "a/b"} {
		if _, err := Rename(&bytes.Buffer{}, &bytes.Buffer{}, bad); err == nil {
			t.Errorf("Rename to %q accepted", bad)
		}
	}
}
