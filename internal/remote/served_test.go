package remote

import (
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/rest"
)

// discoveryServer answers berth's group-version discovery with resources.
func discoveryServer(t *testing.T, resources ...string) *rest.Config {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/apis/berth.dev/v1alpha1" {
			http.NotFound(w, r)
			return
		}
		list := metav1.APIResourceList{TypeMeta: metav1.TypeMeta{Kind: "APIResourceList", APIVersion: "v1"}, GroupVersion: "berth.dev/v1alpha1"}
		for _, name := range resources {
			list.APIResources = append(list.APIResources, metav1.APIResource{Name: name, Kind: "Environment"})
		}
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(list)
	}))
	t.Cleanup(srv.Close)
	return &rest.Config{Host: srv.URL}
}

// A cluster's CRD has only environments/status: a failed log request says
// the subresource is not served there. berth's own server lists it: the
// error stays the server's.
func TestExplainNamesAnUnservedSubresource(t *testing.T) {
	failed := errors.New("the server could not find the requested resource")

	cluster := discoveryServer(t, "environments", "environments/status")
	err := Explain(cluster, "log", failed)
	if !errors.Is(err, ErrNotServed) {
		t.Fatalf("on a cluster: %v, want ErrNotServed", err)
	}

	embedded := discoveryServer(t, "environments", "environments/status", "environments/log", "environments/exec", "environments/archive")
	if err := Explain(embedded, "log", failed); err != failed {
		t.Errorf("on berth's server: %v, want the request's own error", err)
	}
	if err := Explain(cluster, "log", nil); err != nil {
		t.Errorf("no failure: %v", err)
	}
}
