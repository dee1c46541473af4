package manager

import (
	"strings"
	"testing"
	"time"
)

func TestLeaseName(t *testing.T) {
	for host, want := range map[string]string{
		"web-1":            "berth-manager-web-1",
		"Build.Example_01": "berth-manager-build-example-01",
		"--x--":            "berth-manager-x",
		"ü":                "berth-manager-x",
	} {
		if got := LeaseName(host); got != want {
			t.Errorf("LeaseName(%q) = %q, want %q", host, got, want)
		}
	}
	if got := LeaseName(strings.Repeat("a", 400)); len(got) != 253 {
		t.Errorf("LeaseName of a long host: %d characters, want 253", len(got))
	}
}

func TestHostOwnerIDIsAValidIdentity(t *testing.T) {
	for _, host := range []string{"web-1", "Build.Example_01", strings.Repeat("h", 200)} {
		id := HostOwnerID(host)
		if len(id) > 63 || !strings.HasPrefix(id, "berth-host-") {
			t.Errorf("HostOwnerID(%q) = %q: not a label value of at most 63 characters", host, id)
		}
	}
	if HostOwnerID("web-1") != HostOwnerID("web-1") || HostOwnerID("web-1") == HostOwnerID("web-2") {
		t.Error("HostOwnerID must be the same for one host and differ between hosts")
	}
}

func TestCheckLeaderFlags(t *testing.T) {
	ok := func() Options {
		o := DefaultOptions()
		o.Kubeconfig, o.Host = "kc", "h"
		o.LeaderElection.Enabled = true
		return o
	}
	for name, tc := range map[string]struct {
		edit func(*Options)
		want string // "" accepted
	}{
		"defaults":           {func(*Options) {}, ""},
		"off, no cluster":    {func(o *Options) { o.LeaderElection.Enabled, o.Kubeconfig = false, "" }, ""},
		"no kubeconfig":      {func(o *Options) { o.Kubeconfig = "" }, "--leader-elect needs --kubeconfig"},
		"no host":            {func(o *Options) { o.Host = "" }, "--host"},
		"no namespace":       {func(o *Options) { o.LeaderElection.Namespace = "" }, "--leader-elect-namespace"},
		"lease <= renew":     {func(o *Options) { o.LeaderElection.LeaseDuration = 10 * time.Second }, "--leader-elect-lease-duration"},
		"renew <= retry":     {func(o *Options) { o.LeaderElection.RetryPeriod = 9 * time.Second }, "--leader-elect-renew-deadline"},
		"retry not positive": {func(o *Options) { o.LeaderElection.RetryPeriod = 0 }, "--leader-elect-retry-period"},
	} {
		o := ok()
		tc.edit(&o)
		err := checkLeaderFlags(&o)
		switch {
		case tc.want == "" && err != nil:
			t.Errorf("%s: %v", name, err)
		case tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)):
			t.Errorf("%s: error %v, want one naming %s", name, err, tc.want)
		}
	}
}
