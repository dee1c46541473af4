package docker_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"berth.dev/berth/internal/docker"
	"berth.dev/berth/internal/docker/faultproxy"
	"berth.dev/berth/internal/governor"
	"berth.dev/berth/internal/informer"
)

// inspectsOf counts the recorded inspects of container id.
func inspectsOf(reqs []faultproxy.Request, id string) int {
	n := 0
	for _, r := range reqs {
		if r.Method == "GET" && strings.Contains(r.URI, "/containers/"+id+"/json") {
			n++
		}
	}
	return n
}

// TestInformerTakesWhatThisProcessCreated: the informer shares the client
// that created the objects. A container with no host port and a known
// healthcheck (none, or the spec's) is not inspected after its start, and
// its cached health says what Docker will report; one that publishes a
// port is, for the port; the network this process created is not
// inspected after its create event.
func TestInformerTakesWhatThisProcessCreated(t *testing.T) {
	docker.NeedDocker(t)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	env := docker.EnvName(t, "known")
	docker.CleanupEnv(t, env)
	p := docker.StartProxy(t)
	c := docker.NewTestClient(t, p.Host(), governor.ProfileCI)
	inf := informer.New(c)
	ictx, stop := context.WithCancel(ctx)
	defer stop()
	go inf.Run(ictx)
	if err := inf.WaitForSync(ctx); err != nil {
		t.Fatal(err)
	}

	plainSpec := docker.TestSpec(env, "plain", "--http-port", "8080")
	if err := c.EnsureImage(ctx, plainSpec.Image, docker.PullNever, nil); err != nil {
		t.Fatal(err)
	}
	p.Reset()
	net, err := c.EnsureNetwork(ctx, docker.NetworkSpec{Environment: env})
	if err != nil {
		t.Fatal(err)
	}
	checkedSpec := docker.TestSpec(env, "checked", "--http-port", "8080")
	checkedSpec.Healthcheck = &docker.HealthcheckSpec{Test: []string{"CMD", "/testapp", "check", "--http", "http://127.0.0.1:8080/healthz"}, Interval: time.Second, Retries: 3}
	publishedSpec := docker.TestSpec(env, "published", "--http-port", "8080")
	publishedSpec.Ports = []docker.PortSpec{{ContainerPort: 8080, Protocol: "tcp", HostIP: "127.0.0.1"}}
	ids := map[string]string{}
	for _, s := range []docker.ContainerSpec{plainSpec, checkedSpec, publishedSpec} {
		cr, err := c.CreateContainer(ctx, s)
		if err != nil {
			t.Fatal(err)
		}
		if err := c.StartContainer(ctx, cr.ID); err != nil {
			t.Fatal(err)
		}
		ids[s.Service] = cr.ID
	}
	docker.Eventually(t, 30*time.Second, "the cache sees every start, and the published port", func() bool {
		for svc, id := range ids {
			got, ok := inf.Container(id)
			if !ok || got.State != "running" || (svc == "published" && len(got.Ports) == 0) {
				return false
			}
		}
		return true
	})

	reqs := p.Requests()
	for svc, want := range map[string]int{"plain": 0, "checked": 0, "published": 1} {
		if got := inspectsOf(reqs, ids[svc]); got != want {
			t.Errorf("%s: %d inspects after its start, want %d", svc, got, want)
		}
	}
	for _, r := range reqs {
		if r.Method == "GET" && strings.Contains(r.URI, "/networks/"+net.ID) {
			t.Errorf("the network this process created was inspected: %s", r.URI)
		}
	}
	plain, _ := inf.Container(ids["plain"])
	if plain.HealthUnknown || plain.Health != "" {
		t.Errorf("plain: health %q unknown %v, want no healthcheck, known", plain.Health, plain.HealthUnknown)
	}
	checked, _ := inf.Container(ids["checked"])
	if checked.HealthUnknown || (checked.Health != "starting" && checked.Health != "healthy") {
		t.Errorf("checked: health %q unknown %v, want starting or healthy, known", checked.Health, checked.HealthUnknown)
	}
	docker.Eventually(t, 30*time.Second, "Docker's health_status reaches the cache", func() bool {
		got, _ := inf.Container(ids["checked"])
		return got.Health == "healthy"
	})
	if nets := inf.Networks(env); len(nets) != 1 || nets[0].ID != net.ID {
		t.Errorf("cached networks of %s: %+v, want the created one", env, nets)
	}
}
