package dashboard

import (
	"context"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"berth.dev/berth/internal/streamcap"
)

// TestPageStreamsAreCapped holds streams open until the cap refuses one
// with 429, then shows a closed stream frees its slot.
func TestPageStreamsAreCapped(t *testing.T) {
	s := &Server{pageStreams: streamcap.New("dashboard page streams", 2, 2)}
	opened := make(chan struct{}, 4)
	srv := httptest.NewServer(s.pageStream(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusOK)
		http.NewResponseController(w).Flush()
		opened <- struct{}{}
		<-r.Context().Done()
	}))
	defer srv.Close()
	open := func() (*http.Response, context.CancelFunc) {
		t.Helper()
		ctx, cancel := context.WithCancel(context.Background())
		req, _ := http.NewRequestWithContext(ctx, "GET", srv.URL, nil)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		return resp, cancel
	}
	var cancels []context.CancelFunc
	defer func() {
		for _, c := range cancels {
			c()
		}
	}()
	for i := range 2 {
		resp, cancel := open()
		cancels = append(cancels, cancel)
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("stream %d: %d", i, resp.StatusCode)
		}
		<-opened
	}
	resp, cancel := open()
	cancel()
	if resp.StatusCode != http.StatusTooManyRequests || resp.Header.Get("Retry-After") == "" {
		t.Fatalf("third stream: %d (Retry-After %q), want 429 with Retry-After", resp.StatusCode, resp.Header.Get("Retry-After"))
	}
	// Closing a stream gives its slot back (once the handler has returned).
	cancels[0]()
	deadline := time.Now().Add(10 * time.Second)
	for s.pageStreams.Open() > 1 {
		if time.Now().After(deadline) {
			t.Fatalf("a closed stream still holds its slot: %d open", s.pageStreams.Open())
		}
		time.Sleep(time.Millisecond)
	}
	resp, cancel = open()
	cancels = append(cancels, cancel)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("a stream after one closed: %d", resp.StatusCode)
	}
}

// Every live page route goes through the cap: with it full, each answers
// 429 before its handler runs.
func TestPageRoutesAreCapped(t *testing.T) {
	s := &Server{pageStreams: streamcap.New("dashboard page streams", 1, 1)}
	release, err := s.pageStreams.Acquire("pages")
	if err != nil {
		t.Fatal(err)
	}
	defer release()
	h := s.routes()
	for _, path := range []string{"/events/overview", "/events/env/x", "/events/engine"} {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest("GET", path, nil))
		if rec.Code != http.StatusTooManyRequests {
			t.Errorf("GET %s with the cap full: %d, want 429", path, rec.Code)
		}
	}
}
