package controllers

import (
	"sync"

	"berth.dev/berth/apis/v1alpha1"
)

// writtenMemory remembers the Environment each of this controller's writes
// returned until the lister has caught up with it. A reconcile that runs
// before the watch event of the controller's own last write (a Docker
// event, a requeue) would otherwise start from the copy before that write:
// its next write fails with a conflict, and the recovery costs a read and
// a second write. Only versions this controller's own writes replaced are
// overridden: when anyone else wrote, the lister's copy is news and wins.
// Resource versions are compared for equality only (they are opaque).
type writtenMemory struct {
	mu sync.Mutex
	m  map[string]writtenEntry
}

type writtenEntry struct {
	obj *v1alpha1.Environment
	// replaced holds the resource versions this controller's writes
	// replaced, from the last one the lister showed on.
	replaced map[string]bool
}

func newWrittenMemory() *writtenMemory {
	return &writtenMemory{m: map[string]writtenEntry{}}
}

// record notes that a write turned before into after (the object the API
// server returned).
func (w *writtenMemory) record(before, after *v1alpha1.Environment) {
	if before == nil || after == nil {
		return
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	e, ok := w.m[after.Name]
	if !ok || e.obj.UID != after.UID || e.obj.ResourceVersion != before.ResourceVersion {
		// A chain of this controller's writes starts (again) here.
		e = writtenEntry{replaced: map[string]bool{}}
	}
	e.replaced[before.ResourceVersion] = true
	e.obj = after
	w.m[after.Name] = e
}

// fresher returns what to reconcile from: the last written copy while the
// listed one is a version that write chain replaced, else listed (and the
// memory of name is dropped: the lister has caught up, or someone else
// wrote since). The result is shared: callers copy before changing it.
func (w *writtenMemory) fresher(listed *v1alpha1.Environment) *v1alpha1.Environment {
	w.mu.Lock()
	defer w.mu.Unlock()
	e, ok := w.m[listed.Name]
	if !ok {
		return listed
	}
	if e.obj.UID == listed.UID && e.replaced[listed.ResourceVersion] {
		return e.obj
	}
	delete(w.m, listed.Name)
	return listed
}

func (w *writtenMemory) forget(name string) {
	w.mu.Lock()
	defer w.mu.Unlock()
	delete(w.m, name)
}
