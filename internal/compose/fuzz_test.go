package compose

import (
	"context"
	"os"
	"path/filepath"
	"testing"
)

// FuzzLoad feeds Load arbitrary compose files: it must return an
// Environment or an error, never panic.
func FuzzLoad(f *testing.F) {
	for _, seed := range []string{"mapped", "refused", "values", "overlay", "profiles"} {
		data, err := os.ReadFile(filepath.Join("testdata", seed, "docker-compose.yml"))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	f.Add([]byte("services:\n  web:\n    image: x\n    ports: [\"1-2:3-4/udp\"]\n    tmpfs: /a:size=0\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		dir := t.TempDir()
		p := filepath.Join(dir, "docker-compose.yml")
		if err := os.WriteFile(p, data, 0o600); err != nil {
			t.Fatal(err)
		}
		env, err := Load(context.Background(), Options{Files: []string{p}, Name: "fuzz", Environ: []string{}})
		if err == nil && env == nil {
			t.Fatal("Load returned neither an Environment nor an error")
		}
	})
}
