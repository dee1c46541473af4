package cli

import (
	"strings"
	"testing"
	"time"

	"k8s.io/client-go/dynamic"
	"k8s.io/kubectl/pkg/describe"
)

// TestEnvironmentDescriberFetchesAndRenders runs berth's describer over a
// real HTTP client: it must fetch the named Environment and decode it.
func TestEnvironmentDescriberFetchesAndRenders(t *testing.T) {
	client, err := dynamic.NewForConfig(environmentServer(t))
	if err != nil {
		t.Fatal(err)
	}
	d := &environmentDescriber{client: client, now: func() time.Time { return fixtureNow.Add(time.Minute) }}
	out, err := d.Describe("", "leaving", describe.DescriberSettings{ShowEvents: true})
	if err != nil {
		t.Fatalf("Describe: %v", err)
	}
	if !hasLine(out, "Name:", "leaving") || !strings.Contains(out, "(60s ago) (finalizers: berth.dev/teardown)") {
		t.Errorf("unexpected description:\n%s", out)
	}
	if _, err := d.Describe("", "gone", describe.DescriberSettings{}); err == nil || !strings.Contains(err.Error(), `getting environment "gone"`) {
		t.Errorf("Describe of a missing Environment: err = %v", err)
	}
}
