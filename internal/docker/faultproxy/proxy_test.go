package faultproxy

import (
	"bufio"
	"context"
	"net"
	"net/http"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// upstream is a stand-in daemon on a unix socket: /slow sleeps, /events
// streams until the client goes away, anything else answers "ok".
func upstream(t *testing.T) string {
	t.Helper()
	sock := filepath.Join(t.TempDir(), "up.sock")
	ln, err := net.Listen("unix", sock)
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch {
		case strings.HasSuffix(r.URL.Path, "/slow"):
			time.Sleep(100 * time.Millisecond)
		case strings.HasSuffix(r.URL.Path, "/events"):
			w.WriteHeader(200)
			w.(http.Flusher).Flush()
			for {
				if _, err := w.Write([]byte("{}\n")); err != nil {
					return
				}
				w.(http.Flusher).Flush()
				select {
				case <-r.Context().Done():
					return
				case <-time.After(20 * time.Millisecond):
				}
			}
		}
		_, _ = w.Write([]byte("ok"))
	})}
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })
	return sock
}

func clientFor(p *Proxy) *http.Client {
	return &http.Client{Transport: &http.Transport{DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
		var d net.Dialer
		return d.DialContext(ctx, "unix", strings.TrimPrefix(p.Host(), "unix://"))
	}}}
}

func TestProxyForwardsRecordsAndInjects(t *testing.T) {
	p, err := Start(upstream(t), t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	hc := clientFor(p)

	var wg sync.WaitGroup
	for i := 0; i < 4; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			resp, err := hc.Get("http://docker/v1.41/slow")
			if err != nil {
				t.Error(err)
				return
			}
			resp.Body.Close()
		}()
	}
	wg.Wait()
	if p.MaxInFlight() < 2 {
		t.Fatalf("max in flight %d for 4 parallel slow requests", p.MaxInFlight())
	}
	req, _ := http.NewRequest("DELETE", "http://docker/v1.41/containers/x?v=1", nil)
	resp, err := hc.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	// The record is completed when the handler returns, which may be a
	// moment after the client has its answer.
	var reqs []Request
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(time.Millisecond) {
		reqs = p.Requests()
		if len(reqs) == 5 && !reqs[4].End.IsZero() || time.Now().After(deadline) {
			break
		}
	}
	if len(reqs) != 5 || reqs[4].Method != "DELETE" || reqs[4].URI != "/v1.41/containers/x?v=1" || reqs[4].Status != 200 {
		t.Fatalf("record %+v", reqs)
	}

	p.SetFaults(Faults{ErrorRate: 1})
	resp, err = hc.Get("http://docker/v1.41/info")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 500 {
		t.Fatalf("status %d with ErrorRate 1", resp.StatusCode)
	}
	p.SetFaults(Faults{DropBeforeRate: 1})
	if _, err := hc.Get("http://docker/v1.41/info"); err == nil {
		t.Fatal("DropBeforeRate 1 answered")
	}
	p.SetFaults(Faults{DropAfterRate: 1})
	if _, err := hc.Post("http://docker/v1.41/containers/create", "application/json", strings.NewReader("{}")); err == nil {
		t.Fatal("DropAfterRate 1 answered")
	}
	// As above, the record may complete a moment after the client saw
	// the dropped connection.
	var fault string
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(time.Millisecond) {
		last := p.Requests()
		if fault = last[len(last)-1].Fault; fault == "drop-after" || time.Now().After(deadline) {
			break
		}
	}
	if fault != "drop-after" {
		t.Fatalf("last request fault %q", fault)
	}
	p.SetFaults(Faults{})

	resp, err = hc.Get("http://docker/v1.41/events")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	br := bufio.NewReader(resp.Body)
	if _, err := br.ReadString('\n'); err != nil {
		t.Fatal(err)
	}
	if p.OpenStreams() != 1 || p.CutStreams() != 1 {
		t.Fatal("the event stream was not tracked")
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		if _, err := br.ReadString('\n'); err != nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("stream not cut")
		}
	}
}

func TestIsStream(t *testing.T) {
	yes := []string{"/v1.41/events", "/v1.41/containers/x/wait", "/v1.41/containers/x/logs", "/v1.41/exec/abc/start", "/v1.41/images/create"}
	for _, p := range yes {
		if !IsStream("GET", p, nil) {
			t.Errorf("%s not a stream", p)
		}
	}
	if IsStream("GET", "/v1.41/containers/x/json", nil) || IsStream("POST", "/v1.41/containers/x/start", nil) {
		t.Error("short calls taken for streams")
	}
}
