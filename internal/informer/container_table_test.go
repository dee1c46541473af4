package informer

import (
	"testing"

	"berth.dev/berth/internal/docker"
)

// The indexes follow every put and remove: a rename, a container whose
// Environment label changed, a removal.
func TestContainerTableIndexes(t *testing.T) {
	tab := newContainerTable()
	tab.put(&docker.Container{ID: "a", Name: "demo-web", Environment: "demo"})
	tab.put(&docker.Container{ID: "b", Name: "demo-db", Environment: "demo"})
	tab.put(&docker.Container{ID: "c", Name: "other-web", Environment: "other"})

	if c, ok := tab.lookup("demo-db"); !ok || c.ID != "b" {
		t.Fatalf("lookup by name: %v %v", c, ok)
	}
	if c, ok := tab.lookup("c"); !ok || c.Name != "other-web" {
		t.Fatalf("lookup by ID: %v %v", c, ok)
	}
	if n := len(tab.ofEnvironment("demo")); n != 2 {
		t.Fatalf("demo has %d containers, want 2", n)
	}

	// Renamed and moved to another Environment.
	tab.put(&docker.Container{ID: "b", Name: "other-db", Environment: "other"})
	if _, ok := tab.lookup("demo-db"); ok {
		t.Error("the old name still finds the container")
	}
	if c, ok := tab.lookup("other-db"); !ok || c.ID != "b" {
		t.Errorf("the new name: %v %v", c, ok)
	}
	if n, m := len(tab.ofEnvironment("demo")), len(tab.ofEnvironment("other")); n != 1 || m != 2 {
		t.Errorf("demo %d, other %d, want 1 and 2", n, m)
	}

	tab.remove("a")
	if _, ok := tab.lookup("demo-web"); ok {
		t.Error("a removed container is still found by name")
	}
	if _, ok := tab.byEnv["demo"]; ok {
		t.Error("an Environment without containers is still indexed")
	}
	// A name taken over by a newer container is not dropped when the
	// older record goes.
	tab.put(&docker.Container{ID: "d", Name: "other-web", Environment: "other"})
	tab.remove("c")
	if c, ok := tab.lookup("other-web"); !ok || c.ID != "d" {
		t.Errorf("the name's current holder: %v %v", c, ok)
	}
	if tab.len() != 2 {
		t.Errorf("len %d, want 2", tab.len())
	}
}
