package berthtest

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"strings"
	"testing"
	"time"

	"k8s.io/client-go/rest"

	"berth.dev/berth/apis/v1alpha1"
	"berth.dev/berth/client/clientset/versioned"
	"berth.dev/berth/internal/lease"
	"berth.dev/berth/internal/remote"
	"berth.dev/berth/internal/session"
)

// teardownTimeout bounds the cleanup's wait for a graceful teardown.
const teardownTimeout = 5 * time.Minute

// Env is a Ready Environment started by Start for one test.
type Env struct {
	t      testing.TB
	client *session.Client
	env    *session.Env
	holder *lease.Holder
}

// Start creates the Environment the options describe, holds its session
// lease, and returns when it is Ready. It fails the test (t.Fatalf) when
// the options are wrong, no manager can be found or started, the API
// refuses the Environment, or it is not Ready within the timeout; the
// message says what it was waiting on. Cleanup is registered before the
// wait, so a failed Start tears down too. Call it from the test's
// goroutine.
func Start(t testing.TB, opts ...Option) *Env {
	t.Helper()
	c := &config{timeout: DefaultTimeout, logTail: DefaultLogTail, lease: lease.DefaultDuration}
	for _, o := range opts {
		o(c)
	}
	ctx, cancel := context.WithTimeout(context.Background(), c.timeout)
	defer cancel()
	spec, err := load(ctx, c)
	if err != nil {
		t.Fatalf("berthtest.Start: %v", err)
	}
	cl, err := client(ctx, t.Logf)
	if err != nil {
		t.Fatalf("berthtest.Start: no manager: %v", err)
	}
	holder := holderIdentity(t)
	spec = spec.DeepCopy()
	lease.Bind(spec, holder, c.lease)
	env, err := cl.Create(ctx, spec, session.CreateOptions{Name: c.name, NameBase: t.Name()})
	if err != nil {
		t.Fatalf("berthtest.Start: %v", err)
	}
	e := &Env{t: t, client: cl, env: env}
	t.Cleanup(func() { e.cleanup(c.logTail) })
	// Renewals outlive Start: they stop in cleanup (or with the process).
	e.holder, err = lease.Hold(context.WithoutCancel(ctx), cl.Clientset, env.Name, holder, c.lease)
	if err != nil {
		t.Fatalf("berthtest.Start: lease on Environment %s: %v", env.Name, err)
	}
	last := ""
	if _, err := env.WaitReady(ctx, func(p session.Progress) {
		// One line per change of what it waits on, not per status write.
		if s := p.String(); s != last {
			last = s
			t.Logf("berthtest: %s: %s", env.Name, s)
		}
	}); err != nil {
		t.Fatalf("berthtest.Start: %v", err)
	}
	return e
}

// holderIdentity names this test in this process: program/host/pid/test.
func holderIdentity(t testing.TB) string {
	h := lease.DefaultHolder() + "/" + t.Name()
	h = strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f {
			return '_'
		}
		return r
	}, h)
	if len(h) > 256 {
		h = h[:256]
	}
	return h
}

// cleanup writes the log tails of a failed test, then deletes the
// Environment and waits until it is gone, then releases the lease.
func (e *Env) cleanup(tail int) {
	if e.t.Failed() && tail > 0 {
		e.logTails(tail)
	}
	ctx, cancel := context.WithTimeout(context.Background(), teardownTimeout)
	defer cancel()
	if err := e.env.Teardown(ctx); err != nil {
		e.t.Errorf("berthtest: teardown: %v", err)
	}
	if e.holder != nil {
		if err := e.holder.Stop(); err != nil {
			e.t.Errorf("berthtest: release the lease of %s: %v", e.env.Name, err)
		}
	}
}

// logTails puts the last lines of every service's log in the test's log.
func (e *Env) logTails(tail int) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if env, err := e.env.Refresh(ctx); err == nil {
		e.env.Last = env
	}
	if e.env.Last == nil {
		return
	}
	for _, s := range e.env.Last.Spec.Services {
		var b bytes.Buffer
		if err := e.env.Logs(ctx, s.Name, min(tail, session.MaxTailLines), &b); err != nil {
			e.t.Logf("berthtest: logs of %s/%s: %v", e.env.Name, s.Name, err)
			continue
		}
		e.t.Logf("berthtest: last %d lines of %s/%s:\n%s", tail, e.env.Name, s.Name, strings.TrimRight(b.String(), "\n"))
	}
}

// Name is the Environment's name.
func (e *Env) Name() string { return e.env.Name }

// Environment is the Environment as last seen (Ready, after Start).
func (e *Env) Environment() *v1alpha1.Environment { return e.env.Last.DeepCopy() }

// Endpoint is "127.0.0.1:PORT", the host address of service's published
// port (its name, or the container port number) on its first replica.
// It fails the test when there is no such port; call it from the test's
// goroutine (EndpointE does not fail the test).
func (e *Env) Endpoint(service, port string) string {
	e.t.Helper()
	addr, err := e.EndpointE(service, port)
	if err != nil {
		e.t.Fatalf("berthtest: %v", err)
	}
	return addr
}

// EndpointE is Endpoint returning the error instead of failing the test.
func (e *Env) EndpointE(service, port string) (string, error) {
	return e.env.Endpoint(service, port)
}

// ExecResult is what a command run by Exec did.
type ExecResult struct {
	Stdout, Stderr string
	ExitCode       int
}

// Exec runs cmd in service's container (through the manager's exec
// subresource, as berth exec does) and returns its output and exit code.
// A command that ran and exited non-zero is not an error; err is for when
// there is no exit code (no such service, no container, the connection
// failed).
func (e *Env) Exec(ctx context.Context, service string, cmd ...string) (ExecResult, error) {
	return e.ExecInput(ctx, nil, service, cmd...)
}

// ExecInput is Exec with stdin: the command reads input until its end.
func (e *Env) ExecInput(ctx context.Context, stdin io.Reader, service string, cmd ...string) (ExecResult, error) {
	var out, errOut bytes.Buffer
	o := remote.ExecOptions{Environment: e.env.Name, Service: service, Command: cmd, Stdin: stdin, Stdout: &out, Stderr: &errOut}
	code, err := remote.Run(ctx, e.client.Config, o)
	res := ExecResult{Stdout: out.String(), Stderr: errOut.String(), ExitCode: code}
	if err != nil {
		return res, fmt.Errorf("exec %v in %s/%s: %w", cmd, e.env.Name, service, err)
	}
	return res, nil
}

// CopyTo copies localPath (a file or a directory tree, modes kept) into
// service's container at containerPath, like docker cp: into it when it
// is an existing directory, else as it.
func (e *Env) CopyTo(ctx context.Context, service, localPath, containerPath string) error {
	return remote.CopyTo(ctx, e.client.Config, "", e.env.Name, service, localPath, containerPath)
}

// CopyFrom copies containerPath out of service's container to localPath:
// into it when it is an existing directory, else as it.
func (e *Env) CopyFrom(ctx context.Context, service, containerPath, localPath string) error {
	return remote.CopyFrom(ctx, e.client.Config, "", e.env.Name, service, containerPath, localPath)
}

// Logs is the output of service's container so far (stdout and stderr
// interleaved, the last session.MaxTailLines lines at most), or the
// error that kept it from being read.
func (e *Env) Logs(service string) (string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	var b bytes.Buffer
	err := e.env.Logs(ctx, service, session.MaxTailLines, &b)
	return b.String(), err
}

// RESTConfig is the manager's client configuration, for the clientset
// (berth.dev/berth/client/clientset/versioned) or any client-go client.
func (e *Env) RESTConfig() *rest.Config { return rest.CopyConfig(e.client.Config) }

// Clientset is a typed client of the manager's API.
func (e *Env) Clientset() versioned.Interface { return e.client.Clientset }

// Kubeconfig is the path of the manager's kubeconfig, e.g. for running
// bin/berth or kubectl against it from a test.
func (e *Env) Kubeconfig() string { return e.client.Kubeconfig }
