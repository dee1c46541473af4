package dashboard

import (
	"berth.dev/berth/internal/docker"
	"bytes"
	"net/http"
	"slices"
	"strings"

	"k8s.io/apimachinery/pkg/labels"

	"berth.dev/berth/apis/v1alpha1"
)

type overviewData struct {
	Summary []phaseCount
	Rows    []envRow
}

type envData struct {
	View envView
}

type engineData struct {
	Info        any
	InfoErr     string
	Disk        *docker.DiskUsage
	DiskErr     string
	Reserved    reservation
	ReservedPct float64
	Live        engineLive
}

func (s *Server) overviewPage(w http.ResponseWriter, r *http.Request) {
	if !s.synced(r.Context()) {
		s.errorPage(w, r, http.StatusServiceUnavailable, "Starting", "berth is still loading the Environments; reload in a moment.")
		return
	}
	envs := s.listEnvs()
	d := overviewData{Summary: countPhases(envs)}
	for _, e := range envs {
		d.Rows = append(d.Rows, rowOf(s.display(e)))
	}
	s.page(w, r, http.StatusOK, pageData{Page: "overview", Data: d})
}

func (s *Server) envPage(w http.ResponseWriter, r *http.Request) {
	name := r.PathValue("name")
	if !s.synced(r.Context()) {
		s.errorPage(w, r, http.StatusServiceUnavailable, "Starting", "berth is still loading the Environments; reload in a moment.")
		return
	}
	env, err := s.lister.Get(name)
	if err != nil {
		s.errorPage(w, r, http.StatusNotFound, "Not found", "There is no Environment named "+name+" (any more).")
		return
	}
	s.page(w, r, http.StatusOK, pageData{Page: "env", Env: name, Data: envData{View: s.envView(env)}})
}

func (s *Server) enginePage(w http.ResponseWriter, r *http.Request) {
	d := engineData{Live: s.engineLive(), Reserved: s.reserved()}
	if info, err := s.info.get(r.Context()); err != nil {
		d.InfoErr = err.Error()
	} else {
		d.Info = info
		d.ReservedPct = percent(d.Reserved.Limit, info.MemTotal)
		if du, err := s.info.diskUsage(r.Context()); err != nil {
			d.DiskErr = err.Error()
		} else {
			d.Disk = &du
		}
	}
	s.page(w, r, http.StatusOK, pageData{Page: "engine", Data: d})
}

func (s *Server) errorPage(w http.ResponseWriter, r *http.Request, code int, title, msg string) {
	s.page(w, r, code, pageData{Page: "error", Data: map[string]string{"Title": title, "Message": msg}})
}

// page renders a whole page into memory first, so a template error is a
// clean 500 rather than half a page.
func (s *Server) page(w http.ResponseWriter, r *http.Request, code int, d pageData) {
	var b bytes.Buffer
	if err := s.pages.sets[d.Page].ExecuteTemplate(&b, "layout", d); err != nil {
		s.log.Error(err, "render page", "page", d.Page)
		http.Error(w, "dashboard: cannot render the page", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.Header().Set("Content-Security-Policy", "default-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; frame-ancestors 'none'")
	if acceptsGzip(r) {
		if z := gzipBytes(b.Bytes()); z != nil {
			w.Header().Set("Content-Encoding", "gzip")
			w.Header().Set("Vary", "Accept-Encoding")
			w.WriteHeader(code)
			_, _ = w.Write(z)
			return
		}
	}
	w.WriteHeader(code)
	_, _ = w.Write(b.Bytes())
}

// listEnvs is every cached Environment, by name.
func (s *Server) listEnvs() []*v1alpha1.Environment {
	envs, err := s.lister.List(labels.Everything())
	if err != nil {
		return nil
	}
	slices.SortFunc(envs, func(a, b *v1alpha1.Environment) int { return strings.Compare(a.Name, b.Name) })
	return envs
}

// getEnv reads one Environment from the cache; ok is false when it is
// not there (deleted, or never created).
func (s *Server) getEnv(name string) (*v1alpha1.Environment, bool) {
	env, err := s.lister.Get(name)
	if err != nil {
		return nil, false
	}
	return env, true
}
