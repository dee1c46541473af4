package cli

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/rest"

	"berth.dev/berth/apis/v1alpha1"
)

// environmentServer answers GETs of two Environments the way berth's API
// server does: "leaving" is being torn down (deletionTimestamp set),
// "staying" is not.
func environmentServer(t *testing.T) *rest.Config {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		name := strings.TrimPrefix(r.URL.Path, "/apis/berth.dev/v1alpha1/environments/")
		deleting := ""
		switch name {
		case "leaving":
			deleting = `,"deletionTimestamp":"2026-03-01T12:00:00Z","finalizers":["berth.dev/teardown"]`
		case "staying":
		default:
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprintf(w, `{"apiVersion":"berth.dev/v1alpha1","kind":"Environment","metadata":{"name":%q,"uid":"u1"%s}}`, name, deleting)
	}))
	t.Cleanup(srv.Close)
	return &rest.Config{Host: srv.URL}
}

func TestTeardownNotice(t *testing.T) {
	client, err := dynamic.NewForConfig(environmentServer(t))
	if err != nil {
		t.Fatal(err)
	}
	mapper := meta.NewDefaultRESTMapper(nil)
	mapper.Add(v1alpha1.SchemeGroupVersion.WithKind("Environment"), meta.RESTScopeRoot)

	var errOut bytes.Buffer
	notice := &teardownNotice{out: &errOut, timeout: 5 * time.Minute, mapper: mapper}
	envs := notice.wrap(client).Resource(v1alpha1.SchemeGroupVersion.WithResource(v1alpha1.EnvironmentsResource))

	// kubectl's wait reads through Namespace("") for cluster-scoped kinds;
	// the second read of the same object must not repeat the notice.
	for range 2 {
		if _, err := envs.Namespace("").Get(context.Background(), "leaving", metav1.GetOptions{}); err != nil {
			t.Fatalf("Get leaving: %v", err)
		}
	}
	if _, err := envs.Get(context.Background(), "staying", metav1.GetOptions{}); err != nil {
		t.Fatalf("Get staying: %v", err)
	}
	if _, err := envs.Get(context.Background(), "gone", metav1.GetOptions{}); err == nil {
		t.Fatal("Get gone: want NotFound")
	}
	notice.finish()

	want := "waiting for environment/leaving to be torn down (timeout 5m0s; --wait=false to return at once)…\n" +
		"environment/leaving is gone\n"
	if got := errOut.String(); got != want {
		t.Errorf("stderr =\n%s\nwant\n%s", got, want)
	}

	errOut.Reset()
	notice.stillWaiting()
	if got := errOut.String(); !strings.HasPrefix(got, "environment/leaving is still being torn down") {
		t.Errorf("stillWaiting wrote %q", got)
	}
}
