package manager

import (
	"bufio"
	"bytes"
	"context"
	"strconv"
	"strings"
	"testing"
	"time"

	"berth.dev/berth/client/clientset/versioned"
)

// TestOneEnvironmentWatch: the controllers and the dashboard share the
// manager's Environment informer, so the embedded API server serves one
// Environment watch, not one per consumer. It waits until the
// controller's own lease and pool informers watch (they start with the
// controller's run) and the dashboard answers, then reads the API
// server's apiserver_longrunning_requests.
func TestOneEnvironmentWatch(t *testing.T) {
	o := testOptions(t)
	m, err := Start(context.Background(), o)
	if err != nil {
		t.Fatalf("Start: %v", err)
	}
	t.Cleanup(func() { _ = m.Stop() })
	cs, err := versioned.NewForConfig(m.RESTConfig())
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	var watches map[string]int
	for {
		raw, err := cs.Discovery().RESTClient().Get().AbsPath("/metrics").DoRaw(ctx)
		if err != nil {
			t.Fatalf("API server /metrics: %v", err)
		}
		watches = berthWatches(raw)
		if watches["environments"] > 0 && watches["environmentleases"] > 0 && watches["environmentpools"] > 0 {
			break
		}
		select {
		case <-ctx.Done():
			t.Fatalf("the controller's watches did not start: %v", watches)
		case <-time.After(200 * time.Millisecond):
		}
	}
	if watches["environments"] != 1 {
		t.Errorf("%d Environment watches, want 1 (the controllers and the dashboard share one informer); all: %v", watches["environments"], watches)
	}
}

// berthWatches reads apiserver_longrunning_requests{verb="WATCH"} of
// berth.dev's resources from the API server's metrics.
func berthWatches(raw []byte) map[string]int {
	out := map[string]int{}
	sc := bufio.NewScanner(bytes.NewReader(raw))
	sc.Buffer(make([]byte, 0, 64*1024), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if !strings.HasPrefix(line, "apiserver_longrunning_requests{") || !strings.Contains(line, `group="berth.dev"`) || !strings.Contains(line, `verb="WATCH"`) {
			continue
		}
		_, after, ok := strings.Cut(line, `resource="`)
		if !ok {
			continue
		}
		resource, _, _ := strings.Cut(after, `"`)
		fields := strings.Fields(line)
		n, err := strconv.ParseFloat(fields[len(fields)-1], 64)
		if err != nil {
			continue
		}
		out[resource] += int(n)
	}
	return out
}
