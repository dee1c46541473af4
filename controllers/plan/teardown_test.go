package plan

import (
	"slices"
	"testing"
	"time"

	"berth.dev/berth/apis/v1alpha1"
)

func TestTeardownReverseOrder(t *testing.T) {
	for _, retain := range []bool{false, true} {
		env := demoEnv()
		env.Spec.Teardown.RetainVolumes = retain
		service(env, "db").TerminationGracePeriodSeconds = ptr(int64(30))
		obs := converged(t, env)
		p := Teardown(env, obs, testOptions())

		want := []string{
			"RemoveContainer api c-api",
			"RemoveContainer migrate c-migrate",
			"RemoveContainer db c-db",
			"RemoveNetwork berth_demo",
		}
		if !retain {
			want = append(want, "RemoveVolume berth_demo_data")
		}
		assertStrings(t, "teardown", p.Strings(), want)
		if !p.Teardown {
			t.Error("plan not marked Teardown")
		}
		if p.Ops[2].Grace != 30*time.Second || p.Ops[0].Grace != 2*time.Second {
			t.Errorf("graces %s %s: each service's own grace period", p.Ops[2].Grace, p.Ops[0].Grace)
		}
		if p.Ops[0].RemoveReason != RemoveTeardown || p.Ops[3].NetworkID != "net-demo" {
			t.Errorf("ops %+v %+v", p.Ops[0], p.Ops[3])
		}
		// Dependents first: migrate and db wait for api only.
		if !slices.Equal(p.Ops[1].Needs, []int{0}) || !slices.Equal(p.Ops[2].Needs, []int{0}) || p.Ops[0].Needs != nil {
			t.Errorf("needs %v %v %v", p.Ops[0].Needs, p.Ops[1].Needs, p.Ops[2].Needs)
		}
		if !slices.Equal(p.Ops[3].Needs, []int{0, 1, 2}) {
			t.Errorf("network needs %v, want every container gone", p.Ops[3].Needs)
		}
	}
}

func TestTeardownIsIdempotent(t *testing.T) {
	env := demoEnv()
	obs := converged(t, env)
	full := Teardown(env, obs, testOptions())
	for k := 0; k <= len(full.Ops); k++ {
		s := newSim(env, obs)
		for _, op := range full.Ops[:k] {
			s.apply(t, op)
		}
		assertStrings(t, "rest of teardown", Teardown(env, s.obs, testOptions()).Strings(), full.Strings()[k:])
	}
}

func TestTeardownOnlyTouchesWhatIsOwned(t *testing.T) {
	env := demoEnv()
	obs := converged(t, env)
	decoy := ObservedContainer{ID: "decoy", Name: "berth_demo_api2", State: StateRunning, Labels: map[string]string{
		v1alpha1.LabelEnvironment: "demo", v1alpha1.LabelService: "api",
	}}
	stale := container(t, env, "api", "c-stale", StateExited)
	stale.Labels = copyLabels(stale.Labels, v1alpha1.LabelEnvironmentUID, "uid-0")
	stale.Name = "berth_demo_api-old"
	extra := container(t, env, "api", "c-extra", StateRunning)
	extra.Labels = copyLabels(extra.Labels, v1alpha1.LabelService, "worker")
	extra.Name = "berth_demo_worker"
	extra.StopTimeout = 0
	obs.Containers = append(obs.Containers, decoy, stale, extra)
	obs.Volumes["berth_demo_other"] = ObservedVolume{Name: "berth_demo_other"} // not labelled
	obs.Network.Labels = copyLabels(obs.Network.Labels, v1alpha1.LabelManagedBy, "someone-else")

	p := Teardown(env, obs, testOptions())
	assertStrings(t, "teardown", p.Strings(), []string{
		"RemoveContainer worker c-extra", // not in the spec: nothing is known to depend on it
		"RemoveContainer api c-api",
		"RemoveContainer api c-stale",
		"RemoveContainer migrate c-migrate",
		"RemoveContainer db c-db",
		"RemoveVolume berth_demo_data",
	})
	if p.Ops[0].Grace != DefaultGracePeriod {
		t.Errorf("grace of an unknown service without a stop timeout: %s", p.Ops[0].Grace)
	}
}

func TestTeardownWaitsForARemovalInProgress(t *testing.T) {
	env := demoEnv()
	obs := converged(t, env)
	obs.Containers[0].State = StateRemoving
	p := Teardown(env, obs, testOptions())
	assertStrings(t, "teardown", p.Strings(), []string{"RemoveContainer api c-api", "RemoveContainer db c-db"})
	if p.RequeueAfter != DefaultWaitPoll {
		t.Errorf("RequeueAfter %s", p.RequeueAfter)
	}
	if done := Teardown(env, Observed{}, testOptions()); !done.Empty() || done.RequeueAfter != 0 {
		t.Errorf("nothing left: %v", done.Strings())
	}
}

func TestOrphans(t *testing.T) {
	gone, live := simpleEnv("a", "b"), demoEnv()
	gone.Name = "gone"
	service(gone, "b").DependsOn = []v1alpha1.Dependency{{Service: "a"}}
	gone.Spec.Volumes = []v1alpha1.Volume{{Name: "data"}}
	inv := Inventory{}
	for _, n := range []string{"b", "a"} {
		c := container(t, gone, n, "c-gone-"+n, StateRunning)
		c.StopTimeout = 4 * time.Second
		inv.Containers = append(inv.Containers, c)
	}
	inv.Containers = append(inv.Containers, converged(t, live).Containers...)
	foreign := container(t, gone, "a", "c-foreign", StateRunning)
	foreign.Name = "berth_gone_x"
	foreign.Labels = copyLabels(foreign.Labels, v1alpha1.LabelManagedBy, "other-manager")
	inv.Containers = append(inv.Containers, foreign, ObservedContainer{ID: "plain", Name: "postgres"})
	inv.Networks = []ObservedNetwork{*ownedNetwork(live), *ownedNetwork(gone), {Name: "berth_x", ID: "n-x"}}
	for _, e := range []*v1alpha1.Environment{gone, live} {
		for _, v := range ownedVolumes(e) {
			inv.Volumes = append(inv.Volumes, v)
		}
	}
	exists := map[string]bool{"demo": true}

	p := Orphans(inv, exists, testOptions())
	assertStrings(t, "orphans", p.Strings(), []string{
		"RemoveContainer a c-gone-a",
		"RemoveContainer b c-gone-b",
		"RemoveNetwork berth_gone",
	})
	if p.Ops[0].Grace != 4*time.Second || p.Ops[0].RemoveReason != RemoveOrphan || p.Ops[0].Environment != "gone" {
		t.Errorf("orphan removal %+v", p.Ops[0])
	}
	if !slices.Equal(p.Ops[2].Needs, []int{0, 1}) {
		t.Errorf("network needs %v", p.Ops[2].Needs)
	}

	opts := testOptions()
	opts.CollectOrphanVolumes = true
	p = Orphans(inv, exists, opts)
	if last := p.Strings()[len(p.Ops)-1]; last != "RemoveVolume berth_gone_data" {
		t.Errorf("with CollectOrphanVolumes the last op is %q, want the orphan volume", last)
	}
	// A volume created under teardown.retainVolumes outlives its
	// Environment on purpose: the collector leaves it.
	for i := range inv.Volumes {
		if inv.Volumes[i].Name == "berth_gone_data" {
			inv.Volumes[i].Labels = copyLabels(inv.Volumes[i].Labels, v1alpha1.LabelRetain, "true")
		}
	}
	p = Orphans(inv, exists, opts)
	for _, op := range p.Ops {
		if op.Kind == OpRemoveVolume {
			t.Errorf("retained volume collected: %v", op)
		}
	}
	if p = Orphans(inv, map[string]bool{"demo": true, "gone": true}, opts); !p.Empty() {
		t.Errorf("nothing is orphaned, got %v", p.Strings())
	}
}

func TestRetainedVolumesAreLabelled(t *testing.T) {
	for _, retain := range []bool{false, true} {
		env := simpleEnv("a")
		env.Spec.Volumes = []v1alpha1.Volume{{Name: "data"}}
		env.Spec.Teardown.RetainVolumes = retain
		p := Compute(env, Observed{}, testOptions(), t0)
		found := false
		for _, op := range p.Ops {
			if op.Kind != OpEnsureVolume {
				continue
			}
			found = true
			if got := op.Labels[v1alpha1.LabelRetain] == "true"; got != retain {
				t.Errorf("retainVolumes=%v: volume labels %v", retain, op.Labels)
			}
		}
		if !found {
			t.Fatalf("retainVolumes=%v: no EnsureVolume in %v", retain, p.Strings())
		}
	}
}
