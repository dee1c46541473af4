package manager

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/go-logr/logr"
	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"
)

func TestCheckStoreFlags(t *testing.T) {
	for _, tt := range []struct {
		name string
		edit func(*Options)
		want string
	}{
		{"embedded", func(*Options) {}, ""},
		{"embedded with etcd", func(o *Options) { o.EtcdServers = []string{"http://127.0.0.1:2379"} }, ""},
		{"kubeconfig", func(o *Options) { o.Kubeconfig = "kc" }, ""},
		{"kubeconfig and etcd", func(o *Options) { o.Kubeconfig, o.EtcdServers = "kc", []string{"http://x"} }, "--etcd-servers"},
		{"kubeconfig and api-listen", func(o *Options) { o.Kubeconfig, o.APIListen = "kc", "127.0.0.1:0" }, "--api-listen"},
	} {
		o := DefaultOptions()
		tt.edit(&o)
		err := checkStoreFlags(&o)
		switch {
		case tt.want == "" && err != nil:
			t.Errorf("%s: %v", tt.name, err)
		case tt.want != "" && (err == nil || !strings.Contains(err.Error(), tt.want)):
			t.Errorf("%s: error %v, want one naming %s", tt.name, err, tt.want)
		}
	}
}

func TestNewClusterStore(t *testing.T) {
	t.Setenv("KUBECONFIG", "/nonexistent/kubeconfig")
	if _, err := newClusterStore(filepath.Join(t.TempDir(), "missing"), t.TempDir(), logr.Discard()); err == nil {
		t.Fatal("a missing --kubeconfig file was accepted")
	}

	kc := filepath.Join(t.TempDir(), "kubeconfig")
	cfg := clientcmdapi.NewConfig()
	cfg.Clusters["c"] = &clientcmdapi.Cluster{Server: "https://127.0.0.1:1"}
	cfg.AuthInfos["u"] = &clientcmdapi.AuthInfo{Token: "cluster-token"}
	cfg.Contexts["x"] = &clientcmdapi.Context{Cluster: "c", AuthInfo: "u"}
	cfg.CurrentContext = "x"
	if err := clientcmd.WriteToFile(*cfg, kc); err != nil {
		t.Fatal(err)
	}
	dataDir := t.TempDir()
	s, err := newClusterStore(kc, dataDir, logr.Discard())
	if err != nil {
		t.Fatal(err)
	}
	if s.Host() != "https://127.0.0.1:1" || s.RESTConfig().BearerToken != "cluster-token" || !s.External() {
		t.Errorf("host %s token %q external %v", s.Host(), s.RESTConfig().BearerToken, s.External())
	}
	// The dashboard gets a token of its own, kept in the data dir.
	if len(s.DashboardToken()) < 32 || s.DashboardToken() == "cluster-token" {
		t.Errorf("dashboard token %q", s.DashboardToken())
	}
	fi, err := os.Stat(filepath.Join(dataDir, dashboardTokenFile))
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("dashboard token file: %v %v", fi, err)
	}
	again, err := newClusterStore(kc, dataDir, logr.Discard())
	if err != nil || again.DashboardToken() != s.DashboardToken() {
		t.Errorf("restart changed the dashboard token (%v)", err)
	}
}
