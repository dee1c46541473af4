package compose

import (
	"context"
	"errors"
	"flag"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/compose-spec/compose-go/v2/cli"
	"github.com/compose-spec/compose-go/v2/loader"
	"github.com/google/go-cmp/cmp"
	"github.com/sirupsen/logrus"
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
			o: Options{Environ: []string{"API_KEY=k3y", "APP_MODE=fast"}}},
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
		"services.web.devices: not supported: host devices reach the host; use privileged where the manager allows it",
		"services.web.healthcheck.start_interval: not supported: not in the Environment API; Docker checks at interval during the start period",
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
	if !strings.Contains(err.Error(), "12 compose attribute(s) not supported\n  networks.default.ipam: not supported:") {
		t.Errorf("error text = %q", err)
	}
}

// TestRefusedValues covers attributes berth maps, given values it cannot
// honour: each is refused with its path, all in one error.
func TestRefusedValues(t *testing.T) {
	_, err := load(t, "values", Options{}, "docker-compose.yml")
	var refused *RefusedError
	if !errors.As(err, &refused) {
		t.Fatalf("Load = %v, want a *RefusedError", err)
	}
	var got []string
	for _, r := range refused.Refusals {
		got = append(got, r.String())
	}
	want := []string{
		`configs.from_env.environment: not supported: the variable NOT_SET_ANYWHERE is not set`,
		`networks.default.driver: not supported: "overlay": berth's networks are bridge networks`,
		`services.job.deploy.restart_policy.max_attempts: not supported: berth limits restarts of on-failure services only`,
		`services.many.ports: not supported: 201 ports (ranges count one each): a service publishes at most 100`,
		`services.my_db: not supported: berth's names are DNS-1123 labels (lower case letters, digits and '-', at most 40 characters): "my_db"`,
		`services.my_db.build.context: not supported: berth builds from a directory on the manager's host, not a URL: https://github.com/example/db.git`,
		`services.my_db.scale: not supported: 0 replicas: an Environment runs every service it lists (leave the service out with profiles)`,
		`services.web.command: not supported: an empty command (clearing the image's CMD) cannot be written in an Environment`,
		`services.web.depends_on.my_db.restart: not supported: berth does not restart a service when its dependency restarts`,
		`services.web.deploy.mode: not supported: "global": one engine is one node; berth runs replicated services`,
		`services.web.healthcheck.interval: not supported: 500ms: berth counts whole seconds`,
		`services.web.networks.default.use_service_name_alias: not supported: the service name is always a DNS name of the service`,
		`services.web.ports[0].published: not supported: "8000-8010": a published range lets Docker pick a port in it; berth publishes a fixed port, or a free one when published is left out`,
		`services.web.ports[1].protocol: not supported: "sctp": tcp or udp`,
		`services.web.ports[3]: not supported: container port 8080/TCP is already published by services.web.ports[2]; berth publishes a container port once`,
		`services.web.pull_policy: not supported: "daily": berth pulls Always, IfNotPresent (missing) or Never, not on a schedule`,
		`services.web.restart: not supported: "sometimes": no, always, unless-stopped or on-failure[:N]`,
		`services.web.stop_grace_period: not supported: 1.5s: berth counts whole seconds`,
		`services.web.tmpfs[1]: not supported: "/tmp:size=1m,mode=0700": option "mode=0700" is not in the Environment API (only size, and mode=1777, a tmpfs's default)`,
		`services.web.volumes[2].volume.nocopy: not supported: not in the Environment API: Docker copies the image's files into a new volume`,
		`volumes.data.driver: not supported: "nfs": berth's volumes use the local driver`,
	}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("refusals (-want +got):\n%s", d)
	}
}

func TestEnvironmentName(t *testing.T) {
	_, err := load(t, "overlay", Options{Name: "Bad_Name"}, "docker-compose.yml")
	if err == nil || !strings.Contains(err.Error(), `--name "Bad_Name" is not a valid Environment name`) {
		t.Errorf("Load with --name Bad_Name = %v", err)
	}
	dir := t.TempDir()
	f := filepath.Join(dir, "docker-compose.yml")
	if err := os.WriteFile(f, []byte("name: my_app\nservices:\n  web:\n    image: berth-testapp:dev\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	_, err = Load(context.Background(), Options{Files: []string{f}, Environ: []string{}})
	if err == nil || !strings.Contains(err.Error(), `the compose project name "my_app" is not a valid Environment name`) ||
		!strings.Contains(err.Error(), "--name") {
		t.Errorf("Load of project my_app = %v, want an error naming it and suggesting --name", err)
	}
	env, err := Load(context.Background(), Options{Files: []string{f}, Environ: []string{}, Name: "my-app"})
	if err != nil || env.Name != "my-app" {
		t.Errorf("Load with --name my-app = %v, %v", env, err)
	}
}

// TestValidationRunsOnTheResult: what Load returns is what the API server
// accepts, so an error the server would give comes from Load already.
func TestValidationRunsOnTheResult(t *testing.T) {
	dir := t.TempDir()
	f := filepath.Join(dir, "docker-compose.yml")
	data := "name: v\nservices:\n  web:\n    image: berth-testapp:dev\n    depends_on:\n      db: {condition: service_healthy}\n  db:\n    image: berth-testapp:dev\n"
	if err := os.WriteFile(f, []byte(data), 0o644); err != nil {
		t.Fatal(err)
	}
	_, err := Load(context.Background(), Options{Files: []string{f}, Environ: []string{}})
	if err == nil || !strings.Contains(err.Error(), `not valid:`) || !strings.Contains(err.Error(), `spec.services[1].dependsOn[0].condition`) {
		t.Errorf("Load = %v, want the validation error of dependsOn's Ready on a service without a healthcheck", err)
	}
}

func TestIsComposeFile(t *testing.T) {
	for _, tc := range []struct {
		path, data string
		want       bool
	}{
		{"docker-compose.yml", "services:\n  web:\n    image: x\n", true},
		{"compose.yaml", "include:\n  - other.yml\n", true},
		{"compose", "services: {}\n", true},
		{"env.yaml", "apiVersion: berth.dev/v1alpha1\nkind: Environment\nmetadata: {name: x}\nspec:\n  services: []\n", false},
		{"odd.yaml", "kind: Thing\nservices: {}\n", false},
		{"two.yaml", "services: {}\n---\nservices: {}\n", false},
		{"notes.txt", "services: {}\n", false},
		{"bad.yml", "services: [\n", false},
		{"list.yml", "- a\n- b\n", false},
	} {
		if got := IsComposeFile(tc.path, []byte(tc.data)); got != tc.want {
			t.Errorf("IsComposeFile(%s, %q) = %v, want %v", tc.path, tc.data, got, tc.want)
		}
	}
}

// TestEveryRefusedRow loads a file that sets every attribute the table
// refuses and expects each one's message, exactly as the table says it; a
// refused row added to the table needs its attribute in the file.
func TestEveryRefusedRow(t *testing.T) {
	_, err := load(t, "refused-all", Options{}, "docker-compose.yml")
	var refused *RefusedError
	if !errors.As(err, &refused) {
		t.Fatalf("Load = %v, want a *RefusedError", err)
	}
	got := map[string]bool{}
	for _, r := range refused.Refusals {
		got[r.String()] = true
	}
	// Where the file sets each attribute: web carries the service ones,
	// the second volume, config, secret and network are the external ones.
	concrete := func(p string) string {
		switch {
		case p == svc("network_mode"):
			return "services.host.network_mode"
		case strings.HasSuffix(p, ".external"):
			p = strings.NewReplacer("volumes.*", "volumes.v2", "configs.*", "configs.c2", "secrets.*", "secrets.s2", "networks.*", "networks.n2").Replace(p)
		}
		p = strings.Replace(p, "services.*", "services.web", 1)
		p = strings.NewReplacer("services.web.networks.*", "services.web.networks.n1", "volumes.*", "volumes.v1",
			"configs.*", "configs.c1", "secrets.*", "secrets.s1", "networks.*", "networks.n1").Replace(p)
		return displayPath(p)
	}
	want := map[string]bool{}
	for _, row := range Table {
		if row.Kind != Refused {
			continue
		}
		line := Refusal{Path: concrete(row.Path), Reason: row.Note}.String()
		want[line] = true
		if !got[line] {
			t.Errorf("missing refusal %q", line)
		}
	}
	// The value check of a volume's type reports an image volume too.
	want[`services.web.volumes[3].type: not supported: "image": volume, bind or tmpfs`] = true
	for line := range got {
		if !want[line] {
			t.Errorf("unexpected refusal %q", line)
		}
	}
}

// TestFixturesCoverEveryMappedRow walks the models of the golden fixtures
// and fails for a mapped or ignored row no fixture exercises, so each
// mapping has a test that shows what it becomes.
func TestFixturesCoverEveryMappedRow(t *testing.T) {
	hit := map[string]bool{}
	var walk func(v any, p string)
	walk = func(v any, p string) {
		switch t := v.(type) {
		case map[string]any:
			for k, e := range t {
				next := k
				if p != "" {
					next = p + "." + k
				}
				if strings.HasPrefix(k, "x-") {
					hit[extensionRow] = true
					continue
				}
				if r, ok := RowFor(next); ok {
					hit[r.Path] = true
				}
				walk(e, next)
			}
		case []any:
			for _, e := range t {
				walk(e, p+".[]")
			}
		}
	}
	// compose-go's model is the canonical (long) form of what the files
	// say, before normalization adds defaults nobody wrote.
	for _, dir := range []string{"mapped", "overlay", "interp", "envfile", "extends", "include", "profiles"} {
		files, _ := filepath.Glob(filepath.Join("testdata", dir, "docker-compose*.yml"))
		po, err := cli.NewProjectOptions(files, cli.WithWorkingDirectory(filepath.Join("testdata", dir)),
			cli.WithEnv([]string{"API_KEY=k", "APP_MODE=m"}), cli.WithNormalization(false),
			cli.WithLoadOptions(func(o *loader.Options) { o.SkipDefaultValues = true }))
		if err != nil {
			t.Fatal(err)
		}
		model, err := po.LoadModel(context.Background())
		if err != nil {
			t.Fatalf("%s: %v", dir, err)
		}
		walk(model, "")
	}
	// The loader consumes these before the model is built; the version,
	// include and extends cases show what they do.
	hit["version"], hit["include"], hit[svc("extends")] = true, true, true
	for _, r := range Table {
		if r.Kind != Refused && !hit[r.Path] {
			t.Errorf("no golden fixture sets %s (%s)", r.Path, r.Kind)
		}
	}
}

// TestMain keeps compose-go's warnings (unset variables, an obsolete
// version:) out of the test output; the fixtures provoke them on purpose.
func TestMain(m *testing.M) {
	logrus.SetOutput(io.Discard)
	os.Exit(m.Run())
}
