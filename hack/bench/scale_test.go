package main

import (
	"strings"
	"testing"
)

func TestParseStatusKB(t *testing.T) {
	status := "Name:\tmanager\nVmPeak:\t 1419444 kB\nVmHWM:\t   98304 kB\nVmRSS:\t   81920 kB\nThreads:\t12\n"
	for key, want := range map[string]int64{"VmHWM": 98304, "VmRSS": 81920} {
		got, err := parseStatusKB(status, key)
		if err != nil || got != want {
			t.Errorf("%s: got %d, %v; want %d", key, got, err, want)
		}
	}
	if _, err := parseStatusKB(status, "VmSwap"); err == nil {
		t.Error("a missing key: want an error")
	}
	if _, err := parseStatusKB(status, "Threads"); err == nil {
		t.Error("a value without kB: want an error")
	}
}

func TestParseRequestTotals(t *testing.T) {
	in := `# HELP apiserver_request_total x
apiserver_request_total{code="200",component="apiserver",dry_run="",group="berth.dev",resource="environments",scope="resource",subresource="status",verb="PUT",version="v1alpha1"} 6
apiserver_request_total{code="409",component="apiserver",dry_run="",group="berth.dev",resource="environments",scope="resource",subresource="status",verb="PUT",version="v1alpha1"} 1
apiserver_request_total{code="201",component="apiserver",dry_run="",group="berth.dev",resource="environments",scope="resource",subresource="",verb="POST",version="v1alpha1"} 3
apiserver_request_total{code="200",component="apiserver",dry_run="",group="coordination.k8s.io",resource="leases",scope="resource",subresource="",verb="PUT",version="v1"} 9
`
	got, err := parseRequestTotals(strings.NewReader(in), "environments")
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]float64{"PUT status 200": 6, "PUT status 409": 1, "POST - 201": 3}
	if len(got) != len(want) {
		t.Fatalf("got %v, want %v", got, want)
	}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("%s: got %v, want %v", k, got[k], v)
		}
	}
	if s := formatPerEnvironment(got, 3); s != "POST - 201: 1.00, PUT status 200: 2.00, PUT status 409: 0.33" {
		t.Errorf("formatPerEnvironment: %q", s)
	}
}
