package docker

import (
	"archive/tar"
	"bytes"
	"io"
	"testing"
)

// TestFileArchive: only regular files, rooted at /, with the asked mode and
// owner; no directory entries (they would reset an existing directory's
// mode and owner, /run or /tmp); bad paths refused.
func TestFileArchive(t *testing.T) {
	data, err := fileArchive([]FileSpec{
		{Path: "/run/secrets/token", Mode: 0o400, UID: 999, GID: 998, Content: []byte("x")},
		{Path: "/etc/app.conf", Mode: 0o4755, Content: []byte("conf")},
	})
	if err != nil {
		t.Fatal(err)
	}
	tr := tar.NewReader(bytes.NewReader(data))
	var got []tar.Header
	for {
		h, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, *h)
	}
	if len(got) != 2 {
		t.Fatalf("entries: %+v", got)
	}
	if h := got[0]; h.Name != "run/secrets/token" || h.Typeflag != tar.TypeReg || h.Mode != 0o400 || h.Uid != 999 || h.Gid != 998 || h.Size != 1 {
		t.Errorf("secret entry: %+v", h)
	}
	if h := got[1]; h.Mode != 0o755 {
		t.Errorf("setuid bit must be dropped: %#o", h.Mode)
	}
	for _, p := range []string{"relative", "/a/../b", "/"} {
		if _, err := fileArchive([]FileSpec{{Path: p}}); err == nil {
			t.Errorf("path %q accepted", p)
		}
	}
}
