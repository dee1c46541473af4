package main

import (
	"bytes"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// syncBuffer is a bytes.Buffer safe for the app's goroutines and the test.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// running is an app started in-process on loopback ephemeral ports.
type running struct {
	a    *app
	sig  chan os.Signal
	code chan int
	out  *syncBuffer
}

// start runs cfg with HTTP (and TCP when tcp is true) on 127.0.0.1:0 and
// waits until it is ready or has exited.
func start(t *testing.T, cfg config, tcp bool, tweak ...func(*app)) *running {
	t.Helper()
	r := &running{sig: make(chan os.Signal, 2), code: make(chan int, 1), out: &syncBuffer{}}
	r.a = newApp(cfg, r.out)
	r.a.httpAddr = "127.0.0.1:0"
	if tcp {
		r.a.tcpAddr = "127.0.0.1:0"
	}
	for _, f := range tweak {
		f(r.a)
	}
	go func() { r.code <- r.a.run(r.sig) }()
	select {
	case <-r.a.ready:
	case c := <-r.code:
		r.code <- c // exited during start-up; let the test read the code
	case <-time.After(5 * time.Second):
		t.Fatalf("app not ready after 5s; output:\n%s", r.out)
	}
	t.Cleanup(func() {
		select {
		case r.sig <- syscall.SIGTERM:
		default:
		}
	})
	return r
}

func (r *running) url(path string) string { return "http://" + r.a.httpLn.Addr().String() + path }

// wait returns the exit code, failing the test if it takes longer than d.
func (r *running) wait(t *testing.T, d time.Duration) int {
	t.Helper()
	select {
	case c := <-r.code:
		return c
	case <-time.After(d):
		t.Fatalf("app still running after %s; output:\n%s", d, r.out)
		return -1
	}
}

func status(t *testing.T, method, url string) int {
	t.Helper()
	req, err := http.NewRequest(method, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode
}

func exists(path string) bool {
	_, err := os.Stat(path)
	return err == nil
}

func TestHealthSwitchAndReadyFile(t *testing.T) {
	t.Setenv("TESTAPP_NAME", "api")
	ready := filepath.Join(t.TempDir(), "sub", "ready")
	cfg, _ := parseFlags([]string{"--ready-file", ready}, nil)
	r := start(t, cfg, false)

	if got := status(t, "GET", r.url("/healthz")); got != 200 {
		t.Fatalf("GET /healthz = %d, want 200", got)
	}
	if !exists(ready) {
		t.Fatal("ready file missing while healthy")
	}
	if got := status(t, "POST", r.url("/healthz/fail")); got != 503 {
		t.Fatalf("POST /healthz/fail = %d, want 503", got)
	}
	if got := status(t, "GET", r.url("/healthz")); got != 503 {
		t.Fatalf("GET /healthz after fail = %d, want 503", got)
	}
	if exists(ready) {
		t.Fatal("ready file present while unhealthy")
	}
	if got := status(t, "POST", r.url("/healthz/ok")); got != 200 {
		t.Fatalf("POST /healthz/ok = %d, want 200", got)
	}
	if got := status(t, "GET", r.url("/healthz")); got != 200 || !exists(ready) {
		t.Fatalf("after ok: GET /healthz = %d, ready file %t", got, exists(ready))
	}
	if got := status(t, "POST", r.url("/healthz")); got != http.StatusMethodNotAllowed {
		t.Fatalf("POST /healthz = %d, want 405", got)
	}
	if got := status(t, "GET", r.url("/nope")); got != 404 {
		t.Fatalf("GET /nope = %d, want 404", got)
	}

	resp, err := http.Get(r.url("/"))
	if err != nil {
		t.Fatal(err)
	}
	var who whoami
	err = json.NewDecoder(resp.Body).Decode(&who)
	resp.Body.Close()
	if err != nil {
		t.Fatal(err)
	}
	host, _ := os.Hostname()
	if who.App != "testapp" || who.Name != "api" || who.Hostname != host || who.PID != os.Getpid() || !who.Healthy {
		t.Fatalf("GET / = %+v", who)
	}

	r.sig <- syscall.SIGTERM
	if c := r.wait(t, 3*time.Second); c != 0 {
		t.Fatalf("exit code after SIGTERM = %d, want 0", c)
	}
	if exists(ready) {
		t.Fatal("ready file left behind after exit")
	}
}

func TestStartUnhealthy(t *testing.T) {
	ready := filepath.Join(t.TempDir(), "ready")
	if err := os.WriteFile(ready, nil, 0o644); err != nil { // stale from a previous run
		t.Fatal(err)
	}
	cfg, _ := parseFlags([]string{"--healthy=false", "--ready-file", ready}, nil)
	r := start(t, cfg, false)
	if got := status(t, "GET", r.url("/healthz")); got != 503 {
		t.Fatalf("GET /healthz = %d, want 503", got)
	}
	if exists(ready) {
		t.Fatal("stale ready file kept while unhealthy")
	}
}

func TestTCPEcho(t *testing.T) {
	r := start(t, config{healthy: true}, true)
	c, err := net.Dial("tcp", r.a.tcpLn.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if _, err := c.Write([]byte("ping\n")); err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 5)
	_ = c.SetReadDeadline(time.Now().Add(3 * time.Second))
	if _, err := c.Read(buf); err != nil || string(buf) != "ping\n" {
		t.Fatalf("echo = %q, %v", buf, err)
	}
	// Shutdown must not hang on an open echo connection.
	r.sig <- syscall.SIGTERM
	if code := r.wait(t, 3*time.Second); code != 0 {
		t.Fatalf("exit code = %d", code)
	}
}

func TestExitAfter(t *testing.T) {
	cfg, _ := parseFlags([]string{"--exit-after", "100ms", "--exit-code", "3"}, nil)
	t0 := time.Now()
	r := start(t, cfg, false)
	if c := r.wait(t, 3*time.Second); c != 3 {
		t.Fatalf("exit code = %d, want 3", c)
	}
	if d := time.Since(t0); d < 100*time.Millisecond {
		t.Fatalf("exited after %s, before --exit-after", d)
	}
}

func TestExitCodeAloneExitsAfterStartup(t *testing.T) {
	file := filepath.Join(t.TempDir(), "data", "started")
	cfg, _ := parseFlags([]string{"--exit-code", "1", "--touch-file", file, "--log-lines", "2"}, nil)
	for i := range 2 {
		r := start(t, cfg, false)
		if c := r.wait(t, 3*time.Second); c != 1 {
			t.Fatalf("run %d: exit code = %d, want 1", i, c)
		}
		if !strings.Contains(r.out.String(), "log n=2") {
			t.Fatalf("start-up work not done before exiting:\n%s", r.out)
		}
	}
	data, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	if n := strings.Count(string(data), "started "); n != 2 {
		t.Fatalf("touch file has %d start lines, want 2 (append):\n%s", n, data)
	}
}

func TestTouchFileErrorExits1(t *testing.T) {
	notDir := filepath.Join(t.TempDir(), "file")
	if err := os.WriteFile(notDir, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	r := start(t, config{healthy: true, touchFile: filepath.Join(notDir, "x")}, false)
	if c := r.wait(t, 3*time.Second); c != 1 {
		t.Fatalf("exit code = %d, want 1", c)
	}
	if !strings.Contains(r.out.String(), "error:") {
		t.Fatalf("no error reported:\n%s", r.out)
	}
}

func TestStopDelay(t *testing.T) {
	cfg, _ := parseFlags([]string{"--stop-delay", "400ms"}, nil)
	r := start(t, cfg, false)
	t0 := time.Now()
	r.sig <- syscall.SIGTERM
	time.Sleep(100 * time.Millisecond)
	// Still serving while it stops, and a second signal does not cut it short.
	if got := status(t, "GET", r.url("/healthz")); got != 200 {
		t.Fatalf("GET /healthz during stop delay = %d", got)
	}
	r.sig <- syscall.SIGINT
	if c := r.wait(t, 3*time.Second); c != 0 {
		t.Fatalf("exit code = %d, want 0", c)
	}
	if d := time.Since(t0); d < 400*time.Millisecond {
		t.Fatalf("stopped after %s, before --stop-delay", d)
	}
}

func TestLogLinesAndEvery(t *testing.T) {
	cfg, _ := parseFlags([]string{"--http-port", "0", "--log-lines", "3", "--log-every", "20ms"}, nil)
	r := start(t, cfg, false)
	deadline := time.Now().Add(3 * time.Second)
	for !strings.Contains(r.out.String(), "log n=6 ") {
		if time.Now().After(deadline) {
			t.Fatalf("no 6th log line:\n%s", r.out)
		}
		time.Sleep(10 * time.Millisecond)
	}
	r.sig <- syscall.SIGTERM
	r.wait(t, 3*time.Second)
	out := r.out.String()
	// The start-up lines come before "ready", and numbering has no gaps.
	if i, j := strings.Index(out, "log n=3 "), strings.Index(out, "ready"); i < 0 || i > j {
		t.Fatalf("start-up log lines not before ready:\n%s", out)
	}
	for n := 1; n <= 6; n++ {
		if strings.Count(out, "log n="+strconv.Itoa(n)+" ") != 1 {
			t.Fatalf("line %d missing or repeated:\n%s", n, out)
		}
	}
}

func TestAllocateGrowsToCap(t *testing.T) {
	cfg, _ := parseFlags([]string{"--alloc-mb", "2", "--alloc-step-mb", "3", "--alloc-interval", "10ms", "--alloc-max-mb", "6"}, nil)
	r := start(t, cfg, false)
	if got := r.a.heldMB(); got < 2 {
		t.Fatalf("held %d MiB after start, want >= 2", got)
	}
	deadline := time.Now().Add(3 * time.Second)
	for r.a.heldMB() < 6 {
		if time.Now().After(deadline) {
			t.Fatalf("held %d MiB, never reached the cap of 6", r.a.heldMB())
		}
		time.Sleep(10 * time.Millisecond)
	}
	time.Sleep(50 * time.Millisecond)
	if got := r.a.heldMB(); got != 6 {
		t.Fatalf("held %d MiB, want exactly the cap of 6", got)
	}
}

func TestListenErrorExits1(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	r := &running{sig: make(chan os.Signal, 1), code: make(chan int, 1), out: &syncBuffer{}}
	r.a = newApp(config{healthy: true}, r.out)
	r.a.httpAddr = ln.Addr().String()
	go func() { r.code <- r.a.run(r.sig) }()
	if c := r.wait(t, 3*time.Second); c != 1 {
		t.Fatalf("exit code = %d, want 1", c)
	}
	if !strings.Contains(r.out.String(), "listen http") {
		t.Fatalf("no listen error reported:\n%s", r.out)
	}
}

func TestIgnoreSigterm(t *testing.T) {
	cfg, _ := parseFlags([]string{"--http-port", "0", "--ignore-sigterm", "--exit-after", "300ms", "--exit-code", "5"}, nil)
	r := start(t, cfg, false)
	r.sig <- syscall.SIGTERM
	r.sig <- syscall.SIGINT
	// Only --exit-after ends it: the signals are logged and dropped.
	if c := r.wait(t, 3*time.Second); c != 5 {
		t.Fatalf("exit code = %d, want 5 from --exit-after", c)
	}
	if n := strings.Count(r.out.String(), "ignoring it"); n != 2 {
		t.Fatalf("%d signals logged as ignored, want 2:\n%s", n, r.out)
	}
}

// With --stop-signals SIGUSR1 the app is what a STOPSIGNAL test needs: the
// configured signal ends it with 0, Docker's usual SIGTERM is logged by name
// and ignored.
func TestStopSignals(t *testing.T) {
	cfg, err := parseFlags([]string{"--http-port", "0", "--stop-signals", "usr1", "--exit-after", "5s", "--exit-code", "9"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	r := start(t, cfg, false)
	r.sig <- syscall.SIGTERM
	r.sig <- syscall.SIGUSR1
	if c := r.wait(t, 3*time.Second); c != 0 {
		t.Fatalf("exit code = %d, want 0 from SIGUSR1", c)
	}
	out := r.out.String()
	for _, want := range []string{"received SIGTERM, ignoring it", "received SIGUSR1, exiting with code 0"} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	if _, err := parseFlags([]string{"--stop-signals", "SIGFOO"}, io.Discard); err == nil || !strings.Contains(err.Error(), "unknown signal") {
		t.Errorf("--stop-signals SIGFOO: err = %v, want unknown signal", err)
	}
}
