// Package app is what the platform sample's programs share: their
// configuration (a JSON file, usually mounted from a host path, overridden
// by the environment), an HTTP server that shuts down gracefully on
// SIGTERM, and the -healthcheck mode their images' HEALTHCHECK runs.
package app

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"strconv"
	"time"
)

// DefaultConfigPath is where the sample mounts its conf/ directory.
const DefaultConfigPath = "/etc/platform/platform.json"

// Config is every setting of the three programs; each reads the ones it
// needs. JSON names are the file's keys, env names override them.
type Config struct {
	Listen      string `json:"listen"`      // LISTEN_ADDR, default :8080
	DatabaseURL string `json:"databaseURL"` // DATABASE_URL
	RedisURL    string `json:"redisURL"`    // REDIS_URL
	AuthURL     string `json:"authURL"`     // AUTH_URL (backend: where tokens are checked)
	BackendURL  string `json:"backendURL"`  // BACKEND_URL (frontend: where /api goes)
	Message     string `json:"message"`     // PLATFORM_MESSAGE, shown by /api/info
	// SessionTTLSeconds is how long an auth token lives (SESSION_TTL_SECONDS).
	SessionTTLSeconds int `json:"sessionTTLSeconds"`
	// ShutdownSeconds bounds the graceful shutdown (SHUTDOWN_SECONDS); it
	// must stay below the service's terminationGracePeriodSeconds.
	ShutdownSeconds int `json:"shutdownSeconds"`
}

// SessionTTL is the token lifetime, one hour unless configured.
func (c Config) SessionTTL() time.Duration {
	if c.SessionTTLSeconds <= 0 {
		return time.Hour
	}
	return time.Duration(c.SessionTTLSeconds) * time.Second
}

// ShutdownTimeout is how long in-flight requests get after SIGTERM.
func (c Config) ShutdownTimeout() time.Duration {
	if c.ShutdownSeconds <= 0 {
		return 5 * time.Second
	}
	return time.Duration(c.ShutdownSeconds) * time.Second
}

// LoadConfig reads path (DefaultConfigPath when empty, and then a missing
// file is fine: the environment alone may configure a program), then
// applies the environment on top, looked up with getenv.
func LoadConfig(path string, getenv func(string) string) (Config, error) {
	c := Config{Listen: ":8080"}
	explicit := path != ""
	if !explicit {
		path = DefaultConfigPath
	}
	data, err := os.ReadFile(path)
	switch {
	case err == nil:
		if err := json.Unmarshal(data, &c); err != nil {
			return Config{}, fmt.Errorf("config file %s: %w", path, err)
		}
	case errors.Is(err, fs.ErrNotExist) && !explicit:
	default:
		return Config{}, fmt.Errorf("config file: %w", err)
	}
	for name, dst := range map[string]*string{
		"LISTEN_ADDR":      &c.Listen,
		"DATABASE_URL":     &c.DatabaseURL,
		"REDIS_URL":        &c.RedisURL,
		"AUTH_URL":         &c.AuthURL,
		"BACKEND_URL":      &c.BackendURL,
		"PLATFORM_MESSAGE": &c.Message,
	} {
		if v := getenv(name); v != "" {
			*dst = v
		}
	}
	for name, dst := range map[string]*int{
		"SESSION_TTL_SECONDS": &c.SessionTTLSeconds,
		"SHUTDOWN_SECONDS":    &c.ShutdownSeconds,
	} {
		if v := getenv(name); v != "" {
			n, err := strconv.Atoi(v)
			if err != nil {
				return Config{}, fmt.Errorf("%s=%q: not a number", name, v)
			}
			*dst = n
		}
	}
	if c.Listen == "" {
		c.Listen = ":8080"
	}
	return c, nil
}

// Require fails naming the first empty setting among those a program needs.
func (c Config) Require(names ...string) error {
	vals := map[string]string{
		"DATABASE_URL": c.DatabaseURL,
		"REDIS_URL":    c.RedisURL,
		"AUTH_URL":     c.AuthURL,
		"BACKEND_URL":  c.BackendURL,
	}
	for _, n := range names {
		if vals[n] == "" {
			return fmt.Errorf("%s is not set (environment or config file)", n)
		}
	}
	return nil
}
