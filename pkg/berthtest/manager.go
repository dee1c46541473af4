package berthtest

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"testing"

	"berth.dev/berth/internal/manager"
	"berth.dev/berth/internal/session"
)

// EnvManager chooses the manager: "" looks for a running one and starts
// one in the process when none answers, "external" only looks, and
// "in-process" always starts one.
const EnvManager = "BERTH_TEST_MANAGER"

// The manager of this test binary, found or started by the first Start.
var shared struct {
	mu     sync.Mutex
	client *session.Client
	// inProcess is set when this process started the manager.
	inProcess *manager.Manager
	dataDir   string
	logFile   *os.File
}

// managerFor is the manager a Start uses: the one of the Kubeconfig
// option, else the test binary's shared one.
func managerFor(ctx context.Context, c *config, logf func(string, ...any)) (*session.Client, error) {
	if c.kubeconfig == "" {
		return client(ctx, logf)
	}
	cl, err := session.Connect(c.kubeconfig)
	if err != nil {
		return nil, err
	}
	if err := cl.Ping(ctx); err != nil {
		return nil, err
	}
	return cl, nil
}

// client returns the test binary's connection to a manager, finding or
// starting it on the first call. A failed attempt is not remembered: the
// next Start tries again.
func client(ctx context.Context, logf func(string, ...any)) (*session.Client, error) {
	shared.mu.Lock()
	defer shared.mu.Unlock()
	if shared.client != nil {
		return shared.client, nil
	}
	mode := os.Getenv(EnvManager)
	switch mode {
	case "", "external", "in-process":
	default:
		return nil, fmt.Errorf("$%s=%q: want external, in-process or nothing", EnvManager, mode)
	}
	if mode != "in-process" {
		path, _, err := session.DefaultKubeconfig(os.Getenv)
		if err != nil {
			return nil, err
		}
		c, err := session.Connect(path)
		if err == nil {
			err = c.Ping(ctx)
		}
		if err == nil {
			logf("berthtest: using the manager of %s", path)
			shared.client = c
			return c, nil
		}
		if mode == "external" {
			return nil, fmt.Errorf("$%s=external and no manager answers at %s: %w", EnvManager, path, err)
		}
	}
	c, err := startInProcess(ctx)
	if err != nil {
		return nil, err
	}
	logf("berthtest: started a manager in this process on %s (log: %s)", shared.dataDir, shared.logFile.Name())
	shared.client = c
	return c, nil
}

// startInProcess runs internal/manager in this process on a new
// temporary data dir, with free loopback ports.
func startInProcess(ctx context.Context) (*session.Client, error) {
	dir, err := os.MkdirTemp("", "berthtest-")
	if err != nil {
		return nil, fmt.Errorf("in-process manager: data dir: %w", err)
	}
	logFile, err := os.OpenFile(filepath.Join(dir, "manager.log"), os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o600)
	if err != nil {
		os.RemoveAll(dir)
		return nil, fmt.Errorf("in-process manager: log: %w", err)
	}
	o := manager.DefaultOptions()
	o.DataDir = dir
	o.APIListen = "127.0.0.1:0"
	o.DashboardListen = "127.0.0.1:0"
	o.Log = manager.NewLogger(logFile, 0)
	// The manager outlives the Start that made it: it serves the whole
	// test binary, until Main stops it or the process exits.
	m, err := manager.Start(context.WithoutCancel(ctx), o)
	if err != nil {
		logFile.Close()
		return nil, fmt.Errorf("in-process manager on %s (its log stays there): %w", dir, err)
	}
	c, err := session.NewClient(m.Kubeconfig(), m.RESTConfig())
	if err != nil {
		_ = m.Stop()
		logFile.Close()
		return nil, err
	}
	shared.inProcess, shared.dataDir, shared.logFile = m, dir, logFile
	return c, nil
}

// Main runs the tests (m.Run), then stops an in-process manager
// gracefully and removes its data dir, and exits with the tests' code.
// Call it from TestMain:
//
//	func TestMain(m *testing.M) { berthtest.Main(m) }
func Main(m *testing.M) {
	code := m.Run()
	if err := Shutdown(); err != nil {
		fmt.Fprintln(os.Stderr, "berthtest:", err)
		if code == 0 {
			code = 1
		}
	}
	os.Exit(code)
}

// Shutdown stops the in-process manager, if this process started one,
// and removes its data dir (kept, with its log, when the manager stopped
// with an error). Environments still in it are not torn down: each
// Start's cleanup does that. It is what Main calls after the tests; a
// later Start finds or starts a manager again.
func Shutdown() error {
	shared.mu.Lock()
	defer shared.mu.Unlock()
	m, dir, logFile := shared.inProcess, shared.dataDir, shared.logFile
	shared.client, shared.inProcess, shared.dataDir, shared.logFile = nil, nil, "", nil
	if m == nil {
		return nil
	}
	err := m.Stop()
	logFile.Close()
	if err != nil {
		return fmt.Errorf("in-process manager stopped with an error (data dir and log kept in %s): %w", dir, err)
	}
	return os.RemoveAll(dir)
}
