package controllers

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"berth.dev/berth/apis/v1alpha1"
	"berth.dev/berth/controllers/plan"
)

// TestReadHost: path-based files and secrets are read, hostPath volumes
// resolved, and every failure recorded by path with its reason, once as a
// Warning event, and as the reconcile's error (the workqueue's back-off).
func TestReadHost(t *testing.T) {
	root := t.TempDir()
	if err := os.WriteFile(filepath.Join(root, "app.conf"), []byte("ok"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink("/etc/hostname", filepath.Join(root, "escape")); err != nil {
		t.Fatal(err)
	}
	env := &v1alpha1.Environment{}
	env.Spec.Files = []v1alpha1.File{{Name: "a", Path: filepath.Join(root, "app.conf")}, {Name: "b", Path: filepath.Join(root, "missing")}}
	env.Spec.Secrets = []v1alpha1.Secret{{Name: "s", Path: filepath.Join(root, "escape")}, {Name: "inline", Content: "x"}}
	env.Spec.Volumes = []v1alpha1.Volume{{Name: "d", HostPath: &v1alpha1.HostPathVolumeSource{Path: root}}, {Name: "named"}}

	h := readHost(env, []string{root})
	if string(h.Files[filepath.Join(root, "app.conf")]) != "ok" {
		t.Errorf("file not read: %v", h.Files)
	}
	if _, ok := h.Paths[root]; !ok {
		t.Errorf("host path not resolved: %v", h.Paths)
	}
	if msg := h.Errors[filepath.Join(root, "missing")]; !strings.Contains(msg, "no such file") {
		t.Errorf("missing file: %q", msg)
	}
	if msg := h.Errors[filepath.Join(root, "escape")]; !strings.Contains(msg, "not under a directory the manager allows") {
		t.Errorf("link out of the root: %q", msg)
	}
	if len(h.Errors) != 2 {
		t.Errorf("errors: %v", h.Errors)
	}
	now := time.Unix(1000, 0)
	events := hostErrorEvents(h, nil, now)
	if len(events) != 2 || events[0].Type != plan.EventWarning || events[0].Reason != "HostPathUnavailable" || !strings.Contains(events[0].Message, root) {
		t.Errorf("events: %+v", events)
	}
	if again := hostErrorEvents(h, events, now); len(again) != 0 {
		t.Errorf("the same failure is reported once, got again: %+v", again)
	}
	if err := hostError(h); err == nil || !strings.Contains(err.Error(), "2 host path(s) unavailable") {
		t.Errorf("hostError: %v", err)
	}

	if h := readHost(&v1alpha1.Environment{}, nil); h.Files != nil || hostError(h) != nil {
		t.Errorf("a spec without host paths reads nothing: %+v", h)
	}
	if h := readHost(env, nil); len(h.Errors) != 4 || !strings.Contains(h.Errors[root], "--allow-host-path") {
		t.Errorf("no roots: every path refused: %v", h.Errors)
	}
}
