package controllers

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"testing"
	"time"

	"github.com/go-logr/logr/testr"

	"berth.dev/berth/apis/v1alpha1"
	"berth.dev/berth/controllers/plan"
	"berth.dev/berth/internal/docker"
	"berth.dev/berth/internal/governor"
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
	cfg.Profile = governor.ProfileCI
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

// createLikeController creates svc's container the way the controller does
// (spec → plan config → Docker spec → create) on the Environment's own
// network, both removed gracefully when the test ends.
func createLikeController(ctx context.Context, t *testing.T, cli *docker.Client, cfg docker.Config, env *v1alpha1.Environment, svc *v1alpha1.Service) docker.Created {
	t.Helper()
	created, _ := createLikeControllerHost(ctx, t, cli, cfg, env, svc, plan.HostReads{})
	return created
}

// createLikeControllerHost is createLikeController with the host reads
// (files, host paths) the controller would pass; it also returns the
// plan's config, whose files the caller copies in before the start.
func createLikeControllerHost(ctx context.Context, t *testing.T, cli *docker.Client, cfg docker.Config, env *v1alpha1.Environment, svc *v1alpha1.Service, host plan.HostReads) (docker.Created, plan.ContainerConfig) {
	t.Helper()
	pc, err := plan.BuildContainerConfigHost(env, svc, plan.Options{ManagerID: cfg.ManagerID}, host)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := cli.EnsureNetwork(ctx, docker.NetworkSpec{Environment: env.Name, EnvironmentUID: string(env.UID)}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := cli.RemoveNetwork(context.Background(), pc.Network); err != nil {
			t.Errorf("remove network: %v", err)
		}
	})
	created, err := cli.CreateContainer(ctx, containerSpec(plan.Op{
		Kind: plan.OpCreateContainer, Environment: env.Name, Service: svc.Name, Config: &pc,
	}, string(env.UID)))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := cli.StopAndRemove(context.Background(), created.ID, plan.GracePeriod(svc)); err != nil {
			t.Errorf("cleanup: %v", err)
		}
	})
	return created, pc
}
