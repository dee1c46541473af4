package cli

import (
	"bytes"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"

	"k8s.io/cli-runtime/pkg/genericiooptions"
)

func TestResolveKubeconfig(t *testing.T) {
	t.Setenv("XDG_DATA_HOME", "/xdg")
	t.Setenv("KUBECONFIG", "/real/cluster/config")
	env := func(vals map[string]string) func(string) string {
		return func(k string) string { return vals[k] }
	}
	tests := []struct {
		name string
		flag string
		env  map[string]string
		want string
	}{
		{"flag beats env", "/flag", map[string]string{EnvKubeconfig: "/env"}, "/flag"},
		{"env without flag", "", map[string]string{EnvKubeconfig: "/env"}, "/env"},
		{"default data dir", "", nil, "/xdg/berth/kubeconfig"},
		{"KUBECONFIG is not berth's", "", map[string]string{"KUBECONFIG": "/real/cluster/config"}, "/xdg/berth/kubeconfig"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ResolveKubeconfig(tt.flag, env(tt.env))
			if err != nil {
				t.Fatalf("ResolveKubeconfig: %v", err)
			}
			if got != tt.want {
				t.Errorf("ResolveKubeconfig = %q, want %q", got, tt.want)
			}
		})
	}
}

// apiServer is a real HTTP server answering /version with its own name, so a
// test sees which kubeconfig berth actually followed.
func apiServer(t *testing.T, name string, hits *atomic.Int32) string {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		if r.URL.Path != "/version" {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprintf(w, `{"major":"1","minor":"0","gitVersion":%q}`, name)
	}))
	t.Cleanup(srv.Close)
	return srv.URL
}

func writeKubeconfig(t *testing.T, path, server string) {
	t.Helper()
	cfg := fmt.Sprintf(`apiVersion: v1
kind: Config
clusters:
- name: c
  cluster: {server: %q}
users:
- name: u
  user: {token: secret}
contexts:
- name: ctx
  context: {cluster: c, user: u}
current-context: ctx
`, server)
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
}

// runVersion runs `berth version` in-process with a clean environment in
// which $KUBECONFIG and ~/.kube/config both point at a decoy server.
func runVersion(t *testing.T, args ...string) (stdout string, err error, decoyHits int32) {
	t.Helper()
	home := t.TempDir()
	var decoy atomic.Int32
	decoyURL := apiServer(t, "decoy", &decoy)
	writeKubeconfig(t, filepath.Join(home, ".kube", "config"), decoyURL)
	writeKubeconfig(t, filepath.Join(home, "kubeconfig-env"), decoyURL)
	t.Setenv("HOME", home)
	t.Setenv("KUBECONFIG", filepath.Join(home, "kubeconfig-env"))
	t.Setenv("KUBERNETES_MASTER", decoyURL)

	var out, errOut bytes.Buffer
	root := NewRootCommand(genericiooptions.IOStreams{In: strings.NewReader(""), Out: &out, ErrOut: &errOut})
	root.SetArgs(append([]string{"version", "--cache-dir", t.TempDir()}, args...))
	err = root.Execute()
	return out.String(), err, decoy.Load()
}

func TestKubeconfigPrecedence(t *testing.T) {
	var hits atomic.Int32
	flagURL := apiServer(t, "from-flag", &hits)
	envURL := apiServer(t, "from-env", &hits)
	defaultURL := apiServer(t, "from-default", &hits)

	dir := t.TempDir()
	flagCfg, envCfg := filepath.Join(dir, "flag"), filepath.Join(dir, "env")
	writeKubeconfig(t, flagCfg, flagURL)
	writeKubeconfig(t, envCfg, envURL)
	xdg := t.TempDir()
	writeKubeconfig(t, filepath.Join(xdg, "berth", "kubeconfig"), defaultURL)

	tests := []struct {
		name     string
		berthEnv string
		args     []string
		want     string
	}{
		{"flag over env and default", envCfg, []string{"--kubeconfig", flagCfg}, "from-flag"},
		{"env over default", envCfg, nil, "from-env"},
		{"default data dir", "", nil, "from-default"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Setenv("XDG_DATA_HOME", xdg)
			t.Setenv(EnvKubeconfig, tt.berthEnv)
			out, err, decoy := runVersion(t, tt.args...)
			if err != nil {
				t.Fatalf("berth version: %v", err)
			}
			if !strings.Contains(out, "Server Version: "+tt.want+"\n") {
				t.Errorf("output %q does not name server %q", out, tt.want)
			}
			if decoy != 0 {
				t.Errorf("the decoy from $KUBECONFIG / ~/.kube/config got %d requests", decoy)
			}
		})
	}
}

func TestNoBerthKubeconfigNeverFallsBackToKUBECONFIG(t *testing.T) {
	t.Setenv("XDG_DATA_HOME", t.TempDir())
	t.Setenv(EnvKubeconfig, "")
	out, err, decoy := runVersion(t)
	if err == nil || !strings.Contains(err.Error(), "no berth kubeconfig at") {
		t.Fatalf("berth version without a berth kubeconfig: err = %v, want a missing-kubeconfig error", err)
	}
	if decoy != 0 {
		t.Errorf("the decoy from $KUBECONFIG / ~/.kube/config got %d requests", decoy)
	}
	if !strings.HasPrefix(out, "Client Version: ") {
		t.Errorf("the client version was not printed before the error: %q", out)
	}
}

func TestVersionClientOnly(t *testing.T) {
	t.Setenv("XDG_DATA_HOME", t.TempDir())
	out, err, decoy := runVersion(t, "--client")
	if err != nil {
		t.Fatalf("berth version --client: %v", err)
	}
	if strings.Contains(out, "Server Version") || decoy != 0 {
		t.Errorf("--client contacted a server: %q", out)
	}
}
