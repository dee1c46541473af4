// Command backend is the platform sample's API: items kept in Postgres, a
// view counter in Redis, sign-in forwarded to the auth service. /healthz
// answers 200 only when a Postgres query (a row the init SQL inserted) and a
// Redis PING both succeed, so its readiness is the database's and the
// cache's, not just the process's.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httputil"
	"net/url"
	"os"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/redis/go-redis/v9"

	"berth.dev/berth/config/samples/platform/internal/app"
)

// viewsKey counts GET /api/items in Redis.
const viewsKey = "platform:items:views"

type server struct {
	cfg  app.Config
	db   *pgxpool.Pool
	rdb  *redis.Client
	auth *url.URL
	http *http.Client
	log  *slog.Logger
}

func main() { os.Exit(app.Main("backend", setup)) }

func setup(ctx context.Context, cfg app.Config, log *slog.Logger) (http.Handler, func(), error) {
	db, rdb, err := app.Connect(ctx, cfg)
	if err != nil {
		return nil, nil, err
	}
	s := &server{cfg: cfg, db: db, rdb: rdb, http: &http.Client{Timeout: 5 * time.Second}, log: log}
	if cfg.AuthURL != "" {
		if s.auth, err = url.Parse(cfg.AuthURL); err != nil {
			return nil, nil, fmt.Errorf("AUTH_URL: %w", err)
		}
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", s.healthz)
	mux.HandleFunc("GET /api/info", s.info)
	mux.HandleFunc("GET /api/items", s.listItems)
	mux.HandleFunc("POST /api/items", s.createItem)
	if s.auth != nil {
		// /api/auth/login → auth's /login: the browser only reaches the
		// frontend, and auth lives on the back network alone.
		proxy := httputil.NewSingleHostReverseProxy(s.auth)
		mux.Handle("/api/auth/", http.StripPrefix("/api/auth", proxy))
	}
	closeFn := func() {
		db.Close()
		_ = s.rdb.Close()
	}
	return mux, closeFn, nil
}

// healthz: the row the init SQL inserted, and a PING.
func (s *server) healthz(w http.ResponseWriter, r *http.Request) {
	ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
	defer cancel()
	var schema string
	if err := s.db.QueryRow(ctx, "SELECT value FROM platform_meta WHERE key = 'schema'").Scan(&schema); err != nil {
		http.Error(w, "postgres: "+err.Error(), http.StatusServiceUnavailable)
		return
	}
	if err := s.rdb.Ping(ctx).Err(); err != nil {
		http.Error(w, "redis: "+err.Error(), http.StatusServiceUnavailable)
		return
	}
	fmt.Fprintf(w, "ok schema %s\n", schema)
}

func (s *server) info(w http.ResponseWriter, r *http.Request) {
	app.WriteJSON(w, http.StatusOK, map[string]string{"service": "backend", "message": s.cfg.Message})
}

type item struct {
	ID        int64     `json:"id"`
	Name      string    `json:"name"`
	Owner     string    `json:"owner"`
	CreatedAt time.Time `json:"createdAt"`
}

func (s *server) listItems(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	rows, err := s.db.Query(ctx, "SELECT id, name, owner, created_at FROM items ORDER BY id")
	if err != nil {
		app.Error(w, http.StatusServiceUnavailable, "postgres: "+err.Error())
		return
	}
	items, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (item, error) {
		var it item
		err := row.Scan(&it.ID, &it.Name, &it.Owner, &it.CreatedAt)
		return it, err
	})
	if err != nil {
		app.Error(w, http.StatusServiceUnavailable, "postgres: "+err.Error())
		return
	}
	views, err := s.rdb.Incr(ctx, viewsKey).Result()
	if err != nil {
		app.Error(w, http.StatusServiceUnavailable, "redis: "+err.Error())
		return
	}
	app.WriteJSON(w, http.StatusOK, map[string]any{"items": items, "views": views})
}

// createItem stores {"name"} for the user the bearer token belongs to
// (checked with auth when AUTH_URL is set).
func (s *server) createItem(w http.ResponseWriter, r *http.Request) {
	owner := "anonymous"
	if s.auth != nil {
		user, err := s.validate(r.Context(), app.BearerToken(r))
		if err != nil {
			app.Error(w, http.StatusUnauthorized, err.Error())
			return
		}
		owner = user
	}
	var in struct {
		Name string `json:"name"`
	}
	if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, 1<<16)).Decode(&in); err != nil || strings.TrimSpace(in.Name) == "" {
		app.Error(w, http.StatusBadRequest, `want {"name": "..."}`)
		return
	}
	it := item{Name: in.Name, Owner: owner}
	err := s.db.QueryRow(r.Context(),
		"INSERT INTO items (name, owner) VALUES ($1, $2) RETURNING id, created_at", in.Name, owner).
		Scan(&it.ID, &it.CreatedAt)
	if err != nil {
		app.Error(w, http.StatusServiceUnavailable, "postgres: "+err.Error())
		return
	}
	app.WriteJSON(w, http.StatusCreated, it)
}

var errNoToken = errors.New("missing bearer token")

// validate asks auth whose token this is.
func (s *server) validate(ctx context.Context, token string) (string, error) {
	if token == "" {
		return "", errNoToken
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, s.auth.JoinPath("validate").String(), nil)
	if err != nil {
		return "", err
	}
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := s.http.Do(req)
	if err != nil {
		return "", fmt.Errorf("auth: %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return "", fmt.Errorf("auth: token refused (%s)", resp.Status)
	}
	var out struct {
		User string `json:"user"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil || out.User == "" {
		return "", fmt.Errorf("auth: bad answer")
	}
	return out.User, nil
}
