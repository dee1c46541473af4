package manager

import (
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
)

func TestManagerInfoMetric(t *testing.T) {
	reg := prometheus.NewRegistry()
	if err := registerManagerInfo(reg, "docker-2", "berth-abc"); err != nil {
		t.Fatal(err)
	}
	want := `
# HELP berth_manager_info Always 1: the Docker host (--host) this manager serves and its identity.
# TYPE berth_manager_info gauge
berth_manager_info{host="docker-2",identity="berth-abc"} 1
`
	if err := testutil.GatherAndCompare(reg, strings.NewReader(want), "berth_manager_info"); err != nil {
		t.Error(err)
	}
}

func TestHostFlags(t *testing.T) {
	o := DefaultOptions()
	o.Host = "docker-2.lab"
	if err := checkHostFlags(&o); err != nil {
		t.Errorf("valid host refused: %v", err)
	}
	o.Host = "Docker_2"
	if err := checkHostFlags(&o); err == nil || !strings.Contains(err.Error(), `--host "Docker_2"`) {
		t.Errorf("invalid host: %v", err)
	}
	o.Host, o.HostGrace = "docker-2", time.Second
	if err := checkHostFlags(&o); err == nil || !strings.Contains(err.Error(), "--host-grace 1s") {
		t.Errorf("short grace: %v", err)
	}
	if errs := checkHostFlags(&Options{Host: defaultHost(), HostGrace: defaultHostGrace}); errs != nil {
		t.Errorf("the default host %q is refused: %v", defaultHost(), errs)
	}
	if got := heartbeatEvery(defaultHostGrace); got != 5*time.Second {
		t.Errorf("heartbeat at the default grace: %s, want 5s", got)
	}
	if got := heartbeatEvery(2 * time.Second); got != 500*time.Millisecond {
		t.Errorf("heartbeat at 2s grace: %s, want 500ms", got)
	}
	if got := HostLeaseName("Web_1.Lab"); got != "berth-host-web-1-lab" {
		t.Errorf("HostLeaseName = %q", got)
	}
}
