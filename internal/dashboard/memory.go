package dashboard

import (
	"bytes"
	"context"
	"net/http"
	"time"

	"berth.dev/berth/internal/docker"
)

// memoryRow is one container's memory use against its limit.
type memoryRow struct {
	Service, Container string
	Used, Limit        int64
	Percent            float64
	Class              string
	Err                string
}

type memoryData struct {
	Rows []memoryRow
	At   time.Time
}

// memory reads each running container's memory once (one-shot stats
// through the governor, a read like any other) and answers an HTML
// fragment: nothing keeps a stats stream open per container.
func (s *Server) memory(w http.ResponseWriter, r *http.Request) {
	name := r.PathValue("name")
	if _, ok := s.getEnv(name); !ok {
		http.Error(w, "no environment "+name, http.StatusNotFound)
		return
	}
	d := memoryData{At: time.Now()}
	for _, c := range s.opts.Cache.Containers(name) {
		if !c.Running() {
			continue
		}
		d.Rows = append(d.Rows, s.usageRow(r.Context(), c))
	}
	html, err := s.pages.render("env", "memory", d)
	if err != nil {
		s.log.Error(err, "render memory", "environment", name)
		http.Error(w, "render memory", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	_, _ = bytes.NewBufferString(html).WriteTo(w)
}

func (s *Server) usageRow(ctx context.Context, c docker.Container) memoryRow {
	row := memoryRow{Service: c.Service, Container: shortID(c.ID)}
	ctx, cancel := context.WithTimeout(ctx, 15*time.Second)
	defer cancel()
	u, err := s.opts.Docker.Usage(ctx, c.ID)
	if err != nil {
		row.Err = err.Error()
		return row
	}
	row.Used, row.Limit = u.MemoryUsage, u.MemoryLimit
	row.Percent = percent(u.MemoryUsage, u.MemoryLimit)
	switch {
	case row.Percent >= 90:
		row.Class = "bad"
	case row.Percent >= 70:
		row.Class = "warn"
	default:
		row.Class = "ok"
	}
	return row
}
