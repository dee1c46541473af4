package docker

import (
	"testing"

	"github.com/spf13/pflag"

	"berth.dev/berth/internal/governor"
)

func TestBindFlags(t *testing.T) {
	t.Setenv("DOCKER_HOST", "unix:///tmp/x.sock")
	cfg := DefaultConfig()
	fs := pflag.NewFlagSet("m", pflag.ContinueOnError)
	cfg.BindFlags(fs)
	if cfg.Host != "unix:///tmp/x.sock" || cfg.Profile != governor.ProfileAdaptive {
		t.Fatalf("defaults = %+v", cfg)
	}
	err := fs.Parse([]string{"--docker-host", "unix:///run/d.sock", "--docker-profile", "desktop", "--docker-max-inflight", "2", "--docker-qps", "1.5"})
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Host != "unix:///run/d.sock" || cfg.Profile != governor.ProfileDesktop || cfg.MaxInFlight != 2 || cfg.QPS != 1.5 {
		t.Fatalf("parsed = %+v", cfg)
	}
	if err := fs.Parse([]string{"--docker-profile", "fast"}); err == nil {
		t.Fatal("unknown profile accepted by the flag")
	}
	cfg.ManagerID = "berth-abc"
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	cfg.ManagerID = ""
	if err := cfg.Validate(); err == nil {
		t.Fatal("missing manager id accepted")
	}
}
