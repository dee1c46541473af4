package probe

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/go-logr/logr/testr"
	"k8s.io/apimachinery/pkg/util/intstr"

	v1 "berth.dev/berth/apis/v1alpha1"
	"berth.dev/berth/internal/docker"
	"berth.dev/berth/internal/governor"
)

const testImage = "berth-testapp:dev"

// testContainer is one berth-testapp container on a network of its own,
// created through the Docker layer under a throwaway manager identity.
type testContainer struct {
	cli    *docker.Client
	c      docker.Container
	execer Execer
	// httpURL is the published 8080, the test's own way in.
	httpURL string
}

func startTestContainer(t *testing.T) *testContainer {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	buf := make([]byte, 4)
	_, _ = rand.Read(buf)
	prefix := "berth-probetest-" + hex.EncodeToString(buf)

	cfg := docker.DefaultConfig()
	cfg.Profile = governor.ProfileCI
	cfg.ManagerID = prefix
	cfg.Logger = testr.New(t)
	cli, err := docker.New(cfg)
	if err != nil {
		t.Fatalf("docker client: %v", err)
	}
	t.Cleanup(func() { cli.Close() })
	if _, err := cli.Ping(ctx); err != nil {
		t.Fatalf("Docker Engine at %s does not answer (hack/ensure-docker.sh starts one): %v", cfg.Host, err)
	}
	if ok, err := cli.ImagePresent(ctx, testImage); err != nil || !ok {
		t.Fatalf("%s is missing (hack/build-images.sh builds it): present=%v, %v", testImage, ok, err)
	}

	labels := map[string]string{"berth.dev/test": "internal-probe"}
	netName := prefix + "-net"
	if _, err := cli.EnsureNetwork(ctx, docker.NetworkSpec{Name: netName, Labels: labels}); err != nil {
		t.Fatalf("network: %v", err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		if err := cli.RemoveNetwork(ctx, netName); err != nil {
			t.Errorf("remove network %s: %v", netName, err)
		}
	})
	created, err := cli.CreateContainer(ctx, docker.ContainerSpec{
		Name:        prefix + "-app",
		Image:       testImage,
		Args:        []string{"--tcp-port", "9000", "--https-port", "8443"},
		Labels:      labels,
		Network:     netName,
		Aliases:     []string{"app"},
		Ports:       []docker.PortSpec{{ContainerPort: 8080}},
		MemoryLimit: 64 << 20,
		StopTimeout: 5 * time.Second,
	})
	if err != nil {
		t.Fatalf("create container: %v", err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
		defer cancel()
		if err := cli.StopAndRemove(ctx, created.ID, 5*time.Second); err != nil {
			t.Errorf("remove container %s: %v", created.ID, err)
		}
	})
	if err := cli.StartContainer(ctx, created.ID); err != nil {
		t.Fatalf("start container: %v", err)
	}
	c, err := cli.InspectContainer(ctx, created.ID)
	if err != nil {
		t.Fatalf("inspect container: %v", err)
	}
	// Environment containers get IPAddress from their berth_<env> network;
	// this one's network has a test name.
	c.IPAddress = c.Networks[netName]
	tc := &testContainer{cli: cli, c: c}
	tc.execer = ExecFunc(func(ctx context.Context, id string, cmd []string, timeout time.Duration) (ExecResult, error) {
		r, err := cli.Exec(ctx, id, cmd, timeout)
		return ExecResult(r), err
	})
	t.Logf("container %s: network address %q, published %+v", c.Name, c.IPAddress, c.Ports)
	if tg := tc.target(); len(tg.Addresses(8080)) < 2 {
		t.Fatalf("want the network address and a published port for 8080, got %v", tg.Addresses(8080))
	}
	for _, p := range tc.target().Published {
		if p.ContainerPort == 8080 && p.HostIP == "127.0.0.1" {
			tc.httpURL = fmt.Sprintf("http://127.0.0.1:%d", p.HostPort)
		}
	}
	if tc.httpURL == "" {
		t.Fatalf("8080 is not published on 127.0.0.1: %+v", c.Ports)
	}
	return tc
}

// target is what the controller would build from its cache.
func (tc *testContainer) target() Target {
	tg := Target{
		ContainerID: tc.c.ID,
		IP:          tc.c.IPAddress,
		Ports:       []v1.ServicePort{{Name: "http", ContainerPort: 8080}, {Name: "echo", ContainerPort: 9000}, {Name: "https", ContainerPort: 8443}},
		Execer:      tc.execer,
	}
	for _, p := range tc.c.Ports {
		tg.Published = append(tg.Published, PublishedPort{ContainerPort: p.ContainerPort, Protocol: p.Protocol, HostIP: p.HostIP, HostPort: p.HostPort})
	}
	return tg
}

// setHealth flips testapp's /healthz through the published port.
func (tc *testContainer) setHealth(t *testing.T, healthy bool) {
	t.Helper()
	// testapp answers with its new health, as GET /healthz would.
	path, want := "/healthz/fail", http.StatusServiceUnavailable
	if healthy {
		path, want = "/healthz/ok", http.StatusOK
	}
	resp, err := http.Post(tc.httpURL+path, "text/plain", nil)
	if err != nil {
		t.Fatalf("POST %s: %v", path, err)
	}
	resp.Body.Close()
	if resp.StatusCode != want {
		t.Fatalf("POST %s: status %d, want %d", path, resp.StatusCode, want)
	}
}

func TestAgainstDocker(t *testing.T) {
	tc := startTestContainer(t)
	ctx := context.Background()
	httpP := httpProbe("/healthz", intstr.FromString("http"))
	eventually(t, "testapp to serve", func() bool { return Run(ctx, httpP, tc.target()).Success })

	checkHTTP := execProbe("/testapp", "check", "--http", "http://127.0.0.1:8080/healthz")
	checkHTTP.TimeoutSeconds = 5

	t.Run("http via network address", func(t *testing.T) {
		tg := tc.target()
		tg.Published = nil
		r := Run(ctx, httpP, tg)
		if !r.Success || r.Address != tc.c.IPAddress+":8080" {
			t.Errorf("got %+v, want success through %s:8080", r, tc.c.IPAddress)
		}
	})
	t.Run("http via published port", func(t *testing.T) {
		tg := tc.target()
		tg.IP = ""
		r := Run(ctx, httpP, tg)
		if !r.Success || r.Address != strings.TrimPrefix(tc.httpURL, "http://") {
			t.Errorf("got %+v, want success through %s", r, tc.httpURL)
		}
	})
	t.Run("tcp named port", func(t *testing.T) {
		if r := Run(ctx, tcpProbe(intstr.FromString("echo")), tc.target()); !r.Success {
			t.Errorf("echo port: %+v", r)
		}
		r := Run(ctx, tcpProbe(intstr.FromInt32(9999)), tc.target())
		if r.Success || !strings.Contains(r.Message, "connection refused") {
			t.Errorf("closed port: %+v, want connection refused", r)
		}
	})
	t.Run("exec", func(t *testing.T) {
		if r := Run(ctx, checkHTTP, tc.target()); !r.Success {
			t.Fatalf("healthy: %+v", r)
		}
		tc.setHealth(t, false)
		defer tc.setHealth(t, true)
		r := Run(ctx, checkHTTP, tc.target())
		if r.Success || !strings.HasPrefix(r.Message, "exec probe failed with exit code 1: ") || !strings.Contains(r.Message, "503") {
			t.Errorf("unhealthy: %+v, want exit code 1 and the 503 in the message", r)
		}
		if r := Run(ctx, httpP, tc.target()); r.Success || r.Message != "HTTP probe failed with status 503" {
			t.Errorf("unhealthy over HTTP: %+v", r)
		}
		r = Run(ctx, execProbe("/no-such-binary"), tc.target())
		if r.Success {
			t.Errorf("missing binary: %+v, want failure", r)
		}
	})
	t.Run("exec output is bounded", func(t *testing.T) {
		// A command that prints megabytes (here 200000 log lines, about
		// 7 MiB) through the Docker layer's exec: what the manager keeps
		// and allocates must not grow with it.
		flood := execProbe("/testapp", "--http-port", "0", "--log-lines", "200000", "--exit-code", "3")
		flood.TimeoutSeconds = 60
		_, alloc0 := heapStats()
		r := Run(ctx, flood, tc.target())
		inuse1, alloc1 := heapStats()
		allocated := alloc1 - alloc0
		t.Logf("flooding exec probe: %d KiB allocated, %d KiB heap in use after, message %q", allocated>>10, inuse1>>10, r.Message)
		if r.Success || !strings.HasPrefix(r.Message, "exec probe failed with exit code 3: testapp: starting") {
			t.Errorf("got %+v, want exit code 3 and testapp's first line", r)
		}
		if len(r.Message) > maxStatusMessage {
			t.Errorf("message of %d bytes", len(r.Message))
		}
		if allocated > 4<<20 {
			t.Errorf("the probe allocated %d MiB for its output, want under 4 MiB: exec output is not read through a limit", allocated>>20)
		}
	})
	t.Run("manager", func(t *testing.T) {
		ch := &changes{}
		m, err := NewManager(ctx, Options{Logger: testr.New(t), OnChange: ch.on, Execer: tc.execer})
		if err != nil {
			t.Fatal(err)
		}
		defer noWorkersLeft(t)
		defer m.Stop()
		p := checkHTTP.DeepCopy()
		p.PeriodSeconds, p.FailureThreshold = 1, 2
		tg := tc.target()
		tg.Execer = nil // the manager's
		m.Sync("probetest", []Spec{{Service: "app", Probe: p, Target: tg, StartedAt: tc.c.StartedAt}})

		result := func() Status { st, _ := m.Result(tc.c.ID); return st }
		eventually(t, "ready", func() bool { return result().Ready })
		tc.setHealth(t, false)
		defer tc.setHealth(t, true)
		eventually(t, "not ready", func() bool { return !result().Ready })
		if st := result(); st.ConsecutiveFailures < 2 || !strings.Contains(st.Message, "exit code 1") {
			t.Errorf("not ready: %+v", st)
		}
		tc.setHealth(t, true)
		eventually(t, "ready again", func() bool { return result().Ready })
		// ready, first failure (news), not ready, ready.
		if n := ch.get("probetest"); n != 4 {
			t.Errorf("OnChange called %d times, want 4", n)
		}
	})
}
