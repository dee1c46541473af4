package dashboard

import (
	"bytes"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"fmt"
	"html/template"
	"io/fs"
	"math"
	"path"
	"strings"
	"time"
)

//go:embed templates/*.html
var templateFS embed.FS

//go:embed static
var staticFS embed.FS

// pages holds one template set per page (each a clone of the layout with
// its own "main"), and the static assets with their content hashes: asset
// URLs carry the hash, so browsers cache them for good and never see a
// stale one after an upgrade.
type pages struct {
	sets   map[string]*template.Template
	assets map[string]asset
}

type asset struct {
	body   []byte
	zipped []byte // gzipped once at start
	hash   string
	mime   string
}

// pageData is what every page template gets.
type pageData struct {
	Page string // overview, env, engine, error
	Env  string
	Data any
}

func newPages() (*pages, error) {
	p := &pages{sets: map[string]*template.Template{}, assets: map[string]asset{}}
	if err := p.loadAssets(); err != nil {
		return nil, err
	}
	base, err := template.New("").Funcs(p.funcs()).ParseFS(templateFS, "templates/layout.html")
	if err != nil {
		return nil, fmt.Errorf("parse layout: %w", err)
	}
	for _, name := range []string{"overview", "env", "engine", "error"} {
		t, err := base.Clone()
		if err != nil {
			return nil, fmt.Errorf("clone layout for %s: %w", name, err)
		}
		if _, err := t.ParseFS(templateFS, "templates/"+name+".html"); err != nil {
			return nil, fmt.Errorf("parse %s: %w", name, err)
		}
		p.sets[name] = t
	}
	return p, nil
}

func (p *pages) loadAssets() error {
	return fs.WalkDir(staticFS, "static", func(name string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		body, err := staticFS.ReadFile(name)
		if err != nil {
			return fmt.Errorf("read %s: %w", name, err)
		}
		sum := sha256.Sum256(body)
		mime := "application/octet-stream"
		switch path.Ext(name) {
		case ".css":
			mime = "text/css; charset=utf-8"
		case ".js":
			mime = "text/javascript; charset=utf-8"
		}
		p.assets[path.Base(name)] = asset{body: body, zipped: gzipBytes(body), hash: hex.EncodeToString(sum[:6]), mime: mime}
		return nil
	})
}

// render executes a named template of a page's set into a string (for
// fragments sent over event streams).
func (p *pages) render(page, name string, data any) (string, error) {
	var b bytes.Buffer
	if err := p.sets[page].ExecuteTemplate(&b, name, data); err != nil {
		return "", fmt.Errorf("render %s/%s: %w", page, name, err)
	}
	return b.String(), nil
}

func (p *pages) funcs() template.FuncMap {
	return template.FuncMap{
		"asset":      func(name string) string { return "/static/" + name + "?v=" + p.assets[name].hash },
		"badge":      func(class, text string) map[string]string { return map[string]string{"Class": class, "Text": text} },
		"phaseClass": phaseClass,
		"condClass":  condClass,
		"eventClass": func(t string) string {
			if t == "Warning" {
				return "warn"
			}
			return "wait"
		},
		"join":  strings.Join,
		"ago":   ago,
		"ts":    func(t time.Time) string { return stampOr(t, time.RFC3339) },
		"stamp": func(t time.Time) string { return stampOr(t, "2006-01-02 15:04:05 MST") },
		"clock": func(t time.Time) string { return stampOr(t, "15:04:05") },
		"bytes": formatBytes,
		"ms":    func(v float64) string { return formatValue(v, "ms") },
		"dur":   func(d time.Duration) string { return d.Round(time.Millisecond).String() },
	}
}

// condClass colors a condition by what its status means: Ready True and
// Degraded False are good, Progressing is busy while True and neutral when
// there is nothing left to do.
func condClass(typ, status string) string {
	switch {
	case status == "Unknown":
		return "wait"
	case typ == "Progressing" && status == "True":
		return "busy"
	case typ == "Progressing":
		return "wait"
	case typ == "Admitted" && status == "False":
		return "wait" // Queued: waiting for room, not failing
	case (typ == "Degraded") == (status == "False"):
		return "ok"
	}
	return "warn"
}

func stampOr(t time.Time, layout string) string {
	if t.IsZero() {
		return ""
	}
	return t.Local().Format(layout)
}

// ago is a short age like kubectl's: 45s, 12m, 3h, 5d. The page's script
// keeps it current from the data-ts attribute next to it.
func ago(t time.Time) string {
	if t.IsZero() {
		return "–"
	}
	d := max(time.Since(t), 0)
	switch {
	case d < time.Minute:
		return fmt.Sprintf("%ds", int(d.Seconds()))
	case d < time.Hour:
		return fmt.Sprintf("%dm", int(d.Minutes()))
	case d < 48*time.Hour:
		return fmt.Sprintf("%dh", int(d.Hours()))
	}
	return fmt.Sprintf("%dd", int(d.Hours()/24))
}

// formatBytes prints a size in binary units, as Kubernetes quantities are
// written (64Mi) but with a space and the full unit for reading.
func formatBytes(n int64) string {
	if n <= 0 {
		return "0 B"
	}
	units := []string{"B", "KiB", "MiB", "GiB", "TiB"}
	v, i := float64(n), 0
	for v >= 1024 && i < len(units)-1 {
		v /= 1024
		i++
	}
	if v == math.Trunc(v) || v >= 100 {
		return fmt.Sprintf("%.0f %s", v, units[i])
	}
	return fmt.Sprintf("%.1f %s", v, units[i])
}
