package compose

import (
	"context"
	"errors"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	sigsyaml "sigs.k8s.io/yaml"

	"berth.dev/berth/apis/v1alpha1"
)

// update rewrites the want.yaml files from what Load returns; review the
// diff before committing it.
var update = flag.Bool("update", false, "rewrite testdata/*/want*.yaml")

// load runs Load on files under testdata/dir with a fixed environment, so
// the shell running the tests changes nothing.
func load(t *testing.T, dir string, o Options, files ...string) (*v1alpha1.Environment, error) {
	t.Helper()
	for _, f := range files {
		o.Files = append(o.Files, filepath.Join("testdata", dir, f))
	}
	if o.Environ == nil {
		o.Environ = []string{}
	}
	return Load(context.Background(), o)
}

// checkGolden compares env, as YAML with the testdata directory written
// $DIR, with testdata/dir/name.
func checkGolden(t *testing.T, env *v1alpha1.Environment, dir, name string) {
	t.Helper()
	obj, err := Manifest(env)
	if err != nil {
		t.Fatal(err)
	}
	got, err := sigsyaml.Marshal(obj)
	if err != nil {
		t.Fatal(err)
	}
	abs, err := filepath.Abs(filepath.Join("testdata", dir))
	if err != nil {
		t.Fatal(err)
	}
	gotText := strings.ReplaceAll(string(got), abs, "$DIR")
	golden := filepath.Join("testdata", dir, name)
	if *update {
		if err := os.WriteFile(golden, []byte(gotText), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatalf("%v (go test ./internal/compose -run %s -update writes it)", err, t.Name())
	}
	if d := cmp.Diff(string(want), gotText); d != "" {
		t.Errorf("%s differs (-want +got):\n%s", golden, d)
	}
}

func TestLoadGolden(t *testing.T) {
	for _, tc := range []struct {
		name, dir, golden string
		files             []string
		o                 Options
	}{
		// Every mapped attribute; API_KEY feeds a secret's environment:.
		{name: "mapped", dir: "mapped", golden: "want.yaml", files: []string{"docker-compose.yml"},
			o: Options{Environ: []string{"API_KEY=k3y"}}},
		// The second file overlays the first, as docker compose -f a -f b.
		{name: "overlay", dir: "overlay", golden: "want.yaml", files: []string{"docker-compose.yml", "docker-compose.test.yml"}},
		// ${VAR}, ${VAR:-default} and .env; the environment wins over .env.
		{name: "interpolation", dir: "interp", golden: "want.yaml", files: []string{"docker-compose.yml"},
			o: Options{Environ: []string{"BOTH=from-shell", "PASSED_THROUGH=passed", "TAG=v2"}}},
		// --env-file replaces .env (so COMPOSE_PROJECT_NAME is not set,
		// and the name is the directory's).
		{name: "env-file flag", dir: "interp", golden: "want-env-file.yaml", files: []string{"docker-compose.yml"},
			o: Options{EnvFiles: []string{"testdata/interp/other.env"}}},
		{name: "env_file", dir: "envfile", golden: "want.yaml", files: []string{"docker-compose.yml"}},
		{name: "extends", dir: "extends", golden: "want.yaml", files: []string{"docker-compose.yml"}},
		// The included file's relative paths are against its own directory.
		{name: "include", dir: "include", golden: "want.yaml", files: []string{"docker-compose.yml"}},
		// Without --profile, debug (and its network_mode) is left out, and
		// web's optional dependency on it is dropped.
		{name: "profiles off", dir: "profiles", golden: "want.yaml", files: []string{"docker-compose.yml"}},
		{name: "name flag", dir: "overlay", golden: "want-name.yaml", files: []string{"docker-compose.yml"},
			o: Options{Name: "ci-42"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			env, err := load(t, tc.dir, tc.o, tc.files...)
			if err != nil {
				t.Fatal(err)
			}
			checkGolden(t, env, tc.dir, tc.golden)
		})
	}
}

func TestProfileEnablesService(t *testing.T) {
	_, err := load(t, "profiles", Options{Profiles: []string{"debug"}}, "docker-compose.yml")
	var refused *RefusedError
	if !errors.As(err, &refused) {
		t.Fatalf("Load with --profile debug = %v, want the refusal of debug's network_mode", err)
	}
	want := []Refusal{{Path: "services.debug.network_mode", Reason: "an Environment never shares the host's or another container's network"}}
	if d := cmp.Diff(want, refused.Refusals); d != "" {
		t.Errorf("refusals (-want +got):\n%s", d)
	}
}

// TestRefusedListsEveryAttribute checks the whole list, with each
// message exactly as the user reads it.
func TestRefusedListsEveryAttribute(t *testing.T) {
	_, err := load(t, "refused", Options{}, "docker-compose.yml")
	var refused *RefusedError
	if !errors.As(err, &refused) {
		t.Fatalf("Load = %v, want a *RefusedError", err)
	}
	var got []string
	for _, r := range refused.Refusals {
		got = append(got, r.String())
	}
	want := []string{
		"networks.default.ipam: not supported: berth carves subnets from the engine's address pools",
		"services.api.networks.other.ipv4_address: not supported: Docker assigns addresses on berth's networks",
		"services.web.build.labels: not supported: berth labels the images it builds itself (berth.dev/build-hash); put image labels in the Dockerfile's LABEL",
		"services.web.build.ssh: not supported: berth's builds forward no SSH agent",
		"services.web.container_name: not supported: berth names containers itself (berth_<env>_<service>), so environments never collide",
		"services.web.devices: not supported: host devices reach the host; use privileged where the manager allows it",
		"services.web.healthcheck.start_interval: not supported: not in the Environment API; Docker checks at interval during the start period",
		"services.web.hostname: not supported: berth sets no container hostname; services reach each other by service name and network aliases",
		"services.web.logging: not supported: berth reads container output through the engine's default log driver",
		"services.web.network_mode: not supported: an Environment never shares the host's or another container's network",
		"services.web.pid: not supported: an Environment never shares the host's or another container's process namespace",
		"services.web.tty: not supported: berth runs services without a terminal; `berth logs` reads their output",
		"services.web.volumes[].bind.propagation: not supported: mount propagation reaches the host",
		"volumes.data.external: not supported: an Environment owns its volumes and never mounts one it did not create",
	}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("refusals (-want +got):\n%s", d)
	}
	if !strings.Contains(err.Error(), "14 compose attribute(s) not supported\n  networks.default.ipam: not supported:") {
		t.Errorf("error text = %q", err)
	}
}
