package cli

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/spf13/pflag"
	sigsyaml "sigs.k8s.io/yaml"
)

// writeProject writes a two-file compose project and a plain Environment
// manifest into a temporary directory.
func writeProject(t *testing.T) (dir string) {
	t.Helper()
	dir = t.TempDir()
	files := map[string]string{
		"docker-compose.yml":      "name: shop\nservices:\n  web:\n    image: berth-testapp:dev\n    build: ./web\n    ports: [\"8080\"]\n",
		"docker-compose.test.yml": "services:\n  web:\n    environment: {MODE: test}\n",
		"plain.yaml":              "apiVersion: berth.dev/v1alpha1\nkind: Environment\nmetadata: {name: plain}\nspec:\n  services:\n  - {name: db, image: 'postgres:16'}\n",
	}
	for name, data := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

func runConvert(t *testing.T, args ...string) (string, error) {
	t.Helper()
	root, out := newTestRoot()
	root.SetArgs(append([]string{"convert"}, args...))
	err := root.ExecuteContext(context.Background())
	return out.String(), err
}

func TestConvertPrintsTheEnvironment(t *testing.T) {
	dir := writeProject(t)
	out, err := runConvert(t, "-f", filepath.Join(dir, "docker-compose.yml"), "-f", filepath.Join(dir, "docker-compose.test.yml"))
	if err != nil {
		t.Fatal(err)
	}
	want := `apiVersion: berth.dev/v1alpha1
kind: Environment
metadata:
  name: shop
spec:
  services:
  - build:
      context: ` + filepath.Join(dir, "web") + `
    env:
    - name: MODE
      value: test
    image: berth-testapp:dev
    name: web
    ports:
    - containerPort: 8080
      hostPort: 0
`
	if out != want {
		t.Errorf("convert printed:\n%s\nwant:\n%s", out, want)
	}

	js, err := runConvert(t, "-f", filepath.Join(dir, "docker-compose.yml"), "--name", "ci-1", "-o", "json")
	if err != nil {
		t.Fatal(err)
	}
	var obj map[string]any
	if err := json.Unmarshal([]byte(js), &obj); err != nil {
		t.Fatalf("-o json printed %q: %v", js, err)
	}
	if name := obj["metadata"].(map[string]any)["name"]; name != "ci-1" {
		t.Errorf("--name ci-1: metadata.name = %v", name)
	}
}

func TestConvertErrors(t *testing.T) {
	dir := writeProject(t)
	if _, err := runConvert(t); err == nil || !strings.Contains(err.Error(), "at least one compose file") {
		t.Errorf("convert without -f = %v", err)
	}
	if _, err := runConvert(t, "-f", filepath.Join(dir, "docker-compose.yml"), "-o", "wide"); err == nil || !strings.Contains(err.Error(), `--output "wide"`) {
		t.Errorf("convert -o wide = %v", err)
	}
	bad := filepath.Join(dir, "host.yml")
	os.WriteFile(bad, []byte("services:\n  web:\n    image: x\n    network_mode: host\n"), 0o644)
	if _, err := runConvert(t, "-f", bad, "--name", "x"); err == nil ||
		!strings.Contains(err.Error(), "services.web.network_mode: not supported: an Environment never shares the host's or another container's network") {
		t.Errorf("convert of network_mode: host = %v", err)
	}
}

// TestApplyFilesBecomeTheConvertedManifest: apply -f sends, for the
// compose files of its list, exactly what convert prints, in place of the
// first of them; other manifests are passed on.
func TestApplyFilesBecomeTheConvertedManifest(t *testing.T) {
	dir := writeProject(t)
	base, test := filepath.Join(dir, "docker-compose.yml"), filepath.Join(dir, "docker-compose.test.yml")
	plain := filepath.Join(dir, "plain.yaml")

	fs := pflag.NewFlagSet("apply", pflag.ContinueOnError)
	var names []string
	fs.StringSliceVarP(&names, "filename", "f", nil, "")
	var cf composeFlags
	addComposeFlags(fs, &cf)
	if err := fs.Parse([]string{"-f", plain, "-f", base, "-f", test, "--name", "shop-ci"}); err != nil {
		t.Fatal(err)
	}
	cleanup, err := resolveFilenameFlag(context.Background(), fs, &cf)
	if err != nil {
		t.Fatal(err)
	}
	defer cleanup()
	if len(names) != 2 || names[0] != plain {
		t.Fatalf("-f list %v: want the plain manifest, then one file for the compose project", names)
	}
	sent, err := os.ReadFile(names[1])
	if err != nil {
		t.Fatal(err)
	}
	printed, err := runConvert(t, "-f", base, "-f", test, "--name", "shop-ci")
	if err != nil {
		t.Fatal(err)
	}
	var a, b any
	if err := sigsyaml.Unmarshal(sent, &a); err != nil {
		t.Fatal(err)
	}
	if err := sigsyaml.Unmarshal([]byte(printed), &b); err != nil {
		t.Fatal(err)
	}
	if ja, jb := mustJSON(t, a), mustJSON(t, b); ja != jb {
		t.Errorf("apply sends\n%s\nconvert prints\n%s", ja, jb)
	}
	cleanup()
	if _, err := os.Stat(names[1]); !os.IsNotExist(err) {
		t.Errorf("the converted manifest is not removed: %v", err)
	}
}

func TestComposeFlagsNeedComposeFiles(t *testing.T) {
	dir := writeProject(t)
	fs := pflag.NewFlagSet("apply", pflag.ContinueOnError)
	var names []string
	fs.StringSliceVarP(&names, "filename", "f", nil, "")
	var cf composeFlags
	addComposeFlags(fs, &cf)
	if err := fs.Parse([]string{"-f", filepath.Join(dir, "plain.yaml"), "--profile", "debug"}); err != nil {
		t.Fatal(err)
	}
	cleanup, err := resolveFilenameFlag(context.Background(), fs, &cf)
	defer cleanup()
	if err == nil || !strings.Contains(err.Error(), "apply to compose files") {
		t.Errorf("--profile without compose files = %v", err)
	}
}

func TestApplyAndDeleteTakeComposeFlags(t *testing.T) {
	root, _ := newTestRoot()
	for _, verb := range []string{"apply", "delete", "convert"} {
		cmd, _, err := root.Find([]string{verb})
		if err != nil {
			t.Fatal(err)
		}
		for _, name := range []string{"name", "profile", "env-file"} {
			if cmd.Flags().Lookup(name) == nil {
				t.Errorf("%s has no --%s", verb, name)
			}
		}
	}
}

func mustJSON(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestConvertPassesProfileAndEnvFile(t *testing.T) {
	// convert interpolates from the process environment; TAG must be
	// unset for the env file to count (t.Setenv restores it afterwards).
	t.Setenv("TAG", "")
	os.Unsetenv("TAG")
	dir := t.TempDir()
	f := filepath.Join(dir, "docker-compose.yml")
	os.WriteFile(f, []byte("name: p\nservices:\n  web:\n    image: berth-testapp:${TAG:-dev}\n  debug:\n    image: berth-testapp:dev\n    profiles: [debug]\n"), 0o644)
	envFile := filepath.Join(dir, "ci.env")
	os.WriteFile(envFile, []byte("TAG=ci\n"), 0o644)
	out, err := runConvert(t, "-f", f, "--profile", "debug", "--env-file", envFile)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out, "name: debug") || !strings.Contains(out, "image: berth-testapp:ci") {
		t.Errorf("convert --profile debug --env-file ci.env printed:\n%s", out)
	}
	out, err = runConvert(t, "-f", f)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(out, "name: debug") || !strings.Contains(out, "image: berth-testapp:dev") {
		t.Errorf("convert without flags printed:\n%s", out)
	}
}
