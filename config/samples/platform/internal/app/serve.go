package app

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"
)

// Main is each program's main: it parses -config and -healthcheck, loads
// the config, and either probes the running server (the image's
// HEALTHCHECK; the image has no shell nor curl) or builds the handler with
// setup and serves it until SIGTERM or SIGINT. It returns the exit code.
func Main(name string, setup func(ctx context.Context, c Config, log *slog.Logger) (http.Handler, func(), error)) int {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	configPath := fs.String("config", os.Getenv("PLATFORM_CONFIG"), "JSON config file (default "+DefaultConfigPath+" when present)")
	healthcheck := fs.Bool("healthcheck", false, "GET /healthz of the server running in this container; exit 0 when it answers 200")
	if err := fs.Parse(os.Args[1:]); err != nil {
		return 2
	}
	log := slog.New(slog.NewTextHandler(os.Stderr, nil)).With("service", name)
	cfg, err := LoadConfig(*configPath, os.Getenv)
	if err != nil {
		log.Error("config", "err", err)
		return 1
	}
	if *healthcheck {
		if err := Probe(cfg.Listen, 2*time.Second); err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 1
		}
		return 0
	}

	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGINT)
	defer stop()
	handler, closeFn, err := setup(ctx, cfg, log)
	if err != nil {
		log.Error("setup", "err", err)
		return 1
	}
	defer closeFn()
	if err := Serve(ctx, cfg, handler, log); err != nil {
		log.Error("serve", "err", err)
		return 1
	}
	return 0
}

// Serve listens on c.Listen and serves h until ctx ends, then shuts down
// gracefully: the listener closes at once, in-flight requests get
// c.ShutdownTimeout. A clean stop returns nil, so the process exits 0 and
// Docker records the stop as a clean one.
func Serve(ctx context.Context, c Config, h http.Handler, log *slog.Logger) error {
	ln, err := net.Listen("tcp", c.Listen)
	if err != nil {
		return err
	}
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	log.Info("listening", "addr", ln.Addr().String())
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	log.Info("shutting down")
	sctx, cancel := context.WithTimeout(context.Background(), c.ShutdownTimeout())
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil {
		return fmt.Errorf("shutdown: %w", err)
	}
	if err := <-errc; err != nil && !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	log.Info("stopped")
	return nil
}

// Probe GETs /healthz of the server listening on addr (":8080" means the
// loopback of this container).
func Probe(addr string, timeout time.Duration) error {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return fmt.Errorf("listen address %q: %w", addr, err)
	}
	if host == "" || host == "0.0.0.0" || host == "::" {
		host = "127.0.0.1"
	}
	client := &http.Client{Timeout: timeout}
	resp, err := client.Get("http://" + net.JoinHostPort(host, port) + "/healthz")
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("/healthz: %s", resp.Status)
	}
	return nil
}

// WriteJSON answers v as JSON with the status code.
func WriteJSON(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	_ = json.NewEncoder(w).Encode(v)
}

// Error answers {"error": msg}.
func Error(w http.ResponseWriter, code int, msg string) {
	WriteJSON(w, code, map[string]string{"error": msg})
}

// BearerToken is the token of an "Authorization: Bearer" header.
func BearerToken(r *http.Request) string {
	t, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	if !ok {
		return ""
	}
	return strings.TrimSpace(t)
}
