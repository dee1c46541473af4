package docker

import (
	"os"
	"path/filepath"
	"sync"
	"testing"
)

func TestIdentityIsStableAndPrivate(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "data")
	id1, err := LoadOrCreateIdentity(dir)
	if err != nil {
		t.Fatal(err)
	}
	if err := validateIdentity(id1); err != nil {
		t.Fatalf("created identity invalid: %v", err)
	}
	id2, err := LoadOrCreateIdentity(dir)
	if err != nil || id2 != id1 {
		t.Fatalf("second load = %q, %v; want %q", id2, err, id1)
	}
	fi, err := os.Stat(filepath.Join(dir, IdentityFile))
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o600 {
		t.Fatalf("identity file mode %v, want 0600", fi.Mode().Perm())
	}
	other, err := LoadOrCreateIdentity(t.TempDir())
	if err != nil || other == id1 {
		t.Fatalf("another data dir got %q (%v), want a different identity", other, err)
	}
}

func TestIdentityRaceHasOneWinner(t *testing.T) {
	dir := t.TempDir()
	ids := make([]string, 8)
	var wg sync.WaitGroup
	for i := range ids {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			id, err := LoadOrCreateIdentity(dir)
			if err != nil {
				t.Error(err)
			}
			ids[i] = id
		}(i)
	}
	wg.Wait()
	for _, id := range ids {
		if id != ids[0] {
			t.Fatalf("concurrent creators disagree: %v", ids)
		}
	}
}

func TestIdentityCorruptFileIsAnError(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, IdentityFile), []byte("not a valid=id\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if id, err := LoadOrCreateIdentity(dir); err == nil {
		t.Fatalf("corrupt identity accepted as %q; replacing it would orphan every object", id)
	}
}
