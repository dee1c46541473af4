package controllers

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"berth.dev/berth/apis/v1alpha1"
	"berth.dev/berth/controllers/plan"
	"berth.dev/berth/internal/docker"
)

// outcome is what happened to one planned op.
type outcome struct {
	op  plan.Op
	err error
	// quiet: the op found its work already done (an adopted container),
	// so it makes no event.
	quiet bool
}

// execute runs a plan through the Docker layer. Ops whose Needs have all
// succeeded run together (the governor caps how many reach Docker at
// once); after the first failure nothing new starts, and the error goes
// back to the workqueue's backoff. Every op is idempotent, so the next
// reconcile simply plans what is still missing.
func (c *Controller) execute(ctx context.Context, env *v1alpha1.Environment, p plan.Plan) ([]outcome, error) {
	results := make([]outcome, 0, len(p.Ops))
	done := make([]bool, len(p.Ops))
	started := make([]bool, len(p.Ops))
	var firstErr error
	for remaining := len(p.Ops); remaining > 0 && firstErr == nil; {
		var wave []int
		for i, op := range p.Ops {
			if started[i] {
				continue
			}
			ready := true
			for _, n := range op.Needs {
				if n >= 0 && n < len(done) && !done[n] {
					ready = false
					break
				}
			}
			if ready {
				wave = append(wave, i)
			}
		}
		if len(wave) == 0 {
			return results, fmt.Errorf("plan for %s has ops whose needs never run", env.Name)
		}
		outs := make([]outcome, len(wave))
		var wg sync.WaitGroup
		for j, i := range wave {
			started[i] = true
			wg.Add(1)
			go func(j int, op plan.Op) {
				defer wg.Done()
				quiet, err := c.run(ctx, env, op)
				outs[j] = outcome{op: op, err: err, quiet: quiet}
			}(j, p.Ops[i])
		}
		wg.Wait()
		for j, i := range wave {
			results = append(results, outs[j])
			remaining--
			if outs[j].err != nil {
				c.metrics.operations.WithLabelValues(string(outs[j].op.Kind), "error").Inc()
				if firstErr == nil {
					firstErr = fmt.Errorf("%s: %w", outs[j].op, outs[j].err)
				}
				continue
			}
			c.metrics.operations.WithLabelValues(string(outs[j].op.Kind), "success").Inc()
			done[i] = true
			if !outs[j].quiet {
				c.log.Info(outs[j].op.Reason, "environment", env.Name, "op", string(outs[j].op.Kind), "service", outs[j].op.Service)
			}
		}
	}
	return results, firstErr
}

// run performs one op; quiet reports that nothing had to change.
func (c *Controller) run(ctx context.Context, env *v1alpha1.Environment, op plan.Op) (bool, error) {
	uid := string(env.UID)
	switch op.Kind {
	case plan.OpEnsureNetwork:
		started := time.Now()
		n, err := c.docker.EnsureNetwork(ctx, docker.NetworkSpec{
			Environment: op.Environment, EnvironmentUID: uid, Name: op.Network, Labels: op.Labels,
		})
		if err == nil && c.cache != nil {
			c.cache.LearnNetwork(n)
		}
		// A network created before this op began already existed (the
		// cache had not caught up): no event for finding it.
		existed := err == nil && !n.CreatedAt.IsZero() && n.CreatedAt.Before(started.Add(-time.Second))
		return existed, err
	case plan.OpEnsureVolume:
		_, err := c.docker.EnsureVolume(ctx, docker.VolumeSpec{
			Environment: op.Environment, EnvironmentUID: uid, Name: op.Volume, Labels: op.Labels,
		})
		return false, err
	case plan.OpPullImage:
		// Progress only arrives when a pull really happens; a present
		// image under IfNotPresent or Never is a silent check.
		var pulled atomic.Bool
		err := c.docker.EnsureImage(ctx, op.Image, docker.PullPolicy(op.PullPolicy), func(p docker.PullProgress) {
			pulled.Store(true)
			c.log.V(1).Info("pulling", "environment", op.Environment, "image", op.Image, "progress", fmt.Sprintf("%+v", p))
		})
		if err != nil {
			c.images.failed(op.Environment, op.Image, err, time.Now())
			return false, err
		}
		c.images.pulled(op.Environment, op.Image, env.Generation)
		return !pulled.Load(), nil
	case plan.OpBuildImage:
		return c.runBuild(ctx, env, op)
	case plan.OpCreateContainer:
		if op.Config == nil {
			return false, fmt.Errorf("create %s: no container config in plan", op.Service)
		}
		created, err := c.docker.CreateContainer(ctx, containerSpec(op, uid))
		if err != nil && (docker.IsNotFound(err) || docker.IsImageNotPresent(err)) {
			// A built image removed behind berth's back: build it again.
			c.builds.imageMissing(op.Config.Image)
		}
		if err == nil && !created.Adopted && c.cache != nil {
			// The status this pass writes sees it (reconcile.go).
			c.cache.LearnContainer(created.Container)
		}
		return err == nil && created.Adopted, err
	case plan.OpStartContainer:
		id := op.ContainerID
		if id == "" {
			id = op.ContainerName
		}
		err := c.docker.StartContainer(ctx, id)
		if err == nil && c.cache != nil {
			c.cache.Started(id)
		}
		return false, err
	case plan.OpCopyFiles:
		id := op.ContainerID
		if id == "" {
			id = op.ContainerName
		}
		return false, c.docker.CopyFiles(ctx, id, fileSpecs(op.Files))
	case plan.OpRemoveContainer:
		id := op.ContainerID
		if id == "" {
			id = op.ContainerName
		}
		var err error
		if k := op.Cached; k != nil && op.ContainerID != "" && k.Removal != plan.RemovalInspected {
			// The cache answered "exists?" and "running?" (removal.go).
			err = c.docker.RemoveKnown(ctx, docker.KnownContainer{
				ID: op.ContainerID, Name: op.ContainerName, Labels: k.Labels,
				Running: k.Removal == plan.RemovalStopThenRemove,
			}, op.Grace)
		} else {
			err = c.docker.StopAndRemove(ctx, id, op.Grace)
		}
		if err == nil && c.cache != nil {
			c.cache.Removed(op.ContainerID)
		}
		return false, err
	case plan.OpRemoveNetwork:
		id := op.NetworkID
		if id == "" {
			id = op.Network
		}
		var err error
		if op.Cached != nil && op.NetworkID != "" {
			err = c.docker.RemoveKnownNetwork(ctx, docker.KnownNetwork{ID: op.NetworkID, Name: op.Network, Labels: op.Cached.Labels})
		} else {
			err = c.docker.RemoveNetwork(ctx, id)
		}
		if err == nil && c.cache != nil {
			c.cache.Removed(op.NetworkID)
		}
		return false, err
	case plan.OpDisconnectStaleEndpoints:
		id := op.NetworkID
		if id == "" {
			id = op.Network
		}
		n, err := c.docker.DisconnectStaleEndpoints(ctx, id, op.Endpoints)
		if err == nil {
			c.log.Info("cleared stale endpoints", "environment", op.Environment, "network", op.Network, "disconnected", n, "named", len(op.Endpoints))
		}
		return false, err
	case plan.OpRemoveVolume:
		return false, c.docker.RemoveVolume(ctx, op.Volume)
	case plan.OpConnectNetwork:
		id := op.ContainerID
		if id == "" {
			id = op.ContainerName
		}
		// Already attached (an adopted container, a connect the cache had
		// not seen): nothing changed, no event.
		return c.docker.ConnectNetwork(ctx, id, op.Network, op.Aliases)
	}
	return false, fmt.Errorf("unknown op kind %q", op.Kind)
}

// containerSpec translates the plan's container config into the Docker
// layer's request. berth's ownership labels are set by the layer itself;
// the plan's labels (which include the spec hash) ride along.
func containerSpec(op plan.Op, uid string) docker.ContainerSpec {
	cfg := op.Config
	spec := docker.ContainerSpec{
		Environment:       op.Environment,
		EnvironmentUID:    uid,
		Service:           op.Service,
		Name:              cfg.Name,
		Image:             cfg.Image,
		Command:           cfg.Entrypoint,
		Args:              cfg.Cmd,
		Labels:            cfg.Labels,
		SpecHash:          cfg.Labels[v1alpha1.LabelSpecHash],
		MemoryLimit:       cfg.Resources.MemoryLimit,
		MemoryReservation: cfg.Resources.MemoryReservation,
		NanoCPUs:          cfg.Resources.NanoCPUs,
		CPUShares:         cfg.Resources.CPUShares,
		Hostname:          cfg.Hostname,
		Network:           cfg.Network,
		Aliases:           cfg.AliasesOn(cfg.Network),
		StopSignal:        cfg.StopSignal,
		StopTimeout:       cfg.StopTimeout,
		User:              cfg.Settings.User,
		WorkingDir:        cfg.Settings.WorkingDir,
		ReadOnlyRootfs:    cfg.Settings.ReadOnly,
		Init:              cfg.Settings.Init,
		Privileged:        cfg.Settings.Privileged,
		ShmSize:           cfg.Settings.ShmSize,
		CapAdd:            cfg.Settings.CapAdd,
		CapDrop:           cfg.Settings.CapDrop,
		ExtraHosts:        cfg.Settings.ExtraHosts,
		Sysctls:           cfg.Settings.Sysctls,
	}
	if h := cfg.Healthcheck; h != nil {
		spec.Healthcheck = &docker.HealthcheckSpec{Test: h.Test, Interval: h.Interval, Timeout: h.Timeout, StartPeriod: h.StartPeriod, Retries: h.Retries}
	}
	for _, u := range cfg.Settings.Ulimits {
		spec.Ulimits = append(spec.Ulimits, docker.UlimitSpec{Name: u.Name, Soft: u.Soft, Hard: u.Hard})
	}
	for _, kv := range cfg.Env {
		name, value, _ := strings.Cut(kv, "=")
		spec.Env = append(spec.Env, docker.EnvVar{Name: name, Value: value})
	}
	for _, p := range cfg.Ports {
		// Unpublished ports need nothing: on the Environment's network
		// every container port is reachable by service name.
		if !p.Published() {
			continue
		}
		spec.Ports = append(spec.Ports, docker.PortSpec{
			ContainerPort: int(p.ContainerPort),
			Protocol:      strings.ToLower(string(p.Protocol)),
			HostPort:      int(p.HostPort),
			HostIP:        p.HostIP,
		})
	}
	for _, m := range cfg.Mounts {
		spec.Mounts = append(spec.Mounts, docker.MountSpec{
			Volume: m.Volume, Target: m.Target, ReadOnly: m.ReadOnly,
			Type: string(m.Type), Source: m.Source, SizeBytes: m.SizeBytes,
		})
	}
	return spec
}
