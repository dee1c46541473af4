// Package faultproxy is a test-only HTTP proxy for a Docker Engine unix
// socket. It sits between berth's Docker client and the real daemon and can
// answer 500, add latency, or drop connections (before or after the daemon
// acted) at chosen rates, and it records every request line, each request's
// start time and the largest number of requests ever in flight, so tests can
// assert what the governor let through and that no DELETE carried force.
package faultproxy

import (
	"bufio"
	"context"
	"fmt"
	"math/rand/v2"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"
)

// Faults are the injection rates, each in [0,1]; they are exclusive, so
// their sum must not exceed 1.
type Faults struct {
	// ErrorRate answers 500 without forwarding.
	ErrorRate float64
	// DropBeforeRate closes the client connection without forwarding.
	DropBeforeRate float64
	// DropAfterRate forwards the request, lets the daemon act, then closes
	// the client connection instead of answering: the case where a create
	// happened but the client never heard.
	DropAfterRate float64
	// Latency is added before forwarding every matching request.
	Latency time.Duration
	// Match limits faults to some requests; nil matches all but the
	// version negotiation ping.
	Match func(method, path string) bool
}

// Request is one recorded request.
type Request struct {
	Method string
	URI    string // path and query as sent
	Start  time.Time
	// Answered is when the daemon's response head reached the proxy,
	// before the caller can have seen any of it: [Start, Answered] lies
	// inside the caller's own wait, so overlaps counted on it are real.
	// Zero when the daemon never answered (a drop, a cut).
	Answered time.Time
	End      time.Time // when the proxy finished with the request
	Status   int       // 0 when the connection was dropped
	Fault    string    // "", "error", "drop-before", "drop-after"
	Stream   bool      // events, logs, wait, attach, pull: outside the governor's cap

	done bool // no longer counted in flight
}

// Proxy is a running fault-injecting proxy.
type Proxy struct {
	upstream string
	sock     string
	ln       net.Listener
	srv      *http.Server
	rp       *httputil.ReverseProxy
	tr       *http.Transport

	mu       sync.Mutex
	faults   Faults
	rng      *rand.Rand
	reqs     []*Request
	inflight int
	peak     int
	streams  map[int]context.CancelFunc
	nextID   int
}

// Start listens on a new unix socket in dir and forwards to the Docker
// socket at upstream (a path, e.g. /var/run/docker.sock).
func Start(upstream, dir string) (*Proxy, error) {
	sock := filepath.Join(dir, "docker-proxy.sock")
	_ = os.Remove(sock)
	ln, err := net.Listen("unix", sock)
	if err != nil {
		return nil, fmt.Errorf("listen %s: %w", sock, err)
	}
	p := &Proxy{
		upstream: upstream,
		sock:     sock,
		ln:       ln,
		rng:      rand.New(rand.NewPCG(uint64(time.Now().UnixNano()), 7)),
		streams:  map[int]context.CancelFunc{},
	}
	p.tr = &http.Transport{
		DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
			var d net.Dialer
			return d.DialContext(ctx, "unix", upstream)
		},
		MaxIdleConnsPerHost: 16,
	}
	target := &url.URL{Scheme: "http", Host: "docker"}
	p.rp = &httputil.ReverseProxy{
		Rewrite: func(pr *httputil.ProxyRequest) {
			pr.SetURL(target)
			pr.Out.Host = pr.In.Host
		},
		Transport:     p.tr,
		FlushInterval: -1,
		ErrorLog:      nil,
		ErrorHandler: func(w http.ResponseWriter, r *http.Request, err error) {
			w.WriteHeader(http.StatusBadGateway)
		},
		ModifyResponse: func(resp *http.Response) error {
			if rec, ok := resp.Request.Context().Value(recordKey{}).(*Request); ok {
				p.answered(rec)
			}
			return nil
		},
	}
	p.srv = &http.Server{Handler: p, ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = p.srv.Serve(ln) }()
	return p, nil
}

// Host is the DOCKER_HOST value that reaches the daemon through the proxy.
func (p *Proxy) Host() string { return "unix://" + p.sock }

// SetFaults replaces the injection rates; requests already past the
// decision point are not affected.
func (p *Proxy) SetFaults(f Faults) {
	p.mu.Lock()
	p.faults = f
	p.mu.Unlock()
}

// Requests returns a copy of the record so far.
func (p *Proxy) Requests() []Request {
	p.mu.Lock()
	defer p.mu.Unlock()
	out := make([]Request, len(p.reqs))
	for i, r := range p.reqs {
		out[i] = *r
	}
	return out
}

// MaxInFlight is the largest number of non-stream requests that were in
// flight at once since the last Reset.
func (p *Proxy) MaxInFlight() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.peak
}

// Reset clears the record and the in-flight high-water mark.
func (p *Proxy) Reset() {
	p.mu.Lock()
	p.reqs = nil
	p.peak = p.inflight
	p.mu.Unlock()
}

// OpenStreams is how many streaming requests are open now.
func (p *Proxy) OpenStreams() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return len(p.streams)
}

// CutStreams breaks every open streaming request (the event stream, log
// follows, waits) as a daemon restart or network fault would, and returns
// how many it cut.
func (p *Proxy) CutStreams() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, cancel := range p.streams {
		cancel()
	}
	n := len(p.streams)
	p.streams = map[int]context.CancelFunc{}
	return n
}

// Close stops the proxy and breaks its open connections.
func (p *Proxy) Close() error {
	p.CutStreams()
	err := p.srv.Close()
	p.tr.CloseIdleConnections()
	_ = os.Remove(p.sock)
	return err
}

// IsStream says whether a request is a long-lived stream the governor keeps
// outside its concurrency cap.
func IsStream(method, path string, q url.Values) bool {
	switch {
	case strings.HasSuffix(path, "/events"),
		strings.HasSuffix(path, "/wait"),
		strings.HasSuffix(path, "/attach"),
		strings.HasSuffix(path, "/images/create"):
		return true
	case strings.HasSuffix(path, "/logs"):
		return true
	case strings.HasPrefix(stripVersion(path), "/exec/") && strings.HasSuffix(path, "/start"):
		return true
	case strings.HasSuffix(path, "/stats"):
		return q.Get("stream") != "false" && q.Get("stream") != "0"
	}
	return false
}

func stripVersion(path string) string {
	if strings.HasPrefix(path, "/v") {
		if i := strings.Index(path[1:], "/"); i >= 0 {
			return path[i+1:]
		}
	}
	return path
}

func (p *Proxy) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	stream := IsStream(r.Method, r.URL.Path, r.URL.Query())
	p.mu.Lock()
	rec := &Request{Method: r.Method, URI: r.URL.RequestURI(), Start: time.Now(), Stream: stream}
	p.reqs = append(p.reqs, rec)
	if !stream {
		p.inflight++
		if p.inflight > p.peak {
			p.peak = p.inflight
		}
	}
	f := p.faults
	roll := p.rng.Float64()
	p.mu.Unlock()

	status := 0
	fault := ""
	defer func() {
		p.answered(rec) // no-op when the daemon answered
		p.mu.Lock()
		rec.End = time.Now()
		rec.Status = status
		rec.Fault = fault
		p.mu.Unlock()
	}()

	path := stripVersion(r.URL.Path)
	match := path != "/_ping"
	if f.Match != nil {
		match = f.Match(r.Method, path)
	}
	if match {
		if f.Latency > 0 {
			t := time.NewTimer(f.Latency)
			select {
			case <-t.C:
			case <-r.Context().Done():
				t.Stop()
				return
			}
		}
		switch {
		case roll < f.ErrorRate:
			fault, status = "error", http.StatusInternalServerError
			w.Header().Set("Content-Type", "application/json")
			p.setStatus(rec, status)
			w.WriteHeader(status)
			_, _ = w.Write([]byte(`{"message":"faultproxy: injected server error"}` + "\n"))
			return
		case roll < f.ErrorRate+f.DropBeforeRate:
			fault = "drop-before"
			drop(w)
			return
		case roll < f.ErrorRate+f.DropBeforeRate+f.DropAfterRate:
			fault = "drop-after"
			p.forwardThenDrop(r)
			drop(w)
			return
		}
	}

	ctx, cancel := context.WithCancel(context.WithValue(r.Context(), recordKey{}, rec))
	defer cancel()
	if stream {
		p.mu.Lock()
		id := p.nextID
		p.nextID++
		p.streams[id] = cancel
		p.mu.Unlock()
		defer func() {
			p.mu.Lock()
			delete(p.streams, id)
			p.mu.Unlock()
		}()
	}
	sw := &statusWriter{ResponseWriter: w, record: func(code int) { p.setStatus(rec, code) }}
	defer func() { status = sw.status }()
	p.rp.ServeHTTP(sw, r.WithContext(ctx))
}

// recordKey keys a request's record in its context.
type recordKey struct{}

// answered marks a request as no longer in flight at the daemon, once.
// It runs when the response head arrives, before the caller sees it, so a
// caller that sends its next request the moment it has an answer never
// finds the previous one still counted.
func (p *Proxy) answered(rec *Request) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if rec.done {
		return
	}
	rec.done = true
	rec.Answered = time.Now()
	if !rec.Stream {
		p.inflight--
	}
}

// forwardThenDrop sends the request to the daemon and reads the answer, so
// the daemon has acted, but the caller will never see it.
func (p *Proxy) forwardThenDrop(r *http.Request) {
	out := r.Clone(r.Context())
	out.URL.Scheme, out.URL.Host = "http", "docker"
	out.RequestURI = ""
	resp, err := p.tr.RoundTrip(out)
	if err != nil {
		return
	}
	buf := make([]byte, 32*1024)
	for {
		// A stream (events) would never end: one read is enough to know
		// the daemon accepted it.
		n, err := resp.Body.Read(buf)
		if err != nil || n == 0 || IsStream(r.Method, r.URL.Path, r.URL.Query()) {
			break
		}
	}
	_ = resp.Body.Close()
}

func drop(w http.ResponseWriter) {
	hj, ok := w.(http.Hijacker)
	if !ok {
		panic(http.ErrAbortHandler)
	}
	conn, _, err := hj.Hijack()
	if err != nil {
		panic(http.ErrAbortHandler)
	}
	if tc, ok := conn.(*net.UnixConn); ok {
		// Reset rather than a clean close where the OS allows: a dropped
		// connection, not a finished answer.
		_ = tc.CloseRead()
	}
	_ = conn.Close()
}

// setStatus records rec's status as it is sent.
func (p *Proxy) setStatus(rec *Request, code int) {
	p.mu.Lock()
	rec.Status = code
	p.mu.Unlock()
}

// statusWriter remembers the status for the record. It must keep the
// Hijacker and Flusher of the real writer, which upgrades and streams need.
// The status goes into the record before the header goes to the client:
// a caller that reads the records as soon as its call returned must see
// the status of that call, not the 0 of one still being finished.
type statusWriter struct {
	http.ResponseWriter
	status int
	record func(code int)
}

func (s *statusWriter) set(code int) {
	if s.status == 0 {
		s.status = code
		s.record(code)
	}
}

func (s *statusWriter) WriteHeader(code int) {
	s.set(code)
	s.ResponseWriter.WriteHeader(code)
}

func (s *statusWriter) Write(b []byte) (int, error) {
	s.set(http.StatusOK)
	return s.ResponseWriter.Write(b)
}

func (s *statusWriter) Flush() {
	if f, ok := s.ResponseWriter.(http.Flusher); ok {
		f.Flush()
	}
}

func (s *statusWriter) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	hj, ok := s.ResponseWriter.(http.Hijacker)
	if !ok {
		return nil, nil, fmt.Errorf("faultproxy: response writer cannot hijack")
	}
	s.set(http.StatusSwitchingProtocols)
	return hj.Hijack()
}
