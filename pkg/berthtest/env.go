package berthtest

import (
	"bytes"
	"context"
	"errors"
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

// Env is a Ready Environment started by Start (for one test) or New.
type Env struct {
	t      testing.TB // nil for New
	client *session.Client
	env    *session.Env
	holder *lease.Holder
	tail   int
}

// Start creates the Environment the options describe, holds its session
// lease, and returns when it is Ready. It fails the test (t.Fatalf) when
// the options are wrong, no manager can be found or started, the API
// refuses the Environment, or it is not Ready within the timeout; the
// message says what it was waiting on. The cleanup (log tails of a failed
// test, then a graceful teardown, waited for) is registered before the
// wait, so a failed Start tears down too. Call it from the test's
// goroutine.
func Start(t testing.TB, opts ...Option) *Env {
	t.Helper()
	c := newConfig(opts)
	ctx, cancel := context.WithTimeout(context.Background(), c.timeout)
	defer cancel()
	// A sub-test's name keeps its parent's: TestAPI/login → testapi-login-….
	base := strings.NewReplacer("/", "-", ".", "-").Replace(t.Name())
	e, err := create(ctx, c, base, holderIdentity(t.Name()), t.Logf)
	if e != nil {
		e.t = t
		t.Cleanup(e.cleanup)
	}
	if err != nil {
		t.Fatalf("berthtest.Start: %v", err)
	}
	if err := e.wait(ctx, t.Logf); err != nil {
		t.Fatalf("berthtest.Start: %v", err)
	}
	return e
}

// New is Start outside a test: for an Environment shared by a package's
// tests (started in TestMain), or for a program. It returns when the
// Environment is Ready; on an error nothing it created is left. The
// caller must Close it.
func New(ctx context.Context, opts ...Option) (*Env, error) {
	c := newConfig(opts)
	ctx, cancel := context.WithTimeout(ctx, c.timeout)
	defer cancel()
	base := c.name
	if base == "" {
		base = "berthtest"
	}
	logf := func(string, ...any) {}
	e, err := create(ctx, c, base, holderIdentity(base), logf)
	if err == nil {
		err = e.wait(ctx, logf)
	}
	if err != nil {
		if e != nil {
			if cerr := e.Close(); cerr != nil {
				err = fmt.Errorf("%w (and then: %v)", err, cerr)
			}
		}
		return nil, err
	}
	return e, nil
}

func newConfig(opts []Option) *config {
	c := &config{timeout: DefaultTimeout, logTail: DefaultLogTail, lease: lease.DefaultDuration}
	for _, o := range opts {
		o(c)
	}
	return c
}

// create loads the spec, finds the manager, creates the Environment bound
// to a lease and starts renewing it. A non-nil Env comes back whenever
// something was created, error or not, so the caller can tear it down.
func create(ctx context.Context, c *config, base, holder string, logf func(string, ...any)) (*Env, error) {
	spec, err := load(ctx, c)
	if err != nil {
		return nil, err
	}
	cl, err := managerFor(ctx, c, logf)
	if err != nil {
		return nil, fmt.Errorf("no manager: %w", err)
	}
	spec = spec.DeepCopy()
	// The binding is in the create itself: a test process killed right
	// after it still leaves an Environment that expires.
	lease.Bind(spec, holder, c.lease)
	env, err := cl.Create(ctx, spec, session.CreateOptions{Name: c.name, NameBase: base})
	if err != nil {
		return nil, err
	}
	e := &Env{client: cl, env: env, tail: c.logTail}
	// Renewals outlive ctx: they stop in Close (or with the process).
	e.holder, err = lease.Hold(context.WithoutCancel(ctx), cl.Clientset, env.Name, holder, c.lease)
	if err != nil {
		return e, fmt.Errorf("lease on Environment %s: %w", env.Name, err)
	}
	return e, nil
}

// wait waits for Ready, logging each change of what it waits on.
func (e *Env) wait(ctx context.Context, logf func(string, ...any)) error {
	last := ""
	_, err := e.env.WaitReady(ctx, func(p session.Progress) {
		// One line per change of what it waits on, not per status write.
		if s := p.String(); s != last {
			last = s
			logf("berthtest: %s: %s", e.env.Name, s)
		}
	})
	return err
}

// holderIdentity names this test in this process: program/host/pid/test.
func holderIdentity(name string) string {
	h := lease.DefaultHolder() + "/" + name
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

// cleanup is Start's t.Cleanup: the log tails of a failed test, then
// Close.
func (e *Env) cleanup() {
	if e.t.Failed() && e.tail > 0 {
		e.logTails(e.tail)
	}
	if err := e.Close(); err != nil {
		e.t.Errorf("berthtest: %v", err)
	}
}

// Close deletes the Environment and waits until it is gone (berth stops
// every container gracefully, then removes its network and volumes), then
// releases the lease. Start's cleanup calls it; an Env from New needs it.
// Calling it again is harmless.
func (e *Env) Close() error {
	ctx, cancel := context.WithTimeout(context.Background(), teardownTimeout)
	defer cancel()
	var errs []error
	if err := e.env.Teardown(ctx); err != nil {
		errs = append(errs, fmt.Errorf("teardown: %w", err))
	}
	if e.holder != nil {
		if err := e.holder.Stop(); err != nil {
			errs = append(errs, fmt.Errorf("release the lease of %s: %w", e.env.Name, err))
		}
	}
	return errors.Join(errs...)
}

// logTails puts the last lines of every service's log in the test's log.
func (e *Env) logTails(tail int) {
	logf := e.t.Logf
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
			logf("berthtest: logs of %s/%s: %v", e.env.Name, s.Name, err)
			continue
		}
		logf("berthtest: last %d lines of %s/%s:\n%s", tail, e.env.Name, s.Name, strings.TrimRight(b.String(), "\n"))
	}
}

// Name is the Environment's name.
func (e *Env) Name() string { return e.env.Name }

// Environment is the Environment as last seen (Ready, after Start).
func (e *Env) Environment() *v1alpha1.Environment { return e.env.Last.DeepCopy() }

// Endpoint is "127.0.0.1:PORT", the host address of service's published
// port (its name, or the container port number) on its first replica.
// It fails the test when there is no such port (call it from the test's
// goroutine); an Env from New has no test to fail and gets "" instead, so
// code outside a test should call EndpointE, which returns the error.
func (e *Env) Endpoint(service, port string) string {
	addr, err := e.EndpointE(service, port)
	if err != nil {
		if e.t == nil {
			return ""
		}
		e.t.Helper()
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
