// Command auth is the platform sample's sign-in service: users come from
// Postgres (the init SQL creates them), sessions live in Redis with a TTL.
//
//	POST /login     {"username","password"} → {"token"}
//	GET  /validate  Authorization: Bearer T → {"user"}
//	POST /logout    Authorization: Bearer T → 204
package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/redis/go-redis/v9"

	"berth.dev/berth/config/samples/platform/internal/app"
)

const sessionPrefix = "platform:session:"

type server struct {
	cfg app.Config
	db  *pgxpool.Pool
	rdb *redis.Client
	log *slog.Logger
}

func main() { os.Exit(app.Main("auth", setup)) }

func setup(ctx context.Context, cfg app.Config, log *slog.Logger) (http.Handler, func(), error) {
	db, rdb, err := app.Connect(ctx, cfg)
	if err != nil {
		return nil, nil, err
	}
	s := &server{cfg: cfg, db: db, rdb: rdb, log: log}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", s.healthz)
	mux.HandleFunc("POST /login", s.login)
	mux.HandleFunc("GET /validate", s.validate)
	mux.HandleFunc("POST /logout", s.logout)
	return mux, func() { db.Close(); _ = s.rdb.Close() }, nil
}

func (s *server) healthz(w http.ResponseWriter, r *http.Request) {
	ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
	defer cancel()
	var users int
	if err := s.db.QueryRow(ctx, "SELECT count(*) FROM users").Scan(&users); err != nil {
		http.Error(w, "postgres: "+err.Error(), http.StatusServiceUnavailable)
		return
	}
	if err := s.rdb.Ping(ctx).Err(); err != nil {
		http.Error(w, "redis: "+err.Error(), http.StatusServiceUnavailable)
		return
	}
	fmt.Fprintf(w, "ok %d users\n", users)
}

// login checks the password against the salted SHA-256 the init SQL
// stored (a sample: a real service would use a slow hash such as bcrypt)
// and opens a session in Redis.
func (s *server) login(w http.ResponseWriter, r *http.Request) {
	var in struct {
		Username string `json:"username"`
		Password string `json:"password"`
	}
	if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, 1<<16)).Decode(&in); err != nil || in.Username == "" {
		app.Error(w, http.StatusBadRequest, `want {"username": "...", "password": "..."}`)
		return
	}
	ctx := r.Context()
	var ok bool
	err := s.db.QueryRow(ctx,
		`SELECT password_sha256 = encode(sha256(convert_to(salt || $2, 'UTF8')), 'hex')
		   FROM users WHERE username = $1`, in.Username, in.Password).Scan(&ok)
	if errors.Is(err, pgx.ErrNoRows) || (err == nil && !ok) {
		app.Error(w, http.StatusUnauthorized, "wrong username or password")
		return
	}
	if err != nil {
		app.Error(w, http.StatusServiceUnavailable, "postgres: "+err.Error())
		return
	}
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		app.Error(w, http.StatusInternalServerError, err.Error())
		return
	}
	token := hex.EncodeToString(b)
	if err := s.rdb.Set(ctx, sessionPrefix+token, in.Username, s.cfg.SessionTTL()).Err(); err != nil {
		app.Error(w, http.StatusServiceUnavailable, "redis: "+err.Error())
		return
	}
	app.WriteJSON(w, http.StatusOK, map[string]any{"token": token, "expiresIn": int(s.cfg.SessionTTL().Seconds())})
}

func (s *server) validate(w http.ResponseWriter, r *http.Request) {
	token := app.BearerToken(r)
	if token == "" {
		app.Error(w, http.StatusUnauthorized, "missing bearer token")
		return
	}
	user, err := s.rdb.Get(r.Context(), sessionPrefix+token).Result()
	if errors.Is(err, redis.Nil) {
		app.Error(w, http.StatusUnauthorized, "unknown or expired token")
		return
	}
	if err != nil {
		app.Error(w, http.StatusServiceUnavailable, "redis: "+err.Error())
		return
	}
	app.WriteJSON(w, http.StatusOK, map[string]string{"user": user})
}

func (s *server) logout(w http.ResponseWriter, r *http.Request) {
	token := app.BearerToken(r)
	if token == "" {
		app.Error(w, http.StatusUnauthorized, "missing bearer token")
		return
	}
	if err := s.rdb.Del(r.Context(), sessionPrefix+token).Err(); err != nil {
		app.Error(w, http.StatusServiceUnavailable, "redis: "+err.Error())
		return
	}
	w.WriteHeader(http.StatusNoContent)
}
