package probe

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"k8s.io/apimachinery/pkg/util/intstr"

	v1 "berth.dev/berth/apis/v1alpha1"
)

// publishedAt is a target whose container port 80 is published at addr.
func publishedAt(t *testing.T, addr string) Target {
	t.Helper()
	h, p := hostPort(t, addr)
	return Target{Published: []PublishedPort{{ContainerPort: 80, Protocol: "tcp", HostIP: h, HostPort: p}}}
}

func TestHTTPStatuses(t *testing.T) {
	var gotPath, gotHost atomic.Value
	status := atomic.Int32{}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		gotPath.Store(r.URL.RequestURI())
		gotHost.Store(r.Host)
		w.WriteHeader(int(status.Load()))
	}))
	defer srv.Close()
	tg := publishedAt(t, srv.Listener.Addr().String())

	for _, c := range []struct {
		status int
		ok     bool
		msg    string
	}{
		{200, true, ""},
		{204, true, ""},
		{399, true, ""},
		{400, false, "HTTP probe failed with status 400"},
		{503, false, "HTTP probe failed with status 503"},
	} {
		status.Store(int32(c.status))
		r := Run(context.Background(), httpProbe("/healthz?deep=1", intstr.FromInt32(80)), tg)
		if r.Success != c.ok || r.Message != c.msg {
			t.Errorf("status %d: got %+v, want success=%v message %q", c.status, r, c.ok, c.msg)
		}
		if r.Address != srv.Listener.Addr().String() {
			t.Errorf("status %d: Address = %q, want %q", c.status, r.Address, srv.Listener.Addr())
		}
	}
	if p := gotPath.Load(); p != "/healthz?deep=1" {
		t.Errorf("server saw request URI %v, want /healthz?deep=1", p)
	}
	if h := gotHost.Load(); h != srv.Listener.Addr().String() {
		t.Errorf("server saw Host %v, want %s", h, srv.Listener.Addr())
	}
}

func TestHTTPDefaultPathAndNamedPort(t *testing.T) {
	var gotPath atomic.Value
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		gotPath.Store(r.URL.Path)
	}))
	defer srv.Close()
	tg := publishedAt(t, srv.Listener.Addr().String())
	tg.Ports = []v1.ServicePort{{Name: "http", ContainerPort: 80}}

	if r := Run(context.Background(), httpProbe("", intstr.FromString("http")), tg); !r.Success {
		t.Fatalf("named port: %+v", r)
	}
	if p := gotPath.Load(); p != "/" {
		t.Errorf("empty path: server saw %v, want /", p)
	}
	r := Run(context.Background(), httpProbe("/", intstr.FromString("metrics")), tg)
	if r.Success || r.Message != `HTTP probe: port "metrics" is not one of the service's ports` {
		t.Errorf("unknown named port: %+v", r)
	}
}

func TestHTTPRedirectIsSuccessAndNotFollowed(t *testing.T) {
	var elsewhere atomic.Int32
	other := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { elsewhere.Add(1) }))
	defer other.Close()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, other.URL+"/login", http.StatusFound)
	}))
	defer srv.Close()

	r := Run(context.Background(), httpProbe("/", intstr.FromInt32(80)), publishedAt(t, srv.Listener.Addr().String()))
	if !r.Success {
		t.Errorf("302: %+v, want success", r)
	}
	if n := elsewhere.Load(); n != 0 {
		t.Errorf("the redirect was followed: the other server got %d requests", n)
	}
}

func TestHTTPTimeout(t *testing.T) {
	release := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-release:
		case <-r.Context().Done():
		}
	}))
	defer srv.Close()
	defer close(release)

	r := Run(context.Background(), httpProbe("/", intstr.FromInt32(80)), publishedAt(t, srv.Listener.Addr().String()))
	want := fmt.Sprintf("HTTP probe to %s timed out after 1s", srv.Listener.Addr())
	if r.Success || r.Message != want {
		t.Errorf("got %+v, want failure %q", r, want)
	}
}

func TestHTTPCancelled(t *testing.T) {
	started := make(chan struct{})
	release := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		close(started)
		select {
		case <-release:
		case <-r.Context().Done():
		}
	}))
	defer srv.Close()
	defer close(release)

	p := httpProbe("/", intstr.FromInt32(80))
	p.TimeoutSeconds = 3600
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan Result)
	go func() { done <- Run(ctx, p, publishedAt(t, srv.Listener.Addr().String())) }()
	<-started
	cancel()
	if r := <-done; r.Success {
		t.Errorf("cancelled probe succeeded: %+v", r)
	}
}

// No connection may outlive its probe: the seed leaked one per probe.
func TestHTTPLeavesNoConnections(t *testing.T) {
	var mu sync.Mutex
	states := map[net.Conn]http.ConnState{}
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprint(w, strings.Repeat("ok", 10000))
	}))
	srv.Config.ConnState = func(c net.Conn, s http.ConnState) {
		mu.Lock()
		states[c] = s
		mu.Unlock()
	}
	srv.Start()
	defer srv.Close()

	tg := publishedAt(t, srv.Listener.Addr().String())
	const n = 20
	for range n {
		if r := Run(context.Background(), httpProbe("/", intstr.FromInt32(80)), tg); !r.Success {
			t.Fatalf("probe: %+v", r)
		}
	}
	eventually(t, "every probe connection closed", func() bool {
		mu.Lock()
		defer mu.Unlock()
		if len(states) != n {
			return false
		}
		for _, s := range states {
			if s != http.StateClosed {
				return false
			}
		}
		return true
	})
}

func TestHTTPFallsBackToPublishedPort(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {}))
	defer srv.Close()
	// The network address refuses (the container IP as seen from outside
	// Docker Desktop's VM); the published port answers.
	tg := publishedAt(t, srv.Listener.Addr().String())
	tg.IP = "127.0.0.1"
	p := httpProbe("/", intstr.FromInt32(int32(closedPort(t))))
	tg.Published[0].ContainerPort = int(p.HTTPGet.Port.IntVal)

	r := Run(context.Background(), p, tg)
	if !r.Success || r.Address != srv.Listener.Addr().String() {
		t.Errorf("got %+v, want success through %s", r, srv.Listener.Addr())
	}
}

func TestHTTPNoAddress(t *testing.T) {
	r := Run(context.Background(), httpProbe("/", intstr.FromInt32(8080)), Target{ContainerID: "abc"})
	want := "no address for port 8080: the container has no address on its network and the port is not published"
	if r.Success || r.Message != want {
		t.Errorf("got %+v, want %q", r, want)
	}
}

func TestHTTPRefused(t *testing.T) {
	port := closedPort(t)
	r := Run(context.Background(), httpProbe("/", intstr.FromInt32(int32(port))), Target{IP: "127.0.0.1"})
	want := fmt.Sprintf("dial tcp 127.0.0.1:%d: connect: connection refused", port)
	if r.Success || r.Message != want {
		t.Errorf("got %+v, want %q", r, want)
	}
}
