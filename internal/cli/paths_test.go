package cli

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/spf13/pflag"

	"sigs.k8s.io/yaml"
)

func TestResolvePathsMakesRelativeHostPathsAbsolute(t *testing.T) {
	in := `
apiVersion: berth.dev/v1alpha1
kind: Environment
metadata: {name: platform}
spec:
  files:
  - {name: init-sql, path: sql/init.sql}
  - {name: inline, content: "x"}
  secrets:
  - {name: pw, path: ../secrets/pw}
  volumes:
  - name: data
  - {name: conf, hostPath: {path: ./conf}}
  - {name: abs, hostPath: {path: /etc/berth}}
  services:
  - name: backend
    build: {context: ./backend, dockerfile: Dockerfile}
  - name: auth
    build: {context: /abs/auth}
  - name: db
    image: postgres:16
`
	var obj map[string]any
	if err := yaml.Unmarshal([]byte(in), &obj); err != nil {
		t.Fatal(err)
	}
	changed, err := ResolvePaths(obj, "/work/proj")
	if err != nil || !changed {
		t.Fatalf("changed=%v err=%v", changed, err)
	}
	spec := obj["spec"].(map[string]any)
	get := func(list string, i int, keys ...string) any {
		var v any = spec[list].([]any)[i]
		for _, k := range keys {
			v = v.(map[string]any)[k]
		}
		return v
	}
	for _, tc := range []struct {
		got, want any
	}{
		{get("files", 0, "path"), "/work/proj/sql/init.sql"},
		{get("files", 1, "path"), nil},
		{get("secrets", 0, "path"), "/work/secrets/pw"},
		{get("volumes", 1, "hostPath", "path"), "/work/proj/conf"},
		{get("volumes", 2, "hostPath", "path"), "/etc/berth"},
		{get("services", 0, "build", "context"), "/work/proj/backend"},
		{get("services", 0, "build", "dockerfile"), "Dockerfile"},
		{get("services", 1, "build", "context"), "/abs/auth"},
	} {
		if tc.got != tc.want {
			t.Errorf("got %v, want %v", tc.got, tc.want)
		}
	}
	// Resolving again changes nothing.
	if changed, _ := ResolvePaths(obj, "/elsewhere"); changed {
		t.Error("absolute paths were changed")
	}
}

func TestResolvePathsLeavesOtherKindsAlone(t *testing.T) {
	cm := map[string]any{"apiVersion": "v1", "kind": "ConfigMap", "spec": map[string]any{"files": []any{map[string]any{"path": "rel"}}}}
	if changed, _ := ResolvePaths(cm, "/x"); changed {
		t.Error("a ConfigMap was rewritten")
	}
	list := map[string]any{"apiVersion": "v1", "kind": "List", "items": []any{
		map[string]any{"apiVersion": "berth.dev/v1alpha1", "kind": "Environment", "spec": map[string]any{
			"services": []any{map[string]any{"name": "a", "build": map[string]any{"context": "a"}}}}},
	}}
	if changed, _ := ResolvePaths(list, "/x"); !changed {
		t.Fatal("an Environment inside a List was not resolved")
	}
	ctx := list["items"].([]any)[0].(map[string]any)["spec"].(map[string]any)["services"].([]any)[0].(map[string]any)["build"].(map[string]any)["context"]
	if ctx != "/x/a" {
		t.Errorf("context %v", ctx)
	}
}

func TestApplyFilenamesAreRewrittenWithResolvedPaths(t *testing.T) {
	dir := t.TempDir()
	env := "apiVersion: berth.dev/v1alpha1\nkind: Environment\nmetadata: {name: a}\nspec:\n  services:\n  - name: web\n    build: {context: ./web}\n"
	plain := "apiVersion: berth.dev/v1alpha1\nkind: Environment\nmetadata: {name: b}\nspec:\n  services:\n  - {name: db, image: 'postgres:16'}\n"
	os.WriteFile(filepath.Join(dir, "env.yaml"), []byte(env), 0o644)
	os.WriteFile(filepath.Join(dir, "plain.yaml"), []byte(plain), 0o644)

	fs := pflag.NewFlagSet("apply", pflag.ContinueOnError)
	var names []string
	fs.StringSliceVarP(&names, "filename", "f", nil, "")
	fs.BoolP("recursive", "R", false, "")
	if err := fs.Parse([]string{"-f", filepath.Join(dir, "env.yaml"), "-f", filepath.Join(dir, "plain.yaml"), "-f", "-"}); err != nil {
		t.Fatal(err)
	}
	cleanup, err := resolveFilenameFlag(context.Background(), fs, nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(names) != 3 || names[1] != filepath.Join(dir, "plain.yaml") || names[2] != "-" {
		t.Fatalf("names %v: only the file with a relative path is replaced", names)
	}
	data, err := os.ReadFile(names[0])
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(data), "context: "+filepath.Join(dir, "web")) {
		t.Errorf("rewritten file:\n%s", data)
	}
	cleanup()
	if _, err := os.Stat(names[0]); !os.IsNotExist(err) {
		t.Errorf("copy not removed: %v", err)
	}
}
