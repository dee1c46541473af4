package app

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func env(kv map[string]string) func(string) string {
	return func(k string) string { return kv[k] }
}

func TestLoadConfigFileThenEnvironment(t *testing.T) {
	p := filepath.Join(t.TempDir(), "platform.json")
	if err := os.WriteFile(p, []byte(`{"message": "from file", "redisURL": "redis://file:6379/0", "sessionTTLSeconds": 60}`), 0o644); err != nil {
		t.Fatal(err)
	}
	c, err := LoadConfig(p, env(map[string]string{"REDIS_URL": "redis://env:6379/0", "SHUTDOWN_SECONDS": "3"}))
	if err != nil {
		t.Fatal(err)
	}
	if c.Message != "from file" || c.RedisURL != "redis://env:6379/0" || c.Listen != ":8080" {
		t.Errorf("got %+v: want the file's message, the environment's Redis URL, the default listen address", c)
	}
	if c.SessionTTL() != time.Minute || c.ShutdownTimeout() != 3*time.Second {
		t.Errorf("ttl %s shutdown %s", c.SessionTTL(), c.ShutdownTimeout())
	}
	if err := c.Require("REDIS_URL", "DATABASE_URL"); err == nil || !strings.Contains(err.Error(), "DATABASE_URL") {
		t.Errorf("Require: %v, want DATABASE_URL named", err)
	}
}

func TestLoadConfigErrors(t *testing.T) {
	dir := t.TempDir()
	if _, err := LoadConfig(filepath.Join(dir, "missing.json"), env(nil)); err == nil {
		t.Error("an explicit config file that is missing must be an error")
	}
	bad := filepath.Join(dir, "bad.json")
	if err := os.WriteFile(bad, []byte(`{"message": `), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := LoadConfig(bad, env(nil)); err == nil || !strings.Contains(err.Error(), bad) {
		t.Errorf("bad JSON: %v, want the file named", err)
	}
	if _, err := LoadConfig(bad, env(map[string]string{"SESSION_TTL_SECONDS": "soon"})); err == nil {
		t.Error("want an error")
	}
	good := filepath.Join(dir, "good.json")
	if err := os.WriteFile(good, []byte(`{}`), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := LoadConfig(good, env(map[string]string{"SESSION_TTL_SECONDS": "soon"})); err == nil || !strings.Contains(err.Error(), "SESSION_TTL_SECONDS") {
		t.Errorf("bad number: %v, want the variable named", err)
	}
}

func TestDefaults(t *testing.T) {
	var c Config
	if c.SessionTTL() != time.Hour || c.ShutdownTimeout() != 5*time.Second {
		t.Errorf("defaults: ttl %s shutdown %s", c.SessionTTL(), c.ShutdownTimeout())
	}
}
