package docker

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/moby/moby/client"

	"berth.dev/berth/internal/buildctx"
	"berth.dev/berth/internal/governor"
)

// buildTree writes a FROM scratch context: nothing to pull, nothing to run.
func buildTree(t *testing.T, dockerfile string, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	files["Dockerfile"] = dockerfile
	for name, content := range files {
		p := filepath.Join(dir, name)
		os.MkdirAll(filepath.Dir(p), 0o755)
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

func buildSpecFor(t *testing.T, dir, service string) BuildSpec {
	t.Helper()
	s := buildctx.Spec{Dir: dir}
	h, err := buildctx.Hash(s)
	if err != nil {
		t.Fatal(err)
	}
	return BuildSpec{Context: s, Tag: "berth-build-" + testPrefix + "/" + service + ":" + h[:16], Hash: h}
}

func removeBuilt(t *testing.T, c *Client, ref string) {
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		if err := c.RemoveBuiltImage(ctx, ref); err != nil && !IsNotFound(err) {
			t.Errorf("remove %s: %v", ref, err)
		}
	})
}

func TestBuildImageOnlyWhenTheContextChanges(t *testing.T) {
	needDocker(t)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	c := newTestClient(t, dockerHost, governor.ProfileCI)
	dir := buildTree(t, "FROM scratch\nCOPY hello.txt /hello.txt\nLABEL stage=one\n", map[string]string{"hello.txt": "hi", ".dockerignore": "junk\n", "junk": "x"})

	spec := buildSpecFor(t, dir, "web")
	removeBuilt(t, c, spec.Tag)
	out := buildctx.NewTail(64 << 10)
	b1, err := c.BuildImage(ctx, spec, out)
	if err != nil {
		t.Fatal(err)
	}
	if b1.Skipped || b1.ImageID == "" {
		t.Fatalf("first build: %+v", b1)
	}
	if log, _ := out.Bytes(); !strings.Contains(string(log), "COPY hello.txt") {
		t.Errorf("build output not captured: %q", log)
	}
	builds := func() int64 { return c.Stats().ByOp["image_build"].Calls }
	if n := builds(); n != 1 {
		t.Fatalf("image_build calls = %d, want 1", n)
	}

	// Same content (an ignored file changed): same tag, no build.
	os.WriteFile(filepath.Join(dir, "junk"), []byte("changed"), 0o644)
	again := buildSpecFor(t, dir, "web")
	if again.Tag != spec.Tag {
		t.Fatalf("ignored file changed the tag: %s vs %s", again.Tag, spec.Tag)
	}
	b2, err := c.BuildImage(ctx, again, nil)
	if err != nil || !b2.Skipped || b2.ImageID != b1.ImageID || builds() != 1 {
		t.Fatalf("second build: %+v %v, builds %d", b2, err, builds())
	}

	// A real change: new tag, a build.
	os.WriteFile(filepath.Join(dir, "hello.txt"), []byte("hello"), 0o644)
	changed := buildSpecFor(t, dir, "web")
	removeBuilt(t, c, changed.Tag)
	if changed.Tag == spec.Tag {
		t.Fatal("content change kept the tag")
	}
	b3, err := c.BuildImage(ctx, changed, nil)
	if err != nil || b3.Skipped || b3.ImageID == b1.ImageID || builds() != 2 {
		t.Fatalf("third build: %+v %v, builds %d", b3, err, builds())
	}

	// The image carries berth's labels and is listed as built.
	imgs, err := c.BuiltImages(ctx)
	if err != nil {
		t.Fatal(err)
	}
	found := 0
	for _, im := range imgs {
		if im.ID == b1.ImageID || im.ID == b3.ImageID {
			found++
			if im.Hash == "" {
				t.Errorf("image %s has no build hash", im.ID)
			}
		}
	}
	if found != 2 {
		t.Errorf("BuiltImages found %d of 2: %+v", found, imgs)
	}
}

func TestBuildFailureIsReportedWithItsOutputBounded(t *testing.T) {
	needDocker(t)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	c := newTestClient(t, dockerHost, governor.ProfileCI)
	// A lot of output, then failure. FROM scratch cannot RUN, so the
	// output is the daemon's own: it echoes every step, and one LABEL
	// step of a hundred long labels is 9 KB of it in one build step (a
	// step per label made the legacy builder commit 300 layers, minutes
	// on a loaded machine).
	labels := make([]string, 100)
	for i := range labels {
		labels[i] = fmt.Sprintf("x%d=%s", i, strings.Repeat("y", 80))
	}
	dir := buildTree(t, "FROM scratch\nLABEL "+strings.Join(labels, " \\\n  ")+"\nCOPY missing.txt /\n", map[string]string{})
	spec := buildSpecFor(t, dir, "bad")
	removeBuilt(t, c, spec.Tag)
	out := buildctx.NewTail(4 << 10)
	_, err := c.BuildImage(ctx, spec, out)
	if err == nil {
		t.Fatal("build of a missing file succeeded")
	}
	if !strings.Contains(err.Error(), "missing.txt") {
		t.Errorf("error does not name the failure: %v", err)
	}
	log, truncated := out.Bytes()
	if len(log) > 4<<10 || !truncated {
		t.Errorf("kept %d bytes, truncated=%v", len(log), truncated)
	}
	if last := out.LastLines(3); !strings.Contains(last, "missing.txt") {
		t.Errorf("last lines: %q", last)
	}
	if n := c.Stats().ByOp["image_build"].Calls; n != 1 {
		t.Errorf("a failed build was retried: %d calls", n)
	}
	_ = client.ImageRemoveOptions{}
}

func TestRemoveBuiltImageLeavesOtherImages(t *testing.T) {
	needDocker(t)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	c := newTestClient(t, dockerHost, governor.ProfileCI)
	if err := c.RemoveBuiltImage(ctx, testImage); !IsNotOwned(err) {
		t.Fatalf("removing an image berth did not build: %v", err)
	}
	if _, err := raw.ImageInspect(ctx, testImage); err != nil {
		t.Fatalf("decoy image gone: %v", err)
	}
}
