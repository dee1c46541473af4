package docker

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-logr/logr"
	"github.com/go-logr/logr/funcr"
	"github.com/moby/moby/api/types/container"
	"github.com/moby/moby/client"

	v1 "berth.dev/berth/apis/v1alpha1"
	"berth.dev/berth/internal/docker/faultproxy"
	"berth.dev/berth/internal/governor"
)

// The Docker tests talk to the real engine. Every object they create is
// named with this run's prefix and labelled with this run's identity, so
// parallel test packages never collide, and it is torn down gracefully at
// the end. Decoys (containers and networks berth does not own) are created
// before any test and must still be there, untouched, after all of them.

const testImage = "berth-testapp:dev"

var (
	runID      = randHex(4)
	testPrefix = "bt" + runID // environment names start with this
	testID     = "berth-test-" + runID
	foreignID  = "berth-other-" + runID // another manager's identity

	dockerHost   string
	dockerSocket string
	dockerErr    error // why Docker tests skip
	raw          *client.Client
	decoys       decoySet
)

func randHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

func TestMain(m *testing.M) {
	code := func() int {
		setupDocker()
		if dockerErr == nil {
			pool, err := claimTestRange()
			if err != nil {
				fmt.Fprintf(os.Stderr, "claiming an address range: %v\n", err)
				return 1
			}
			testAddressPool = pool
			if err := decoys.create(); err != nil {
				fmt.Fprintf(os.Stderr, "creating decoys: %v\n", err)
				decoys.remove()
				return 1
			}
		}
		code := m.Run()
		if dockerErr == nil {
			if err := decoys.verify(); err != nil {
				fmt.Fprintf(os.Stderr, "FAIL: decoys were touched: %v\n", err)
				code = 1
			}
			decoys.remove()
			if left := leftovers(); left != "" {
				fmt.Fprintf(os.Stderr, "FAIL: test objects left behind: %s\n", left)
				code = 1
			}
		}
		return code
	}()
	os.Exit(code)
}

func setupDocker() {
	dockerHost = os.Getenv("DOCKER_HOST")
	if dockerHost == "" {
		dockerHost = DefaultHost
	}
	if !strings.HasPrefix(dockerHost, "unix://") {
		dockerErr = fmt.Errorf("DOCKER_HOST %s is not a unix socket; the fault proxy needs one", dockerHost)
		return
	}
	dockerSocket = strings.TrimPrefix(dockerHost, "unix://")
	var err error
	raw, err = client.New(client.WithHost(dockerHost))
	if err != nil {
		dockerErr = err
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if _, err := raw.Ping(ctx, client.PingOptions{NegotiateAPIVersion: true}); err != nil {
		dockerErr = fmt.Errorf("no Docker daemon answers at %s: %w", dockerHost, err)
		return
	}
	if _, err := raw.ImageInspect(ctx, testImage); err != nil {
		// The image is built from hack/testapp; build it rather than fail
		// a fresh clone (the script is a no-op when it is current).
		_, file, _, _ := runtime.Caller(0)
		script := filepath.Join(filepath.Dir(file), "..", "..", "hack", "build-images.sh")
		out, berr := exec.Command(script).CombinedOutput()
		if berr != nil {
			fmt.Fprintf(os.Stderr, "%s failed: %v\n%s\n", script, berr, out)
			os.Exit(1)
		}
	}
}

// needDocker skips a test only when no Docker daemon answers.
func needDocker(t testing.TB) {
	t.Helper()
	if dockerErr != nil {
		t.Skipf("skipping: %v", dockerErr)
	}
}

// testVerbosity is 0 unless BERTH_TEST_V asks for the governor's retries
// and limit changes in the test log.
var testVerbosity = func() int {
	if v := os.Getenv("BERTH_TEST_V"); v != "" {
		return 1
	}
	return 0
}()

func testLogger(t testing.TB) logr.Logger {
	return funcr.New(func(prefix, args string) {
		t.Logf("%s %s", prefix, args)
	}, funcr.Options{Verbosity: testVerbosity})
}

// newTestClient builds a client for this run's identity on host.
func newTestClient(t testing.TB, host string, profile governor.Profile, mut ...func(*Config)) *Client {
	t.Helper()
	cfg := Config{Host: host, Profile: profile, ManagerID: testID, Logger: testLogger(t), AddressPool: testAddressPool}
	for _, f := range mut {
		f(&cfg)
	}
	c, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// startProxy puts a fault proxy in front of the real socket.
func startProxy(t testing.TB) *faultproxy.Proxy {
	t.Helper()
	p, err := faultproxy.Start(dockerSocket, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		p.Close()
		assertNoForce(t, p)
	})
	return p
}

// assertNoForce fails if any DELETE (or disconnect) the proxy saw asked
// for force.
func assertNoForce(t testing.TB, p *faultproxy.Proxy) {
	t.Helper()
	for _, r := range p.Requests() {
		if r.Method == "DELETE" && (strings.Contains(r.URI, "force=1") || strings.Contains(r.URI, "force=true")) {
			t.Errorf("forced removal went to the daemon: %s %s", r.Method, r.URI)
		}
	}
}

// envName returns a fresh environment name for a test.
func envName(t testing.TB, short string) string {
	return testPrefix + "-" + short + randHex(2)
}

// cleanupEnv tears down every object of env, gracefully, when the test ends.
func cleanupEnv(t testing.TB, env string) {
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
		defer cancel()
		c, err := New(Config{Host: dockerHost, Profile: governor.ProfileCI, ManagerID: testID, RetryBackoff: []time.Duration{200 * time.Millisecond, 500 * time.Millisecond}})
		if err != nil {
			t.Error(err)
			return
		}
		defer c.Close()
		if err := teardownEnv(ctx, c, env); err != nil {
			t.Errorf("cleanup of %s: %v", env, err)
		}
	})
}

// teardownEnv removes env's containers, then networks, then volumes.
func teardownEnv(ctx context.Context, c *Client, env string) error {
	ctrs, err := c.ListContainers(ctx)
	if err != nil {
		return err
	}
	var wg sync.WaitGroup
	errs := make(chan error, len(ctrs))
	for _, ctr := range ctrs {
		if ctr.Environment != env {
			continue
		}
		wg.Add(1)
		go func(id string) {
			defer wg.Done()
			errs <- c.StopAndRemove(ctx, id, 5*time.Second)
		}(ctr.ID)
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			return err
		}
	}
	nets, err := c.ListNetworks(ctx)
	if err != nil {
		return err
	}
	for _, n := range nets {
		if n.Environment == env {
			if err := c.RemoveNetwork(ctx, n.ID); err != nil {
				return err
			}
		}
	}
	vols, err := c.ListVolumes(ctx)
	if err != nil {
		return err
	}
	for _, v := range vols {
		if v.Environment == env {
			if err := c.RemoveVolume(ctx, v.Name); err != nil {
				return err
			}
		}
	}
	return nil
}

// leftovers lists objects with this run's identity still on the daemon.
func leftovers() string {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	f := make(client.Filters).Add("label", v1.LabelManagedBy+"="+testID)
	var out []string
	if cs, err := raw.ContainerList(ctx, client.ContainerListOptions{All: true, Filters: f}); err == nil {
		for _, c := range cs.Items {
			out = append(out, "container "+strings.Join(c.Names, ","))
		}
	}
	if ns, err := raw.NetworkList(ctx, client.NetworkListOptions{Filters: f}); err == nil {
		for _, n := range ns.Items {
			out = append(out, "network "+n.Name)
		}
	}
	if vs, err := raw.VolumeList(ctx, client.VolumeListOptions{Filters: f}); err == nil {
		for _, v := range vs.Items {
			out = append(out, "volume "+v.Name)
		}
	}
	return strings.Join(out, "; ")
}

// spec is a testapp container spec for env/service.
func spec(env, service string, args ...string) ContainerSpec {
	return ContainerSpec{
		Environment: env, EnvironmentUID: "uid-" + env, Service: service,
		Image: testImage, Args: args, SpecHash: "h1",
		Env:         []EnvVar{{Name: "TESTAPP_NAME", Value: service}},
		MemoryLimit: 64 << 20, StopTimeout: 2 * time.Second,
	}
}

// rawStop stops a container outside berth (decoy cleanup, outside kills).
func rawStopRemove(ctx context.Context, id string) error {
	t := 5
	if _, err := raw.ContainerStop(ctx, id, client.ContainerStopOptions{Timeout: &t}); err != nil && !strings.Contains(err.Error(), "No such") {
		return err
	}
	if _, err := raw.ContainerRemove(ctx, id, client.ContainerRemoveOptions{RemoveVolumes: true}); err != nil && !strings.Contains(err.Error(), "No such") {
		return err
	}
	return nil
}

func rawState(ctx context.Context, id string) (container.ContainerState, error) {
	r, err := raw.ContainerInspect(ctx, id, client.ContainerInspectOptions{})
	if err != nil {
		return "", err
	}
	return r.Container.State.Status, nil
}

// eventually polls cond until it holds or the deadline passes.
func eventually(t testing.TB, within time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(within)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("not within %s: %s", within, what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func clientInspectOpts() client.ContainerInspectOptions { return client.ContainerInspectOptions{} }

// waitReady waits for testapp to say it is ready: a signal sent before its
// handlers are installed ends a Go PID 1 with exit 2, whatever its flags.
func waitReady(t testing.TB, ctx context.Context, c *Client, id string) {
	t.Helper()
	eventually(t, 60*time.Second, "testapp ready in "+shortID(id), func() bool {
		var out strings.Builder
		_ = c.Logs(ctx, id, LogOptions{Tail: MaxLogTail}, &out, &out)
		return strings.Contains(out.String(), "testapp: ready")
	})
}
