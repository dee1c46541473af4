package main

import (
	"context"
	"crypto/tls"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"sync/atomic"
	"time"
)

// shutdownGrace bounds how long in-flight HTTP requests may delay the exit:
// "exits 0 promptly" on SIGTERM is what grace-period tests measure against.
const shutdownGrace = time.Second

// app is one run of the server mode.
type app struct {
	cfg     config
	name    string // $TESTAPP_NAME, to tell instances apart in logs and GET /
	host    string
	started time.Time

	// httpAddr and tcpAddr are the listen addresses ("" = off); they come
	// from the config and tests replace them with 127.0.0.1:0.
	httpAddr string
	tcpAddr  string
	// httpsAddr is --https-port's listen address ("" = off).
	httpsAddr string
	// ready is closed once the listeners are bound, for tests.
	ready chan struct{}

	outMu sync.Mutex
	out   io.Writer
	logN  atomic.Int64

	healthMu sync.Mutex // orders health flips with their ready-file writes
	healthy  atomic.Bool

	memMu sync.Mutex
	mem   [][]byte

	httpLn net.Listener
	httpSv *http.Server

	httpsLn net.Listener
	httpsSv *http.Server
	tcpLn   net.Listener
	connMu  sync.Mutex
	conns   map[net.Conn]struct{}
}

func newApp(cfg config, out io.Writer) *app {
	host, err := os.Hostname()
	if err != nil {
		host = "unknown"
	}
	a := &app{
		cfg:     cfg,
		name:    os.Getenv("TESTAPP_NAME"),
		host:    host,
		started: time.Now(),
		ready:   make(chan struct{}),
		out:     out,
		conns:   map[net.Conn]struct{}{},
	}
	if cfg.httpPort != 0 {
		a.httpAddr = ":" + strconv.Itoa(cfg.httpPort)
	}
	if cfg.httpsPort != 0 {
		a.httpsAddr = ":" + strconv.Itoa(cfg.httpsPort)
	}
	if cfg.tcpPort != 0 {
		a.tcpAddr = ":" + strconv.Itoa(cfg.tcpPort)
	}
	return a
}

// logf writes one line to stdout; the mutex keeps lines from the ticker and
// the main flow whole.
func (a *app) logf(format string, args ...any) {
	a.outMu.Lock()
	defer a.outMu.Unlock()
	fmt.Fprintf(a.out, "testapp: "+format+"\n", args...)
}

// logLine prints the next numbered log line; the counter is shared by
// --log-lines and --log-every so a test can tell lines were not lost.
func (a *app) logLine() {
	a.logf("log n=%d name=%s", a.logN.Add(1), a.name)
}

// run executes the server mode until a signal, --exit-after or a serve error,
// and returns the process exit code.
func (a *app) run(sig <-chan os.Signal) int {
	a.logf("starting pid=%d hostname=%s name=%s", os.Getpid(), a.host, a.name)

	if a.cfg.allocMB > 0 {
		a.logf("allocated %d MiB", a.allocate(a.cfg.allocMB))
	}
	if a.cfg.touchFile != "" {
		if err := a.touch(a.cfg.touchFile); err != nil {
			a.logf("error: %v", err)
			return 1
		}
	}
	a.setHealthy(a.cfg.healthy)
	for range a.cfg.logLines {
		a.logLine()
	}

	if err := a.listen(); err != nil {
		a.logf("error: %v", err)
		a.closeAll()
		return 1
	}
	defer a.shutdown()

	done := make(chan struct{})
	defer close(done)
	errc := make(chan error, 3)
	if a.httpLn != nil {
		go func() {
			if err := a.httpSv.Serve(a.httpLn); !errors.Is(err, http.ErrServerClosed) {
				errc <- fmt.Errorf("serve http: %w", err)
			}
		}()
	}
	if a.httpsLn != nil {
		go func() {
			if err := a.httpsSv.Serve(a.httpsLn); !errors.Is(err, http.ErrServerClosed) {
				errc <- fmt.Errorf("serve https: %w", err)
			}
		}()
	}
	if a.tcpLn != nil {
		go func() {
			if err := a.serveTCP(); err != nil {
				errc <- err
			}
		}()
	}
	if a.cfg.logEvery > 0 {
		go a.every(done, a.cfg.logEvery, a.logLine)
	}
	if a.cfg.allocStepMB > 0 {
		go a.every(done, a.cfg.allocInterval, a.allocStep)
	}
	var exitC <-chan time.Time
	if a.cfg.exitSet {
		t := time.NewTimer(a.cfg.exitAfter)
		defer t.Stop()
		exitC = t.C
	}

	if a.httpsLn != nil {
		a.logf("ready http=%s tcp=%s https=%s healthy=%t", addrOf(a.httpLn), addrOf(a.tcpLn), addrOf(a.httpsLn), a.healthy.Load())
	} else {
		// The line without https= is what existing tests wait for.
		a.logf("ready http=%s tcp=%s healthy=%t", addrOf(a.httpLn), addrOf(a.tcpLn), a.healthy.Load())
	}
	close(a.ready)

	for {
		select {
		case s := <-sig:
			if a.cfg.ignoreSigterm {
				a.logf("received %s, ignoring it (--ignore-sigterm)", signalName(s))
				continue
			}
			if !a.isStopSignal(s) {
				a.logf("received %s, ignoring it (not in --stop-signals)", signalName(s))
				continue
			}
			if a.cfg.stopDelay > 0 {
				a.logf("received %s, stopping in %s", signalName(s), a.cfg.stopDelay)
				a.waitIgnoringSignals(sig, a.cfg.stopDelay)
			}
			a.logf("received %s, exiting with code 0", signalName(s))
			return 0
		case <-exitC:
			a.logf("exiting with code %d after %s", a.cfg.exitCode, a.cfg.exitAfter)
			return a.cfg.exitCode
		case err := <-errc:
			a.logf("error: %v", err)
			return 1
		}
	}
}

// waitIgnoringSignals sleeps for d while logging (not obeying) further
// signals: a slow-stopping app must use its whole delay so grace-period tests
// see Docker's SIGKILL when the delay is longer than the grace period.
func (a *app) waitIgnoringSignals(sig <-chan os.Signal, d time.Duration) {
	t := time.NewTimer(d)
	defer t.Stop()
	for {
		select {
		case <-t.C:
			return
		case s := <-sig:
			a.logf("received %s again, still stopping", signalName(s))
		}
	}
}

func (a *app) isStopSignal(s os.Signal) bool {
	stop := a.cfg.stopSignals
	if stop == nil {
		stop = defaultStopSignals
	}
	for _, t := range stop {
		if t == s {
			return true
		}
	}
	return false
}

func (a *app) every(done <-chan struct{}, d time.Duration, f func()) {
	t := time.NewTicker(d)
	defer t.Stop()
	for {
		select {
		case <-done:
			return
		case <-t.C:
			f()
		}
	}
}

func addrOf(ln net.Listener) string {
	if ln == nil {
		return "off"
	}
	return ln.Addr().String()
}

func (a *app) listen() error {
	if a.httpAddr != "" {
		ln, err := net.Listen("tcp", a.httpAddr)
		if err != nil {
			return fmt.Errorf("listen http %s: %w", a.httpAddr, err)
		}
		a.httpLn = ln
		a.httpSv = &http.Server{Handler: a.handler(), ReadHeaderTimeout: 5 * time.Second}
	}
	if a.httpsAddr != "" {
		cert, err := selfSignedCert(a.host)
		if err != nil {
			return fmt.Errorf("https certificate: %w", err)
		}
		ln, err := net.Listen("tcp", a.httpsAddr)
		if err != nil {
			return fmt.Errorf("listen https %s: %w", a.httpsAddr, err)
		}
		a.httpsLn = tls.NewListener(ln, &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12})
		a.httpsSv = &http.Server{Handler: a.handler(), ReadHeaderTimeout: 5 * time.Second}
	}
	if a.tcpAddr != "" {
		ln, err := net.Listen("tcp", a.tcpAddr)
		if err != nil {
			return fmt.Errorf("listen tcp %s: %w", a.tcpAddr, err)
		}
		a.tcpLn = ln
	}
	return nil
}

// shutdown stops serving and removes the ready file, so a file left in a
// volume cannot make the next container look ready before it is.
func (a *app) shutdown() {
	for _, sv := range []*http.Server{a.httpSv, a.httpsSv} {
		if sv == nil {
			continue
		}
		ctx, cancel := context.WithTimeout(context.Background(), shutdownGrace)
		if err := sv.Shutdown(ctx); err != nil {
			_ = sv.Close()
		}
		cancel()
	}
	a.closeAll()
	if a.cfg.readyFile != "" {
		if err := os.Remove(a.cfg.readyFile); err != nil && !errors.Is(err, os.ErrNotExist) {
			a.logf("error: remove ready file: %v", err)
		}
	}
}

// closeAll closes the raw listeners and echo connections; closing an
// already-closed listener is harmless.
func (a *app) closeAll() {
	if a.httpLn != nil {
		_ = a.httpLn.Close()
	}
	if a.httpsLn != nil {
		_ = a.httpsLn.Close()
	}
	if a.tcpLn != nil {
		_ = a.tcpLn.Close()
	}
	a.connMu.Lock()
	for c := range a.conns {
		_ = c.Close()
	}
	a.connMu.Unlock()
}

// serveTCP echoes every connection back to itself until the listener closes.
func (a *app) serveTCP() error {
	for {
		c, err := a.tcpLn.Accept()
		if err != nil {
			if errors.Is(err, net.ErrClosed) {
				return nil
			}
			return fmt.Errorf("accept tcp: %w", err)
		}
		a.connMu.Lock()
		a.conns[c] = struct{}{}
		a.connMu.Unlock()
		go func() {
			_, _ = io.Copy(c, c)
			_ = c.Close()
			a.connMu.Lock()
			delete(a.conns, c)
			a.connMu.Unlock()
		}()
	}
}

func (a *app) handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /{$}", a.handleRoot)
	mux.HandleFunc("GET /healthz", a.handleHealthz)
	mux.HandleFunc("POST /healthz/fail", func(w http.ResponseWriter, r *http.Request) {
		a.setHealthy(false)
		a.handleHealthz(w, r)
	})
	mux.HandleFunc("POST /healthz/ok", func(w http.ResponseWriter, r *http.Request) {
		a.setHealthy(true)
		a.handleHealthz(w, r)
	})
	return mux
}

// whoami is the body of GET /: enough for a test to know which container
// answered through a published port.
type whoami struct {
	App      string    `json:"app"`
	Hostname string    `json:"hostname"`
	Name     string    `json:"name"`
	PID      int       `json:"pid"`
	Healthy  bool      `json:"healthy"`
	Started  time.Time `json:"started"`
}

func (a *app) handleRoot(w http.ResponseWriter, _ *http.Request) {
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(whoami{
		App:      "testapp",
		Hostname: a.host,
		Name:     a.name,
		PID:      os.Getpid(),
		Healthy:  a.healthy.Load(),
		Started:  a.started.UTC(),
	})
}

func (a *app) handleHealthz(w http.ResponseWriter, _ *http.Request) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	if a.healthy.Load() {
		_, _ = io.WriteString(w, "ok\n")
		return
	}
	w.WriteHeader(http.StatusServiceUnavailable)
	_, _ = io.WriteString(w, "unhealthy\n")
}

// setHealthy flips health and mirrors it in --ready-file. A ready-file error
// is logged rather than fatal: the exec probe then fails, which is exactly
// what the test will see and report.
func (a *app) setHealthy(h bool) {
	a.healthMu.Lock()
	defer a.healthMu.Unlock()
	a.healthy.Store(h)
	a.logf("healthy=%t", h)
	if a.cfg.readyFile == "" {
		return
	}
	if h {
		if err := writeWithDirs(a.cfg.readyFile, []byte("ready\n"), 0); err != nil {
			a.logf("error: %v", err)
		}
		return
	}
	if err := os.Remove(a.cfg.readyFile); err != nil && !errors.Is(err, os.ErrNotExist) {
		a.logf("error: remove ready file: %v", err)
	}
}

// touch appends one line per start, so volume tests can count how many
// containers have used the same volume.
func (a *app) touch(path string) error {
	line := fmt.Sprintf("started %s hostname=%s name=%s pid=%d\n",
		time.Now().UTC().Format(time.RFC3339Nano), a.host, a.name, os.Getpid())
	if err := writeWithDirs(path, []byte(line), os.O_APPEND); err != nil {
		return err
	}
	a.logf("touched %s", path)
	return nil
}

// writeWithDirs writes data to path, creating missing parent directories:
// the FROM scratch image has no /tmp, so a ready file there needs its dir.
// extra is ORed into the open flags (os.O_APPEND, or 0 to truncate).
func writeWithDirs(path string, data []byte, extra int) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return fmt.Errorf("create directory for %s: %w", path, err)
	}
	flags := os.O_WRONLY | os.O_CREATE | extra
	if extra&os.O_APPEND == 0 {
		flags |= os.O_TRUNC
	}
	f, err := os.OpenFile(path, flags, 0o644)
	if err != nil {
		return fmt.Errorf("open %s: %w", path, err)
	}
	if _, err := f.Write(data); err != nil {
		_ = f.Close()
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("close %s: %w", path, err)
	}
	return nil
}

// allocate adds mb MiB, each page written once so the memory is resident
// (counted against a container's memory limit), and returns the total held.
func (a *app) allocate(mb int) int {
	page := os.Getpagesize()
	a.memMu.Lock()
	defer a.memMu.Unlock()
	for range mb {
		chunk := make([]byte, 1<<20)
		for i := 0; i < len(chunk); i += page {
			chunk[i] = 1
		}
		a.mem = append(a.mem, chunk)
	}
	return len(a.mem)
}

// allocStep is one tick of --alloc-step-mb, capped by --alloc-max-mb so a
// stray run outside a memory-limited container cannot eat the host.
func (a *app) allocStep() {
	step := a.cfg.allocStepMB
	if capMB := a.cfg.allocMaxMB; capMB > 0 {
		held := a.heldMB()
		if held >= capMB {
			return
		}
		step = min(step, capMB-held)
	}
	a.logf("allocated %d MiB", a.allocate(step))
}

// heldMB reports the memory held, for tests.
func (a *app) heldMB() int {
	a.memMu.Lock()
	defer a.memMu.Unlock()
	return len(a.mem)
}
