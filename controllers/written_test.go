package controllers

import (
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"

	"berth.dev/berth/apis/v1alpha1"
)

func envAt(uid, rv string) *v1alpha1.Environment {
	return &v1alpha1.Environment{ObjectMeta: metav1.ObjectMeta{Name: "e", UID: types.UID(uid), ResourceVersion: rv}}
}

func TestWrittenMemoryOverridesOnlyVersionsItsWritesReplaced(t *testing.T) {
	w := newWrittenMemory()
	if got := w.fresher(envAt("u", "1")); got.ResourceVersion != "1" {
		t.Fatalf("nothing written: got rv %s, want the listed 1", got.ResourceVersion)
	}
	// Two writes in a row: 1 → 2 → 3.
	w.record(envAt("u", "1"), envAt("u", "2"))
	w.record(envAt("u", "2"), envAt("u", "3"))
	for _, listed := range []string{"1", "2"} {
		if got := w.fresher(envAt("u", listed)); got.ResourceVersion != "3" {
			t.Errorf("lister at %s, behind the writes: got rv %s, want the written 3", listed, got.ResourceVersion)
		}
	}
	// The lister caught up: its copy wins and the memory is dropped.
	if got := w.fresher(envAt("u", "3")); got.ResourceVersion != "3" {
		t.Fatalf("lister caught up: got rv %s", got.ResourceVersion)
	}
	if got := w.fresher(envAt("u", "2")); got.ResourceVersion != "2" {
		t.Errorf("after catching up the memory must be gone: got rv %s, want the listed 2", got.ResourceVersion)
	}
}

func TestWrittenMemoryYieldsToOtherWritersAndIncarnations(t *testing.T) {
	w := newWrittenMemory()
	w.record(envAt("u", "1"), envAt("u", "2"))
	// Someone else wrote after this controller: rv 7 is news.
	if got := w.fresher(envAt("u", "7")); got.ResourceVersion != "7" {
		t.Errorf("another writer's version: got rv %s, want the listed 7", got.ResourceVersion)
	}
	w.record(envAt("u", "1"), envAt("u", "2"))
	// Deleted and created again under the same name.
	if got := w.fresher(envAt("v", "1")); got.UID != "v" {
		t.Errorf("another incarnation: got uid %s, want the listed v", got.UID)
	}
	// A write based on a copy the chain did not produce starts a new
	// chain: the old chain's versions are no longer overridden.
	w.record(envAt("u", "1"), envAt("u", "2"))
	w.record(envAt("u", "5"), envAt("u", "6"))
	if got := w.fresher(envAt("u", "1")); got.ResourceVersion != "1" {
		t.Errorf("old chain: got rv %s, want the listed 1", got.ResourceVersion)
	}
	w.record(envAt("u", "5"), envAt("u", "6"))
	w.forget("e")
	if got := w.fresher(envAt("u", "5")); got.ResourceVersion != "5" {
		t.Errorf("forgotten: got rv %s, want the listed 5", got.ResourceVersion)
	}
}
