package apimetrics

import (
	"strings"
	"testing"
)

func TestParse(t *testing.T) {
	in := `# HELP apiserver_request_total x
apiserver_request_total{code="200",component="apiserver",dry_run="",group="berth.dev",resource="environments",scope="resource",subresource="status",verb="PUT",version="v1alpha1"} 6
apiserver_request_total{code="409",component="apiserver",dry_run="",group="berth.dev",resource="environments",scope="resource",subresource="status",verb="PUT",version="v1alpha1"} 1
apiserver_request_total{code="201",component="apiserver",dry_run="",group="berth.dev",resource="environments",scope="resource",subresource="",verb="POST",version="v1alpha1"} 3
apiserver_request_total{code="200",component="apiserver",dry_run="",group="coordination.k8s.io",resource="leases",scope="resource",subresource="",verb="PUT",version="v1"} 9
`
	got, err := Parse(strings.NewReader(in), "environments")
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
}
