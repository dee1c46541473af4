package controllers

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"testing"
	"time"

	"github.com/go-logr/logr/testr"

	"berth.dev/berth/internal/docker"
)

// dockerTestClient is a Docker layer for one Docker-backed test, under a
// manager identity of its own (prefix + a random run ID, also returned so
// the test can name its objects), so nothing it creates can be mistaken for
// another test's or a real manager's. It skips the test when no engine
// answers.
func dockerTestClient(t *testing.T, prefix string) (*docker.Client, docker.Config, string) {
	t.Helper()
	buf := make([]byte, 4)
	_, _ = rand.Read(buf)
	run := hex.EncodeToString(buf)
	cfg := docker.DefaultConfig()
	cfg.Profile = docker.ProfileCI
	cfg.ManagerID = prefix + run
	cfg.Logger = testr.New(t)
	cli, err := docker.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cli.Close() })
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if _, err := cli.Ping(ctx); err != nil {
		t.Skipf("no Docker Engine at %s: %v", cfg.Host, err)
	}
	return cli, cfg, run
}
