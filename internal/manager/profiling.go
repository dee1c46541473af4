package manager

import (
	"net/http"
	"net/http/pprof"
)

// mountProfiling serves the runtime's profiles the way Kubernetes
// components do with --profiling: `go tool pprof` reads them from
// /debug/pprof/profile (CPU, ?seconds=N), /debug/pprof/heap and the rest.
// The handlers are mounted on the manager's own mux, not the default one,
// so nothing is served that the token does not guard.
func mountProfiling(mux *http.ServeMux) {
	mux.HandleFunc("GET /debug/pprof/", pprof.Index)
	mux.HandleFunc("GET /debug/pprof/cmdline", pprof.Cmdline)
	mux.HandleFunc("GET /debug/pprof/profile", pprof.Profile)
	mux.HandleFunc("GET /debug/pprof/symbol", pprof.Symbol)
	mux.HandleFunc("GET /debug/pprof/trace", pprof.Trace)
}
