package paths

import (
	"path/filepath"
	"testing"
)

func TestDefaultDataDir(t *testing.T) {
	tests := []struct {
		name string
		xdg  string
		home string
		want string
	}{
		{name: "xdg wins", xdg: "/xdg/data", home: "/home/u", want: "/xdg/data/berth"},
		{name: "no xdg falls back to home", xdg: "", home: "/home/u", want: "/home/u/.local/share/berth"},
		{name: "relative xdg is ignored", xdg: "rel/data", home: "/home/u", want: "/home/u/.local/share/berth"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Setenv("XDG_DATA_HOME", tt.xdg)
			t.Setenv("HOME", tt.home)
			got, err := DefaultDataDir()
			if err != nil {
				t.Fatalf("DefaultDataDir: %v", err)
			}
			if got != tt.want {
				t.Errorf("DefaultDataDir = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestDefaultDataDirWithoutHome(t *testing.T) {
	t.Setenv("XDG_DATA_HOME", "")
	t.Setenv("HOME", "")
	if got, err := DefaultDataDir(); err == nil {
		t.Fatalf("DefaultDataDir = %q, want an error without HOME or XDG_DATA_HOME", got)
	}
}

func TestKubeconfig(t *testing.T) {
	if got, want := Kubeconfig("/d"), filepath.Join("/d", "kubeconfig"); got != want {
		t.Errorf("Kubeconfig = %q, want %q", got, want)
	}
}

func TestDefaultCacheDir(t *testing.T) {
	t.Setenv("XDG_CACHE_HOME", "/xdg/cache")
	got, err := DefaultCacheDir()
	if err != nil {
		t.Fatalf("DefaultCacheDir: %v", err)
	}
	if got != "/xdg/cache/berth" {
		t.Errorf("DefaultCacheDir = %q, want /xdg/cache/berth", got)
	}
}
