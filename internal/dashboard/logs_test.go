package dashboard

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/go-logr/logr"

	"berth.dev/berth/internal/docker"
	"berth.dev/berth/internal/streamcap"
)

func TestParseTail(t *testing.T) {
	for v, want := range map[string]int{"": defaultTail, "0": 0, "1": 1, "10000": 10000} {
		if got, err := parseTail(v); err != nil || got != want {
			t.Errorf("parseTail(%q) = %d, %v; want %d", v, got, err, want)
		}
	}
	for _, v := range []string{"-1", "-100", "10001", "all", "1e3", " 5"} {
		if got, err := parseTail(v); err == nil || !strings.Contains(err.Error(), "tail") {
			t.Errorf("parseTail(%q) = %d, %v; want an error naming tail", v, got, err)
		}
	}
}

// blockingLogs is a Docker whose log streams stay open until the request
// ends, and that records the tail each was asked for.
type blockingLogs struct {
	Docker
	mu     sync.Mutex
	tails  []int
	opened chan string
}

func (b *blockingLogs) Logs(ctx context.Context, id string, opts docker.LogOptions, stdout, _ io.Writer) error {
	b.mu.Lock()
	b.tails = append(b.tails, opts.Tail)
	b.mu.Unlock()
	_, _ = io.WriteString(stdout, "hello\n")
	b.opened <- id
	<-ctx.Done()
	return nil
}

type oneContainer struct {
	Cache
	ids map[string]string // service -> ID
}

func (o oneContainer) Containers(env string) []docker.Container {
	var out []docker.Container
	for svc, id := range o.ids {
		out = append(out, docker.Container{ID: id, Environment: env, Service: svc, State: "running"})
	}
	return out
}

// TestLogStreamsAreCapped opens log streams until the per-container and
// the total caps refuse more, and checks the default and bad tails.
func TestLogStreamsAreCapped(t *testing.T) {
	fake := &blockingLogs{opened: make(chan string, 16)}
	s := &Server{
		opts:       Options{Docker: fake, Cache: oneContainer{ids: map[string]string{"a": strings.Repeat("a", 64), "b": strings.Repeat("b", 64)}}},
		log:        logr.Discard(),
		done:       make(chan struct{}),
		logStreams: streamcap.New("dashboard log streams", 3, 2),
	}
	srv := httptest.NewServer(s.routes())
	defer srv.Close()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	get := func(path string) *http.Response {
		t.Helper()
		req, _ := http.NewRequestWithContext(ctx, "GET", srv.URL+path, nil)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		return resp
	}
	if resp := get("/env/e/logs/a?tail=-1"); resp.StatusCode != http.StatusBadRequest {
		t.Errorf("tail=-1: %d, want 400", resp.StatusCode)
	}
	if resp := get("/env/e/logs/a?tail=100000"); resp.StatusCode != http.StatusBadRequest {
		t.Errorf("tail=100000: %d, want 400", resp.StatusCode)
	}
	for i, svc := range []string{"a", "a"} {
		if resp := get("/env/e/logs/" + svc); resp.StatusCode != http.StatusOK {
			t.Fatalf("stream %d: %d", i, resp.StatusCode)
		}
		<-fake.opened
	}
	if resp := get("/env/e/logs/a"); resp.StatusCode != http.StatusTooManyRequests {
		t.Errorf("third stream of one container: %d, want 429", resp.StatusCode)
	}
	if resp := get("/env/e/logs/b"); resp.StatusCode != http.StatusOK {
		t.Fatalf("a stream of another container: %d", resp.StatusCode)
	}
	<-fake.opened
	if resp := get("/env/e/logs/b"); resp.StatusCode != http.StatusTooManyRequests {
		t.Errorf("fourth stream in total: %d, want 429", resp.StatusCode)
	}
	fake.mu.Lock()
	defer fake.mu.Unlock()
	for _, tail := range fake.tails {
		if tail != defaultTail {
			t.Errorf("tail asked of Docker: %d, want the default %d", tail, defaultTail)
		}
	}
}
