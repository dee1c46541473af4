package controllers

import (
	"context"
	"slices"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"berth.dev/berth/apis/v1alpha1"
	"berth.dev/berth/controllers/plan"
	"berth.dev/berth/internal/docker"
	"berth.dev/berth/internal/informer"
	"berth.dev/berth/internal/probe"
)

// fakeCache is a informer.Cache over fixed objects, attributing them by the
// Environment label as the informer does.
type fakeCache struct {
	containers []docker.Container
	networks   []docker.Network
}

func (f *fakeCache) HasSynced() bool                      { return true }
func (f *fakeCache) WaitForSync(context.Context) error    { return nil }
func (f *fakeCache) AddHandler(informer.Handler)          {}
func (f *fakeCache) Volumes(string) []docker.Volume       { return nil }
func (f *fakeCache) All() informer.Snapshot               { return informer.Snapshot{} }
func (f *fakeCache) Environments() []string               { return nil }
func (f *fakeCache) Relist()                              {}
func (f *fakeCache) Removed(string)                       {}
func (f *fakeCache) LearnNetwork(docker.Network)          {}
func (f *fakeCache) LearnContainer(docker.Container)      {}
func (f *fakeCache) Started(string)                       {}
func (f *fakeCache) NeedAddress(string)                   {}
func (f *fakeCache) Outages() []informer.Outage           { return nil }
func (f *fakeCache) Networks(env string) []docker.Network { return filterEnv(f.networks, env) }
func (f *fakeCache) Containers(env string) []docker.Container {
	var out []docker.Container
	for _, c := range f.containers {
		if c.Environment == env {
			out = append(out, c)
		}
	}
	return out
}
func (f *fakeCache) Container(idOrName string) (docker.Container, bool) {
	for _, c := range f.containers {
		if c.ID == idOrName || c.Name == idOrName {
			return c, true
		}
	}
	return docker.Container{}, false
}

func filterEnv(ns []docker.Network, env string) []docker.Network {
	var out []docker.Network
	for _, n := range ns {
		if n.Environment == env {
			out = append(out, n)
		}
	}
	return out
}

func labelled(env, uid string) map[string]string {
	return map[string]string{v1alpha1.LabelManagedBy: "m", v1alpha1.LabelEnvironment: env, v1alpha1.LabelEnvironmentUID: uid}
}

// TestObserveSortsNetworksOutByLabels: the Environment's network is the one
// under its name labelled for its incarnation; an older berth's berth-<env>
// and an earlier incarnation's network go to OtherNetworks, with what is
// attached, for the plan to drain; a container of another Environment under
// one of its names is observed, so the plan reports the conflict.
func TestObserveSortsNetworksOutByLabels(t *testing.T) {
	env := &v1alpha1.Environment{ObjectMeta: metav1.ObjectMeta{Name: "demo", UID: "u1"}}
	env.Spec.Services = []v1alpha1.Service{{Name: "s"}}
	net := func(id, name, uid string, attached ...string) docker.Network {
		n := docker.Network{ID: id, Name: name, Labels: labelled("demo", uid), Environment: "demo", Containers: map[string]string{}}
		for _, a := range attached {
			n.Containers[a] = ""
		}
		return n
	}
	intruder := docker.Container{ID: "c-x", Name: v1alpha1.ContainerName("demo", "s"), Labels: labelled("demo-x", "ux"), Environment: "demo-x", Service: "s"}
	cache := &fakeCache{
		networks: []docker.Network{
			net("n-earlier", "berth_demo", "u0", "c-old"),
			net("n-legacy", "berth-demo", "u1", "c-2", "c-1"),
			net("n-ours", "berth_demo", "u1"),
		},
		containers: []docker.Container{intruder},
	}
	c := &Controller{cache: cache, images: newImageBook(), runs: newRunMemory(), everReady: newReadyMemory(), probes: &probe.Manager{}, refusals: newNetworkRefusals()}
	obs := c.observe(env)
	if obs.Network == nil || obs.Network.ID != "n-ours" {
		t.Fatalf("network %+v, want n-ours", obs.Network)
	}
	var others []string
	for _, n := range obs.OtherNetworks {
		others = append(others, n.ID)
		if n.ID == "n-legacy" && !slices.Equal(n.Attached, []string{"c-1", "c-2"}) {
			t.Errorf("legacy network attached %v, want [c-1 c-2]", n.Attached)
		}
	}
	slices.Sort(others)
	if !slices.Equal(others, []string{"n-earlier", "n-legacy"}) {
		t.Errorf("other networks %v, want n-earlier and n-legacy", others)
	}
	if len(obs.Containers) != 1 || obs.Containers[0].ID != "c-x" {
		t.Fatalf("containers %+v, want the intruder, for the plan to report", obs.Containers)
	}
	p := plan.Compute(env, obs, plan.Options{ManagerID: "m"}, metav1.Now().Time)
	if w := p.Waiting["s"]; w.Reason != plan.WaitNameConflict {
		t.Errorf("s waiting %+v, want NameConflict", w)
	}
}
