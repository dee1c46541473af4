package dashboard

import (
	"net/http"
	"strings"
)

func (s *Server) routes() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /{$}", s.overviewPage)
	mux.HandleFunc("GET /env/{name}", s.envPage)
	mux.HandleFunc("GET /engine", s.enginePage)

	mux.HandleFunc("GET /events/overview", s.pageStream(s.overviewEvents))
	mux.HandleFunc("GET /events/env/{name}", s.pageStream(s.envEvents))
	mux.HandleFunc("GET /events/engine", s.pageStream(s.engineEvents))

	mux.HandleFunc("GET /env/{name}/logs/{service}", s.logs)
	mux.HandleFunc("GET /env/{name}/memory", s.memory)
	mux.Handle("POST /env/{name}/delete", sameOrigin(http.HandlerFunc(s.deleteEnv)))
	mux.Handle("POST /env/{name}/restart/{service}", sameOrigin(http.HandlerFunc(s.restartService)))

	mux.HandleFunc("GET /static/{file}", s.static)
	return mux
}

func (s *Server) static(w http.ResponseWriter, r *http.Request) {
	a, ok := s.pages.assets[r.PathValue("file")]
	if !ok {
		http.NotFound(w, r)
		return
	}
	w.Header().Set("Content-Type", a.mime)
	if r.URL.Query().Get("v") == a.hash {
		w.Header().Set("Cache-Control", "public, max-age=31536000, immutable")
	} else {
		w.Header().Set("Cache-Control", "no-cache")
	}
	writeBody(w, r, a.body, a.zipped)
}

// sameOrigin guards the two mutations against cross-site requests, on top
// of the SameSite=Strict cookie: the page's script sends a custom header,
// which a form on another site cannot, and a cross-origin script cannot
// without a CORS preflight this server never answers. A browser's
// Sec-Fetch-Site, when sent, must say same-origin, and its Origin, when
// sent, must be this host.
func sameOrigin(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get(actionHeader) != "1" {
			http.Error(w, "dashboard actions need the "+actionHeader+" header", http.StatusForbidden)
			return
		}
		if site := r.Header.Get("Sec-Fetch-Site"); site != "" && site != "same-origin" {
			http.Error(w, "dashboard action from "+site+" refused", http.StatusForbidden)
			return
		}
		if o := r.Header.Get("Origin"); o != "" && o != "null" {
			host := strings.TrimPrefix(strings.TrimPrefix(o, "http://"), "https://")
			if host != r.Host {
				http.Error(w, "cross-origin dashboard action refused", http.StatusForbidden)
				return
			}
		}
		next.ServeHTTP(w, r)
	})
}

// actionHeader marks a request as coming from the dashboard's own script.
const actionHeader = "X-Berth-Dashboard"
