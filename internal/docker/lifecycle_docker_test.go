package docker

import (
	"bytes"
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	v1 "berth.dev/berth/apis/v1alpha1"
	"berth.dev/berth/internal/governor"
)

// TestLifecycle creates a network, a volume and two services, checks the
// spec reached Docker (labels, loopback ports, memory limit, alias DNS),
// then tears everything down the safe way.
func TestLifecycle(t *testing.T) {
	needDocker(t)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	// Through the proxy: exec's hijacked stream and log streaming must
	// survive it, and it records that no request asked for force.
	p := startProxy(t)
	c := newTestClient(t, p.Host(), governor.ProfileCI)
	env := envName(t, "life")
	cleanupEnv(t, env)

	net, err := c.EnsureNetwork(ctx, NetworkSpec{Environment: env, EnvironmentUID: "uid-" + env})
	if err != nil {
		t.Fatal(err)
	}
	if net.Name != NetworkName(env) || !Owned(net.Labels, testID) {
		t.Fatalf("network %+v", net)
	}
	again, err := c.EnsureNetwork(ctx, NetworkSpec{Environment: env})
	if err != nil || again.ID != net.ID {
		t.Fatalf("second EnsureNetwork = %v, %v; want the same network %s", again.ID, err, net.ID)
	}
	vol, err := c.EnsureVolume(ctx, VolumeSpec{Environment: env, Volume: "data"})
	if err != nil {
		t.Fatal(err)
	}
	if vol.Name != VolumeName(env, "data") || vol.Labels[v1.LabelVolume] != "data" {
		t.Fatalf("volume %+v", vol)
	}

	web := spec(env, "web")
	web.Ports = []PortSpec{{ContainerPort: 8080}}
	web.Mounts = []MountSpec{{Volume: vol.Name, Target: "/data"}}
	web.MemoryReservation = 32 << 20
	web.NanoCPUs = 500_000_000
	created, err := c.CreateContainer(ctx, web)
	if err != nil {
		t.Fatal(err)
	}
	if created.Adopted {
		t.Fatal("fresh create reported as adopted")
	}
	if err := c.StartContainer(ctx, created.ID); err != nil {
		t.Fatal(err)
	}
	if err := c.StartContainer(ctx, created.ID); err != nil {
		t.Fatalf("starting a running container must be a no-op: %v", err)
	}
	got, err := c.InspectContainer(ctx, created.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got.Name != ContainerName(env, "web") || got.Service != "web" || got.Environment != env || got.SpecHash != "h1" || got.EnvironmentUID != "uid-"+env {
		t.Fatalf("labels not as asked: %+v", got)
	}
	if got.State != "running" || len(got.Ports) != 1 || got.Ports[0].HostIP != "127.0.0.1" || got.Ports[0].HostPort == 0 {
		t.Fatalf("want running with 8080 on a random loopback port, got state %s ports %+v", got.State, got.Ports)
	}
	if got.IPAddress == "" {
		t.Fatalf("no IP on %s: %+v", NetworkName(env), got.Networks)
	}
	r, err := raw.ContainerInspect(ctx, created.ID, clientInspectOpts())
	if err != nil {
		t.Fatal(err)
	}
	hc := r.Container.HostConfig
	if hc.Memory != 64<<20 || hc.MemoryReservation != 32<<20 || hc.NanoCPUs != 500_000_000 {
		t.Fatalf("resources not applied: memory %d reservation %d cpus %d", hc.Memory, hc.MemoryReservation, hc.NanoCPUs)
	}
	u, err := c.Usage(ctx, created.ID)
	if err != nil {
		t.Fatal(err)
	}
	if u.MemoryLimit != 64<<20 || u.MemoryUsage <= 0 {
		t.Fatalf("usage %+v, want limit %d and some usage", u, 64<<20)
	}

	// A second create with the same spec adopts; another spec hash is a
	// conflict the controller must resolve itself.
	adopted, err := c.CreateContainer(ctx, web)
	if err != nil || !adopted.Adopted || adopted.ID != created.ID {
		t.Fatalf("re-create = %+v, %v; want adoption of %s", adopted, err, created.ID)
	}
	changed := web
	changed.SpecHash = "h2"
	if _, err := c.CreateContainer(ctx, changed); !IsConflict(err) {
		t.Fatalf("create over an owned container with another spec hash: %v, want Conflict", err)
	}

	// The client service reaches web by its service name.
	cli, err := c.CreateContainer(ctx, spec(env, "client", "--http-port", "0"))
	if err != nil {
		t.Fatal(err)
	}
	if err := c.StartContainer(ctx, cli.ID); err != nil {
		t.Fatal(err)
	}
	res, err := c.Exec(ctx, cli.ID, []string{"/testapp", "check", "--http", "http://web:8080/healthz"}, 20*time.Second)
	if err != nil || res.ExitCode != 0 {
		t.Fatalf("exec check of web by alias: %+v, %v", res, err)
	}
	res, err = c.Exec(ctx, cli.ID, []string{"/testapp", "check", "--file", "/nonexistent"}, 20*time.Second)
	if err != nil || res.ExitCode != 1 {
		t.Fatalf("failing exec: %+v, %v; want exit 1", res, err)
	}
	var out, errOut bytes.Buffer
	if err := c.Logs(ctx, created.ID, LogOptions{Tail: 50}, &out, &errOut); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String()+errOut.String(), "testapp") {
		t.Fatalf("logs lack testapp's lines: %q %q", out.String(), errOut.String())
	}

	// Teardown: containers, then the network, then the volume.
	for _, id := range []string{created.ID, cli.ID} {
		if err := c.StopAndRemove(ctx, id, 5*time.Second); err != nil {
			t.Fatal(err)
		}
		if _, err := raw.ContainerInspect(ctx, id, clientInspectOpts()); err == nil {
			t.Fatalf("container %s still exists after StopAndRemove", id)
		}
		if err := c.StopAndRemove(ctx, id, time.Second); err != nil {
			t.Fatalf("StopAndRemove of a removed container must succeed: %v", err)
		}
	}
	if err := c.RemoveNetwork(ctx, NetworkName(env)); err != nil {
		t.Fatal(err)
	}
	if err := c.RemoveVolume(ctx, vol.Name); err != nil {
		t.Fatal(err)
	}
	st := c.Stats()
	if st.Reads == 0 || st.Writes == 0 || st.ByOp["container_create"].Calls == 0 {
		t.Fatalf("stats not counting: %+v", st)
	}
}

// TestRefusesWhatItDoesNotOwn points every destructive call at the decoys
// and at foreign names berth might want to use.
func TestRefusesWhatItDoesNotOwn(t *testing.T) {
	needDocker(t)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	p := startProxy(t)
	c := newTestClient(t, p.Host(), governor.ProfileCI)
	for _, name := range []string{decoys.unlabelledContainer, decoys.foreignContainer, decoys.containers[0], decoys.containers[1]} {
		if err := c.StopAndRemove(ctx, name, time.Second); !IsNotOwned(err) {
			t.Errorf("StopAndRemove(%s) = %v, want NotOwned", name, err)
		}
	}
	for _, name := range []string{decoys.unlabelledNetwork, decoys.foreignNetwork, decoys.networks[0]} {
		if err := c.RemoveNetwork(ctx, name); !IsNotOwned(err) {
			t.Errorf("RemoveNetwork(%s) = %v, want NotOwned", name, err)
		}
	}
	if err := c.RemoveVolume(ctx, decoys.foreignVolume); !IsNotOwned(err) {
		t.Errorf("RemoveVolume(foreign) = %v, want NotOwned", err)
	}
	// Names berth would use but someone else holds.
	if _, err := c.EnsureNetwork(ctx, NetworkSpec{Name: decoys.foreignNetwork}); !IsNotOwned(err) {
		t.Errorf("EnsureNetwork over a foreign network = %v, want NotOwned", err)
	}
	if _, err := c.EnsureVolume(ctx, VolumeSpec{Name: decoys.foreignVolume}); !IsNotOwned(err) {
		t.Errorf("EnsureVolume over a foreign volume = %v, want NotOwned", err)
	}
	s := spec("x", "y")
	s.Name = decoys.unlabelledContainer
	if _, err := c.CreateContainer(ctx, s); !IsNotOwned(err) {
		t.Errorf("CreateContainer over a foreign name = %v, want NotOwned", err)
	}
	for _, r := range p.Requests() {
		if r.Method == "DELETE" || strings.HasSuffix(strings.SplitN(r.URI, "?", 2)[0], "/stop") {
			t.Errorf("a destructive request reached the daemon: %s %s", r.Method, r.URI)
		}
	}
	if err := decoys.verify(); err != nil {
		t.Fatal(err)
	}
}

// TestEnsureNetworkConcurrent: many ensures of one name make one network.
func TestEnsureNetworkConcurrent(t *testing.T) {
	needDocker(t)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	c := newTestClient(t, dockerHost, governor.ProfileCI)
	env := envName(t, "net")
	cleanupEnv(t, env)
	var wg sync.WaitGroup
	ids := make([]string, 6)
	for i := range ids {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			n, err := c.EnsureNetwork(ctx, NetworkSpec{Environment: env})
			if err != nil {
				t.Error(err)
			}
			ids[i] = n.ID
		}(i)
	}
	wg.Wait()
	nets, err := c.networksNamed(ctx, NetworkName(env))
	if err != nil {
		t.Fatal(err)
	}
	if len(nets) != 1 {
		t.Fatalf("%d networks named %s, want 1", len(nets), NetworkName(env))
	}
	for _, id := range ids {
		if id != nets[0].ID {
			t.Fatalf("ensures returned %v, want all %s", ids, nets[0].ID)
		}
	}
}
