// Command frontend serves the platform sample's static page and passes
// /api/ on to the backend, the only service it can reach (both are on the
// front network; Postgres, Redis and auth are not).
package main

import (
	"context"
	"embed"
	"fmt"
	"io/fs"
	"log/slog"
	"net/http"
	"net/http/httputil"
	"net/url"
	"os"

	"berth.dev/berth/config/samples/platform/internal/app"
)

//go:embed static
var static embed.FS

func main() { os.Exit(app.Main("frontend", setup)) }

func setup(_ context.Context, cfg app.Config, log *slog.Logger) (http.Handler, func(), error) {
	if err := cfg.Require("BACKEND_URL"); err != nil {
		return nil, nil, err
	}
	backend, err := url.Parse(cfg.BackendURL)
	if err != nil {
		return nil, nil, fmt.Errorf("BACKEND_URL: %w", err)
	}
	root, err := fs.Sub(static, "static")
	if err != nil {
		return nil, nil, err
	}
	proxy := httputil.NewSingleHostReverseProxy(backend)
	proxy.ErrorHandler = func(w http.ResponseWriter, r *http.Request, err error) {
		log.Info("backend unreachable", "path", r.URL.Path, "err", err)
		app.Error(w, http.StatusBadGateway, "backend unreachable")
	}
	mux := http.NewServeMux()
	// The frontend is healthy when it serves; the backend has its own check.
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) { fmt.Fprintln(w, "ok") })
	mux.Handle("/api/", proxy)
	mux.Handle("/", http.FileServerFS(root))
	return mux, func() {}, nil
}
