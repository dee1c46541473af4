package plan

import (
	"slices"
	"strings"
	"testing"

	"berth.dev/berth/apis/v1alpha1"
)

// replicaContainer is replica i of name as berth creates it for the spec.
func replicaContainer(t *testing.T, env *v1alpha1.Environment, name string, i int, id string, state ContainerState) ObservedContainer {
	t.Helper()
	c := container(t, env, name, id, state)
	cfg := ReplicaConfig(env, service(env, name), mustConfig(t, env, name), i)
	c.Name, c.Labels = "/"+cfg.Name, cfg.Labels
	return c
}

// replicatedObs is app with n running replicas (replica 0 created before
// replicas existed, without the replica label) and other running.
func replicatedObs(t *testing.T, env *v1alpha1.Environment, n int) Observed {
	obs := Observed{
		Network:    ownedNetwork(env),
		Containers: []ObservedContainer{container(t, env, "app", "c-app", StateRunning), container(t, env, "other", "c-other", StateRunning)},
		Images:     map[string]ObservedImage{testImage: {Present: true}},
		Memory:     map[string]ServiceMemory{},
	}
	for i := 1; i < n; i++ {
		obs.Containers = append(obs.Containers, replicaContainer(t, env, "app", i, "c-app-"+string(rune('0'+i)), StateRunning))
	}
	return obs
}

func TestReplicasKeepTheHash(t *testing.T) {
	env := simpleEnv("app")
	before := mustConfig(t, env, "app")
	service(env, "app").Replicas = ptr(int32(3))
	after := mustConfig(t, env, "app")
	if before.Labels[v1alpha1.LabelSpecHash] != after.Labels[v1alpha1.LabelSpecHash] {
		t.Fatalf("replicas moved the hash: %s → %s", before.Labels[v1alpha1.LabelSpecHash], after.Labels[v1alpha1.LabelSpecHash])
	}
	cfgs := replicaConfigs(env, service(env, "app"), after)
	if len(cfgs) != 3 || cfgs[0].Labels[v1alpha1.LabelSpecHash] != before.Labels[v1alpha1.LabelSpecHash] || cfgs[0].Name != "berth_web_app" {
		t.Fatalf("replica 0 must be today's container: %+v", cfgs[0])
	}
	for i, want := range []string{"berth_web_app", "berth_web_app_1", "berth_web_app_2"} {
		if cfgs[i].Name != want || cfgs[i].Labels[v1alpha1.LabelReplica] != string(rune('0'+i)) || cfgs[i].NetworkAlias != "app" {
			t.Errorf("replica %d: name %s label %q alias %q", i, cfgs[i].Name, cfgs[i].Labels[v1alpha1.LabelReplica], cfgs[i].NetworkAlias)
		}
	}
	// Scaling does not change a replica's hash.
	service(env, "app").Replicas = ptr(int32(5))
	more := replicaConfigs(env, service(env, "app"), mustConfig(t, env, "app"))
	if more[2].Labels[v1alpha1.LabelSpecHash] != cfgs[2].Labels[v1alpha1.LabelSpecHash] {
		t.Error("replica 2's hash depends on the replica count")
	}
}

func TestReplicasScaleUp(t *testing.T) {
	env := simpleEnv("app", "other")
	obs := replicatedObs(t, env, 1)
	service(env, "app").Replicas = ptr(int32(3))
	p := Compute(env, obs, testOptions(), t0)
	assertStrings(t, "scale up", p.Strings(), []string{
		"CreateContainer app", "StartContainer app ", "CreateContainer app", "StartContainer app ",
	})
	var names []string
	for _, o := range p.Ops {
		if o.ContainerID != "" {
			t.Errorf("%s touches an existing container", o)
		}
		names = append(names, o.ContainerName)
		if o.Kind == OpCreateContainer && o.Config.Labels[v1alpha1.LabelReplica] == "" {
			t.Errorf("%s without a replica label", o.ContainerName)
		}
	}
	assertStrings(t, "names", names, []string{"berth_web_app_1", "berth_web_app_1", "berth_web_app_2", "berth_web_app_2"})

	if p := Compute(env, replicatedObs(t, env, 3), testOptions(), t0); !p.Empty() {
		t.Errorf("three replicas up plan %v", p.Strings())
	}
}

func TestReplicasScaleDown(t *testing.T) {
	env := simpleEnv("app", "other")
	service(env, "app").Replicas = ptr(int32(1))
	p := Compute(env, replicatedObs(t, env, 3), testOptions(), t0)
	assertStrings(t, "scale down", p.Strings(), []string{"RemoveContainer app c-app-2", "RemoveContainer app c-app-1"})
	if len(p.Ops) != 2 {
		t.FailNow()
	}
	if !slices.Equal(p.Ops[1].Needs, []int{0}) {
		t.Errorf("replica 1 removed alongside replica 2 (needs %v)", p.Ops[1].Needs)
	}
	for _, o := range p.Ops {
		if o.RemoveReason != RemoveScaledDown || o.Grace != GracePeriod(service(env, "app")) {
			t.Errorf("%s: reason %s grace %s, want a graceful ScaledDown", o, o.RemoveReason, o.Grace)
		}
	}
	// Unset is one replica too.
	service(env, "app").Replicas = nil
	if got := Compute(env, replicatedObs(t, env, 2), testOptions(), t0).Strings(); !slices.Equal(got, []string{"RemoveContainer app c-app-1"}) {
		t.Errorf("unset replicas: %v", got)
	}
}

func TestReplicasDriftRepair(t *testing.T) {
	env := simpleEnv("app", "other")
	service(env, "app").Replicas = ptr(int32(3))
	obs := replicatedObs(t, env, 3)
	obs.Containers = slices.DeleteFunc(obs.Containers, func(c ObservedContainer) bool { return c.ID == "c-app-1" })
	p := Compute(env, obs, testOptions(), t0)
	assertStrings(t, "replica 1 gone", p.Strings(), []string{"CreateContainer app", "StartContainer app "})
	if len(p.Ops) == 2 && p.Ops[0].ContainerName != "berth_web_app_1" {
		t.Errorf("created %s", p.Ops[0].ContainerName)
	}

	obs = replicatedObs(t, env, 3)
	for i := range obs.Containers {
		if obs.Containers[i].ID == "c-app-2" {
			obs.Containers[i].State, obs.Containers[i].ExitCode = StateExited, 137
			obs.Containers[i].FinishedAt = t0.Add(-30 * 60e9)
		}
	}
	p = Compute(env, obs, testOptions(), t0)
	assertStrings(t, "replica 2 killed", p.Strings(), []string{"StartContainer app c-app-2"})
}

func TestReplicasStatusAndDependents(t *testing.T) {
	env := simpleEnv("app", "other")
	service(env, "app").Replicas = ptr(int32(3))
	service(env, "other").DependsOn = []v1alpha1.Dependency{{Service: "app", Condition: v1alpha1.DependencyReady}}
	obs := replicatedObs(t, env, 3)
	for i := range obs.Containers {
		if obs.Containers[i].ID == "c-app-2" {
			obs.Containers[i].Ports = []ObservedPort{{ContainerPort: 80, Protocol: "tcp", HostIP: "127.0.0.1", HostPort: 40002}}
		}
	}
	service(env, "app").Ports = []v1alpha1.ServicePort{{ContainerPort: 80, HostPort: ptr(int32(0)), Protocol: v1alpha1.ProtocolTCP}}
	obs = replicatedObsRehash(t, env, obs)

	p := Compute(env, obs, testOptions(), t0)
	st := ComputeStatus(env, obs, testOptions(), p, v1alpha1.EnvironmentStatus{}, t0)
	app := st.Services[0]
	if !app.Ready || app.Replicas != 3 || app.ReadyReplicas != 3 || app.ContainerID != "c-app" {
		t.Errorf("all up: %+v", app)
	}
	if len(app.Ports) != 3 || app.Ports[1].Replica != 1 || app.Ports[2].Replica != 2 || app.Ports[2].HostPort != 40002 {
		t.Errorf("ports %+v, want replica 0's, 1's, then 2's (published on 40002)", app.Ports)
	}
	if other := st.Services[1]; other.Replicas != 0 {
		t.Errorf("a service without replicas reports %d", other.Replicas)
	}

	// Replica 1 down: the service is not Ready and its dependent waits.
	obs.Containers = slices.DeleteFunc(obs.Containers, func(c ObservedContainer) bool { return c.ID == "c-app-1" || c.ID == "c-other" })
	p = Compute(env, obs, testOptions(), t0)
	st = ComputeStatus(env, obs, testOptions(), p, v1alpha1.EnvironmentStatus{}, t0)
	if app := st.Services[0]; app.Ready || app.ReadyReplicas != 2 {
		t.Errorf("replica 1 missing: %+v", app)
	}
	if w, ok := p.Waiting["other"]; !ok || w.Dependency != "app" {
		t.Errorf("other does not wait for app: %+v (plan %v)", p.Waiting, p.Strings())
	}
	if _, i := findOp(p, OpCreateContainer, "other"); i >= 0 {
		t.Errorf("other created before every replica of app is ready: %v", p.Strings())
	}
}

// replicatedObsRehash relabels the observed containers for env's current
// spec (after a change to it), keeping their IDs, states and ports.
func replicatedObsRehash(t *testing.T, env *v1alpha1.Environment, obs Observed) Observed {
	for i, c := range obs.Containers {
		idx, _ := replicaIndex(c)
		fresh := replicaContainer(t, env, c.service(), idx, c.ID, c.State)
		if _, has := c.Labels[v1alpha1.LabelReplica]; !has {
			delete(fresh.Labels, v1alpha1.LabelReplica)
		}
		obs.Containers[i].Labels = fresh.Labels
	}
	return obs
}

// TestReplicasRestartHistory: each replica's restarts are remembered in
// replicaStatuses like replica 0's in the service status, so a replica's
// crash loop is counted and backs off like a single container's.
func TestReplicasRestartHistory(t *testing.T) {
	env := simpleEnv("app", "other")
	service(env, "app").Replicas = ptr(int32(2))
	obs := replicatedObs(t, env, 2)
	p := Compute(env, obs, testOptions(), t0)
	st := ComputeStatus(env, obs, testOptions(), p, v1alpha1.EnvironmentStatus{}, t0)
	rs := st.Services[0].ReplicaStatuses
	if len(rs) != 1 || rs[0].Replica != 1 || rs[0].ContainerID != "c-app-1" || !rs[0].Ready {
		t.Fatalf("replicaStatuses %+v", rs)
	}
	mem := MemoryFromStatus(st)
	if m := mem["app/1"]; m.ContainerID != "c-app-1" || m.StartedAt.IsZero() {
		t.Fatalf("replica 1 memory %+v", m)
	}

	// Replica 1 was restarted (a later start) and crashed again at once.
	for i := range obs.Containers {
		if c := &obs.Containers[i]; c.ID == "c-app-1" {
			c.State, c.ExitCode = StateExited, 1
			c.StartedAt, c.FinishedAt = t0.Add(-3e9), t0.Add(-2e9)
		}
	}
	obs.Memory = mem
	p = Compute(env, obs, testOptions(), t0)
	op, _ := findOp(p, OpStartContainer, "app")
	if op.ContainerID == "c-app-1" {
		if !strings.Contains(op.Reason, "(restart 2,") {
			t.Errorf("replica 1 restarted as %q, want its second restart", op.Reason)
		}
	} else if w, ok := p.Waiting["app"]; !ok || w.Reason != WaitCrashLoopBackOff {
		t.Errorf("replica 1 neither restarted nor backing off: %v %+v", p.Strings(), p.Waiting)
	}
	st = ComputeStatus(env, obs, testOptions(), p, st, t0)
	if rs := st.Services[0].ReplicaStatuses; len(rs) != 1 || rs[0].RestartCount != 1 || rs[0].LastExitCode == nil || *rs[0].LastExitCode != 1 {
		t.Errorf("after the crash: %+v", rs)
	}
}
