package controllers

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"

	"berth.dev/berth/apis/v1alpha1"
	"berth.dev/berth/controllers/plan"
	"berth.dev/berth/internal/docker"
)

// buildLookupImage builds testdata/lookup into a FROM scratch image tagged
// tag, removed (without force) when the test ends.
func buildLookupImage(ctx context.Context, t *testing.T, tag string) {
	t.Helper()
	dir := t.TempDir()
	build := exec.CommandContext(ctx, "go", "build", "-o", filepath.Join(dir, "lookup"), "./testdata/lookup")
	build.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build lookup: %v\n%s", err, out)
	}
	if err := os.WriteFile(filepath.Join(dir, "Dockerfile"), []byte("FROM scratch\nCOPY lookup /lookup\nENTRYPOINT [\"/lookup\"]\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.CommandContext(ctx, "docker", "build", "-q", "-t", tag, dir).CombinedOutput(); err != nil {
		t.Fatalf("docker build: %v\n%s", err, out)
	}
	t.Cleanup(func() {
		if out, err := exec.Command("docker", "image", "rm", tag).CombinedOutput(); err != nil {
			t.Errorf("docker image rm %s: %v %s", tag, err, out)
		}
	})
}

// TestReplicasOnDocker: three replicas of app behind its name (the client
// resolves three distinct addresses, each a replica's), a killed replica
// is brought back, and scaling to one removes replicas 2 then 1 gracefully
// while replica 0 keeps its container.
func TestReplicasOnDocker(t *testing.T) {
	if testing.Short() {
		t.Skip("Docker-backed")
	}
	cli, cfg, run := dockerTestClient(t, "berth-replicas-")
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	lookupImage := "berth-lookup-test:" + run
	buildLookupImage(ctx, t, lookupImage)

	grace := int64(5)
	env := &v1alpha1.Environment{ObjectMeta: metav1.ObjectMeta{Name: "rep" + run, UID: types.UID("uid-rep" + run), Generation: 1}}
	env.Spec.Services = []v1alpha1.Service{
		{Name: "app", Image: "berth-testapp:dev", Args: []string{"--http-port=8080"}, TerminationGracePeriodSeconds: &grace,
			Replicas: ptrTo(int32(3))},
		{Name: "client", Image: lookupImage, ImagePullPolicy: v1alpha1.PullNever, TerminationGracePeriodSeconds: &grace},
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
	})

	r.converge(ctx, env)
	name := func(i int) string { return v1alpha1.ReplicaContainerName(env.Name, "app", i) }
	replicas := func() map[string]docker.Container {
		out := map[string]docker.Container{}
		cts, err := cli.ListContainers(ctx)
		if err != nil {
			t.Fatal(err)
		}
		for _, ct := range cts {
			if ct.Environment == env.Name && ct.Service == "app" {
				full, err := cli.InspectContainer(ctx, ct.ID)
				if err != nil {
					t.Fatal(err)
				}
				out[strings.TrimPrefix(full.Name, "/")] = full
			}
		}
		return out
	}
	resolve := func() []string {
		res, err := cli.Exec(ctx, plan.ContainerName(env.Name, "client"), []string{"/lookup", "app"}, 10*time.Second)
		if err != nil || res.ExitCode != 0 {
			t.Fatalf("lookup app: %v %s", err, res.Output)
		}
		return strings.Fields(res.Output)
	}
	ipsOf := func(cs map[string]docker.Container) []string {
		var out []string
		for _, c := range cs {
			if ip := c.Networks[plan.NetworkName(env.Name)]; ip != "" {
				out = append(out, ip)
			}
		}
		slices.Sort(out)
		return out
	}

	up := replicas()
	for i := range 3 {
		c, ok := up[name(i)]
		if !ok || !c.Running() || c.Labels[v1alpha1.LabelReplica] != string(rune('0'+i)) {
			t.Fatalf("replica %d: %+v (have %v)", i, c, mapKeys(up))
		}
	}
	got, want := resolve(), ipsOf(up)
	if len(want) != 3 || !slices.Equal(got, want) {
		t.Fatalf("app resolves to %v, want the three replicas' %v", got, want)
	}
	for _, ip := range got {
		if ok, out := reach(ctx, t, cli, name(0), ip+":8080"); !ok {
			t.Errorf("replica at %s not serving: %s", ip, out)
		}
	}

	// A replica killed behind berth's back comes back, alone.
	if out, err := exec.CommandContext(ctx, "docker", "kill", name(1)).CombinedOutput(); err != nil {
		t.Fatalf("docker kill: %v %s", err, out)
	}
	plans := r.converge(ctx, env)
	if len(plans) != 1 || !slices.Equal(plans[0], []string{"StartContainer app " + up[name(1)].ID}) {
		t.Errorf("repair plans %v, want replica 1 restarted only", plans)
	}
	if c := replicas()[name(1)]; !c.Running() || c.ID != up[name(1)].ID {
		t.Errorf("replica 1 after repair: %+v", c)
	}

	// A replica removed behind berth's back is created again under its name.
	for _, args := range [][]string{{"stop", "-t", "5", name(2)}, {"rm", name(2)}} {
		if out, err := exec.CommandContext(ctx, "docker", args...).CombinedOutput(); err != nil {
			t.Fatalf("docker %v: %v %s", args, err, out)
		}
	}
	plans = r.converge(ctx, env)
	if len(plans) != 1 || !slices.Equal(plans[0], []string{"CreateContainer app", "StartContainer app "}) {
		t.Errorf("repair plans %v, want replica 2 created and started", plans)
	}
	up = replicas()
	if c := up[name(2)]; !c.Running() || len(up) != 3 {
		t.Fatalf("replica 2 after repair: %+v (have %v)", c, mapKeys(up))
	}

	// Scale to one: replicas 2 then 1 stopped with their grace and removed.
	env.Spec.Services[0].Replicas = ptrTo(int32(1))
	env.Generation++
	since := time.Now().Add(-time.Second).Unix()
	plans = r.converge(ctx, env)
	until := time.Now().Add(time.Second).Unix()
	for _, i := range []int{1, 2} {
		// The testapp exits 0 on SIGTERM; 137 would be a kill after the
		// grace period.
		out, err := exec.CommandContext(ctx, "docker", "events", "--since", strconv.FormatInt(since, 10), "--until", strconv.FormatInt(until, 10),
			"--filter", "container="+up[name(i)].ID, "--filter", "event=die", "--format", "{{.Actor.Attributes.exitCode}}").CombinedOutput()
		// The window may also hold replica 1's kill above (same
		// container, restarted): the scale-down's is the last die.
		codes := strings.Fields(string(out))
		if err != nil || len(codes) == 0 || codes[len(codes)-1] != "0" {
			t.Errorf("replica %d died with %q (%v), want a graceful exit 0 last", i, out, err)
		}
	}
	wantPlans := [][]string{{"RemoveContainer app " + up[name(2)].ID, "RemoveContainer app " + up[name(1)].ID}}
	if !slices.EqualFunc(plans, wantPlans, slices.Equal[[]string]) {
		t.Errorf("scale-down plans %v, want %v", plans, wantPlans)
	}
	left := replicas()
	if len(left) != 1 || left[name(0)].ID != up[name(0)].ID {
		t.Errorf("after scale-down: %v, want replica 0 %s kept", mapKeys(left), up[name(0)].ID)
	}
	if got := resolve(); !slices.Equal(got, ipsOf(left)) {
		t.Errorf("app resolves to %v after scale-down, want %v", got, ipsOf(left))
	}
}

func mapKeys[V any](m map[string]V) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}
