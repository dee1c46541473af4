package controllers

import (
	"context"
	"os/exec"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/go-logr/logr/testr"
	"github.com/prometheus/client_golang/prometheus"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"

	"berth.dev/berth/apis/v1alpha1"
	"berth.dev/berth/controllers/plan"
	"berth.dev/berth/internal/docker"
)

// planRunner drives plan.Compute and the controller's own executor
// against the real engine, observing with direct Docker reads (the
// informer's view of the same objects), without an API server.
type planRunner struct {
	t    *testing.T
	cli  *docker.Client
	c    *Controller
	opts plan.Options
}

func newPlanRunner(t *testing.T, cli *docker.Client, cfg docker.Config) *planRunner {
	return &planRunner{t: t, cli: cli, opts: plan.Options{ManagerID: cfg.ManagerID}, c: &Controller{
		docker: cli, log: testr.New(t), images: newImageBook(), runs: newRunMemory(),
		refusals: newNetworkRefusals(), metrics: newReconcileMetrics(prometheus.NewRegistry()),
	}}
}

// observe files the Environment's objects the way Controller.observe does.
func (r *planRunner) observe(ctx context.Context, env *v1alpha1.Environment) plan.Observed {
	r.t.Helper()
	obs := plan.Observed{
		Volumes: map[string]plan.ObservedVolume{},
		Images:  map[string]plan.ObservedImage{"berth-testapp:dev": {Present: true}},
		Probes:  map[string]plan.ProbeResult{},
	}
	cts, err := r.cli.ListContainers(ctx)
	if err != nil {
		r.t.Fatal(err)
	}
	for _, ct := range cts {
		if ct.Environment == env.Name {
			obs.Containers = append(obs.Containers, observedContainer(ct))
		}
	}
	nets, err := r.cli.ListNetworks(ctx)
	if err != nil {
		r.t.Fatal(err)
	}
	specNets := plan.SpecNetworkNames(env)
	for _, n := range nets {
		if n.Environment != env.Name {
			continue
		}
		full, err := r.cli.InspectNetwork(ctx, n.ID)
		if err != nil {
			r.t.Fatal(err)
		}
		on := observedNetwork(full)
		_, listed := specNets[n.Name]
		switch {
		case listed && n.Name != plan.NetworkName(env.Name):
			observeSpecNetwork(&obs, env, on)
		case n.Name == plan.NetworkName(env.Name):
			obs.Network = &on
		default:
			obs.OtherNetworks = append(obs.OtherNetworks, on)
		}
	}
	return obs
}

// converge runs plans until one is empty and returns the ops of each.
func (r *planRunner) converge(ctx context.Context, env *v1alpha1.Environment) [][]string {
	r.t.Helper()
	var plans [][]string
	for i := 0; i < 20; i++ {
		p := plan.Compute(env, r.observe(ctx, env), r.opts, time.Now())
		if p.Empty() {
			if !p.Teardown && len(p.Waiting) > 0 {
				r.t.Fatalf("converged with services waiting: %+v", p.Waiting)
			}
			return plans
		}
		plans = append(plans, p.Strings())
		if _, err := r.c.execute(ctx, env, p); err != nil {
			r.t.Fatalf("plan %v: %v", p.Strings(), err)
		}
	}
	r.t.Fatalf("no convergence after 20 plans: %v", plans)
	return nil
}

// reach reports whether from's container connects to addr (name:port),
// with the testapp's own check tool.
func reach(ctx context.Context, t *testing.T, cli *docker.Client, from, addr string) (bool, string) {
	t.Helper()
	res, err := cli.Exec(ctx, from, []string{"/testapp", "check", "--tcp", addr, "--timeout", "3s"}, 10*time.Second)
	if err != nil {
		t.Fatalf("exec in %s: %v", from, err)
	}
	return res.ExitCode == 0, strings.TrimSpace(res.Output)
}

// TestNetworksSplitAndRepairOnDocker is the frontend/backend split on the
// real engine: frontend on front, db on back (also as "postgres"),
// backend on both. The frontend cannot reach the db; the backend reaches
// both, by name and by alias. A container disconnected behind berth's back
// is connected again by one ConnectNetwork, and teardown leaves no network.
func TestNetworksSplitAndRepairOnDocker(t *testing.T) {
	if testing.Short() {
		t.Skip("Docker-backed")
	}
	cli, cfg, run := dockerTestClient(t, "berth-networks-")
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()

	grace := int64(2)
	svc := func(name string, nets ...v1alpha1.ServiceNetwork) v1alpha1.Service {
		return v1alpha1.Service{Name: name, Image: "berth-testapp:dev", Args: []string{"--http-port=8080"},
			TerminationGracePeriodSeconds: &grace, Networks: nets}
	}
	env := &v1alpha1.Environment{ObjectMeta: metav1.ObjectMeta{Name: "net" + run, UID: types.UID("uid-net" + run), Generation: 1}}
	env.Spec.Networks = []v1alpha1.Network{{Name: "front"}, {Name: "back"}}
	env.Spec.Services = []v1alpha1.Service{
		svc("db", v1alpha1.ServiceNetwork{Name: "back", Aliases: []string{"postgres"}}),
		svc("backend"), // both
		svc("frontend", v1alpha1.ServiceNetwork{Name: "front"}),
	}
	v1alpha1.SetDefaults(env)
	if errs := v1alpha1.ValidateEnvironment(env); len(errs) != 0 {
		t.Fatalf("test spec invalid: %v", errs.ToAggregate())
	}
	r := newPlanRunner(t, cli, cfg)
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
		defer cancel()
		gone := env.DeepCopy()
		gone.DeletionTimestamp = &metav1.Time{Time: time.Now()}
		r.converge(ctx, gone)
		nets, err := cli.ListNetworks(ctx)
		if err != nil {
			t.Fatal(err)
		}
		for _, n := range nets {
			if n.Environment == env.Name {
				t.Errorf("teardown left network %s", n.Name)
			}
		}
	})

	plans := r.converge(ctx, env)
	t.Logf("plans: %v", plans)
	if len(plans) == 0 || !slices.Contains(plans[0], "ConnectNetwork "+plan.ContainerName(env.Name, "backend")+" "+v1alpha1.SpecNetworkName(env.Name, "front")) {
		t.Errorf("backend not connected to front by its own op: %v", plans)
	}
	name := func(s string) string { return plan.ContainerName(env.Name, s) }
	for _, tc := range []struct {
		from, to string
		want     bool
	}{
		{"backend", "db:8080", true},
		{"backend", "postgres:8080", true},
		{"backend", "frontend:8080", true},
		{"frontend", "backend:8080", true},
		{"frontend", "db:8080", false},
		{"frontend", "postgres:8080", false},
		{"db", "frontend:8080", false},
	} {
		got, out := reach(ctx, t, cli, name(tc.from), tc.to)
		if got != tc.want {
			t.Errorf("%s → %s: reachable %v, want %v (%s)", tc.from, tc.to, got, tc.want, out)
		}
		if !tc.want && !strings.Contains(out, "no such host") {
			// Not on a shared network means the name does not resolve
			// at all, not that a connection is refused.
			t.Errorf("%s → %s: want the name unresolvable, got %s", tc.from, tc.to, out)
		}
	}
	if t.Failed() {
		t.FailNow()
	}

	// Drift: the backend disconnected from front behind berth's back.
	front := v1alpha1.SpecNetworkName(env.Name, "front")
	if out, err := exec.CommandContext(ctx, "docker", "network", "disconnect", front, name("backend")).CombinedOutput(); err != nil {
		t.Fatalf("docker network disconnect: %v %s", err, out)
	}
	if ok, _ := reach(ctx, t, cli, name("frontend"), "backend:8080"); ok {
		t.Fatal("frontend still reaches backend after the disconnect")
	}
	plans = r.converge(ctx, env)
	want := [][]string{{"ConnectNetwork " + name("backend") + " " + front}}
	if !slices.EqualFunc(plans, want, slices.Equal[[]string]) {
		t.Errorf("repair plans %v, want %v", plans, want)
	}
	if ok, out := reach(ctx, t, cli, name("frontend"), "backend:8080"); !ok {
		t.Errorf("frontend does not reach backend after the repair: %s", out)
	}

	// A network removed behind berth's back (Docker refuses to remove
	// one with containers on it, so they are disconnected first): created
	// again, and its containers connected again.
	back := v1alpha1.SpecNetworkName(env.Name, "back")
	for _, c := range []string{"db", "backend"} {
		if out, err := exec.CommandContext(ctx, "docker", "network", "disconnect", back, name(c)).CombinedOutput(); err != nil {
			t.Fatalf("docker network disconnect: %v %s", err, out)
		}
	}
	if out, err := exec.CommandContext(ctx, "docker", "network", "rm", back).CombinedOutput(); err != nil {
		t.Fatalf("docker network rm: %v %s", err, out)
	}
	plans = r.converge(ctx, env)
	want = [][]string{{"EnsureNetwork " + back, "ConnectNetwork " + name("db") + " " + back, "ConnectNetwork " + name("backend") + " " + back}}
	if !slices.EqualFunc(plans, want, slices.Equal[[]string]) {
		t.Errorf("repair plans %v, want %v", plans, want)
	}
	for _, addr := range []string{"db:8080", "postgres:8080"} {
		if ok, out := reach(ctx, t, cli, name("backend"), addr); !ok {
			t.Errorf("backend does not reach %s after the network came back: %s", addr, out)
		}
	}
}
