package plan

import (
	"slices"
	"strings"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"

	"berth.dev/berth/apis/v1alpha1"
)

// legacyName is the name an older berth gave a container or network.
func legacyName(parts ...string) string {
	return v1alpha1.LegacyDockerNamePrefix + strings.Join(parts, "-")
}

// legacyContainer is the container an older berth created for the current
// spec of name: its name, network and mounts under the colliding scheme,
// hashed accordingly, labelled as that berth labelled it.
func legacyContainer(t *testing.T, env *v1alpha1.Environment, name, id string, state ContainerState) ObservedContainer {
	t.Helper()
	c := container(t, env, name, id, state)
	cfg := mustConfig(t, env, name)
	cfg.Name = legacyName(env.Name, name)
	cfg.Network = legacyName(env.Name)
	for i, m := range cfg.Mounts {
		cfg.Mounts[i].Volume = v1alpha1.LegacyVolumeName(env.Name, strings.TrimPrefix(m.Volume, VolumeName(env.Name, "")))
	}
	c.Name = "/" + cfg.Name
	c.Labels = copyLabels(cfg.Labels, v1alpha1.LabelSpecHash, SpecHash(cfg))
	return c
}

// legacyVolume is a volume as an older berth created it: labelled with the
// Environment, with an empty volume label.
func legacyVolume(env *v1alpha1.Environment, volume string) ObservedVolume {
	labels := EnvironmentLabels(env, testOptions())
	labels[v1alpha1.LabelVolume] = ""
	return ObservedVolume{Name: v1alpha1.LegacyVolumeName(env.Name, volume), Labels: labels}
}

// legacyDemo is demo converged by an older berth: every object under the
// colliding names, the containers attached to berth-demo.
func legacyDemo(t *testing.T) (*v1alpha1.Environment, Observed) {
	env := demoEnv()
	migrate := legacyContainer(t, env, "migrate", "old-migrate", StateExited)
	db := legacyContainer(t, env, "db", "old-db", StateRunning)
	api := legacyContainer(t, env, "api", "old-api", StateRunning)
	vol := legacyVolume(env, "data")
	return env, Observed{
		OtherNetworks: []ObservedNetwork{{Name: legacyName("demo"), ID: "net-legacy",
			Labels: EnvironmentLabels(env, testOptions()), Attached: []string{"old-api", "old-db", "old-migrate"}}},
		Volumes:    map[string]ObservedVolume{vol.Name: vol},
		Containers: []ObservedContainer{migrate, db, api},
		Images:     map[string]ObservedImage{testImage: {Present: true}},
		Probes: map[string]ProbeResult{
			"old-db":  {Known: true, Ready: true, HasBeenReady: true},
			"old-api": {Known: true, Ready: true, HasBeenReady: true},
		},
		Memory: map[string]ServiceMemory{},
	}
}

// netSim is sim with networks that know their containers, so a network
// removal the daemon would refuse fails the test.
type netSim struct {
	*sim
}

func (s netSim) apply(t *testing.T, op Op) {
	t.Helper()
	switch op.Kind {
	case OpRemoveNetwork:
		if n := s.obs.Network; n != nil && (op.NetworkID == n.ID || op.NetworkID == "" && op.Network == n.Name) {
			if len(n.Attached) > 0 {
				t.Fatalf("%s while %v are attached", op, n.Attached)
			}
			s.obs.Network = nil
			return
		}
		i := slices.IndexFunc(s.obs.OtherNetworks, func(n ObservedNetwork) bool { return n.ID == op.NetworkID })
		if i < 0 {
			t.Fatalf("%s: no such network", op)
		}
		if a := s.obs.OtherNetworks[i].Attached; len(a) > 0 {
			t.Fatalf("%s while %v are attached", op, a)
		}
		s.obs.OtherNetworks = slices.Delete(slices.Clone(s.obs.OtherNetworks), i, i+1)
	case OpRemoveContainer:
		s.sim.apply(t, op)
		detach := func(n *ObservedNetwork) {
			n.Attached = slices.DeleteFunc(slices.Clone(n.Attached), func(id string) bool { return id == op.ContainerID })
		}
		if s.obs.Network != nil {
			detach(s.obs.Network)
		}
		for i := range s.obs.OtherNetworks {
			detach(&s.obs.OtherNetworks[i])
		}
	case OpEnsureNetwork:
		s.sim.apply(t, op)
		s.obs.Network.ID = "net-" + op.Network
	case OpCreateContainer:
		s.sim.apply(t, op)
		if s.obs.Network == nil || s.obs.Network.Name != op.Config.Network {
			t.Fatalf("%s: network %s does not exist", op, op.Config.Network)
		}
		for _, m := range op.Config.Mounts {
			if _, ok := s.obs.Volumes[m.Volume]; !ok {
				t.Fatalf("%s: volume %s does not exist", op, m.Volume)
			}
		}
		c := s.obs.Containers[len(s.obs.Containers)-1]
		s.obs.Network.Attached = append(s.obs.Network.Attached, c.ID)
	default:
		s.sim.apply(t, op)
	}
}

// TestUpgradeFromLegacyNames drives demo, converged by an older berth under
// the colliding names, to convergence under the new ones: the volume is
// adopted (its data kept, mounted by its old name), every container is
// replaced under its new name, never two of one service at once, and the
// old network is removed once its containers are gone.
func TestUpgradeFromLegacyNames(t *testing.T) {
	env, obs := legacyDemo(t)
	s := netSim{newSim(env, obs)}
	s.obs.OtherNetworks = slices.Clone(obs.OtherNetworks)
	var log []string
	for round := 0; ; round++ {
		if round > 10 {
			t.Fatalf("no convergence after 10 rounds: %v", log)
		}
		p := Compute(env, s.obs, testOptions(), s.clock)
		if p.Empty() && len(p.Waiting) == 0 {
			break
		}
		for _, op := range p.Ops {
			if op.Kind == OpEnsureVolume {
				t.Fatalf("round %d: %s; the Environment's volume %s holds its data and must be adopted", round, op, obs.Volumes[v1alpha1.LegacyVolumeName("demo", "data")].Name)
			}
			if op.Kind == OpCreateContainer {
				if want := ContainerName(env.Name, op.Service); op.Config.Name != want {
					t.Errorf("round %d: create %s named %s, want %s", round, op.Service, op.Config.Name, want)
				}
				for _, m := range op.Config.Mounts {
					if m.Volume != v1alpha1.LegacyVolumeName("demo", "data") {
						t.Errorf("round %d: %s mounts %s, want the adopted berth-demo-data", round, op.Service, m.Volume)
					}
				}
			}
			s.apply(t, op)
			log = append(log, op.String())
			perService := map[string]int{}
			for _, c := range s.obs.Containers {
				if perService[c.service()]++; perService[c.service()] > 1 {
					t.Fatalf("round %d, after %s: two containers of %s", round, op, c.service())
				}
			}
		}
		s.clock = s.clock.Add(2 * time.Second)
		for i, c := range s.obs.Containers {
			if c.State != StateRunning {
				continue
			}
			if c.service() == "migrate" {
				s.obs.Containers[i].State, s.obs.Containers[i].FinishedAt = StateExited, s.clock
			} else {
				s.obs.Probes[c.ID] = ProbeResult{Known: true, Ready: true, HasBeenReady: true}
			}
		}
	}
	if !slices.Contains(log, "RemoveNetwork berth-demo") {
		t.Errorf("the old network was never removed: %v", log)
	}
	if len(s.obs.OtherNetworks) != 0 || s.obs.Network == nil || s.obs.Network.Name != "berth_demo" {
		t.Errorf("networks at the end: %+v and %+v, want berth_demo alone", s.obs.Network, s.obs.OtherNetworks)
	}
	var names []string
	for _, c := range s.obs.Containers {
		names = append(names, c.name())
	}
	slices.Sort(names)
	assertStrings(t, "containers at the end", names, []string{"berth_demo_api", "berth_demo_db", "berth_demo_migrate"})
	if len(s.obs.Volumes) != 1 {
		t.Errorf("volumes at the end: %v, want berth-demo-data alone", s.obs.Volumes)
	}
	// Status hashes the containers as Compute does, adopted volume and all.
	p := Compute(env, s.obs, testOptions(), s.clock)
	st := ComputeStatus(env, s.obs, testOptions(), p, v1alpha1.EnvironmentStatus{}, s.clock)
	if st.Phase != v1alpha1.PhaseReady {
		for _, ss := range st.Services {
			t.Logf("%s: %s ready=%v %s", ss.Name, ss.State, ss.Ready, ss.Message)
		}
		t.Errorf("phase %s after the upgrade converged, want Ready", st.Phase)
	}
}

// TestUpgradeHoldsTheOldNetworkWhileInUse: a container the plan keeps (here
// api, waiting for its dependency db to be replaced and ready) holds the
// old network; removing it now would fail the whole reconcile.
func TestUpgradeHoldsTheOldNetworkWhileInUse(t *testing.T) {
	env, obs := legacyDemo(t)
	p := Compute(env, obs, testOptions(), t0)
	if _, i := findOp(p, OpRemoveContainer, "api"); i >= 0 {
		t.Fatalf("api replaced before its dependency: %v", p.Strings())
	}
	for _, op := range p.Ops {
		if op.Kind == OpRemoveNetwork {
			t.Fatalf("%s while api is still attached: %v", op, p.Strings())
		}
	}
	// The first plan must still replace db and create the new network.
	_, rm := findOp(p, OpRemoveContainer, "db")
	create, ci := findOp(p, OpCreateContainer, "db")
	if rm < 0 || ci < 0 || !slices.Contains(create.Needs, rm) {
		t.Fatalf("db not replaced remove-then-create: %v", p.Strings())
	}
	if !slices.Contains(p.Strings(), "EnsureNetwork berth_demo") {
		t.Errorf("no new network: %v", p.Strings())
	}
}

// TestTeardownAfterUpgradeLeavesNothing: an Environment deleted halfway
// through an upgrade loses its old network and old volume too.
func TestTeardownAfterUpgradeLeavesNothing(t *testing.T) {
	env, obs := legacyDemo(t)
	obs.Network = ownedNetwork(env)
	env.DeletionTimestamp = &metav1.Time{Time: t0}
	p := Compute(env, obs, testOptions(), t0)
	got := p.Strings()
	for _, want := range []string{"RemoveNetwork berth_demo", "RemoveNetwork berth-demo", "RemoveVolume berth-demo-data",
		"RemoveContainer api old-api", "RemoveContainer db old-db", "RemoveContainer migrate old-migrate"} {
		if !slices.Contains(got, want) {
			t.Errorf("teardown %v lacks %q", got, want)
		}
	}
	for _, op := range p.Ops {
		if op.Kind == OpRemoveNetwork || op.Kind == OpRemoveVolume {
			if len(op.Needs) != 3 {
				t.Errorf("%s needs %v, want every container removal", op, op.Needs)
			}
		}
	}
}

// TestIssuePairStaysApart: Environment a (service and volume b-data) and
// Environment a-b (data) get distinct names, and a-b does not mount the
// volume an older berth gave a under the colliding name berth-a-b-data.
func TestIssuePairStaysApart(t *testing.T) {
	mk := func(name, item string) *v1alpha1.Environment {
		env := simpleEnv(item)
		env.Name, env.UID = name, types.UID("uid-"+name)
		env.Spec.Volumes = []v1alpha1.Volume{{Name: item}}
		env.Spec.Services[0].VolumeMounts = []v1alpha1.VolumeMount{{Name: item, MountPath: "/data"}}
		return env
	}
	a, ab := mk("a", "b-data"), mk("a-b", "data")
	pa := Compute(a, Observed{}, testOptions(), t0)
	pab := Compute(ab, Observed{}, testOptions(), t0)
	seen := map[string]string{}
	for _, p := range []Plan{pa, pab} {
		for _, op := range p.Ops {
			// Docker has one namespace per kind of object.
			var name string
			switch op.Kind {
			case OpEnsureNetwork:
				name = "network " + op.Network
			case OpEnsureVolume:
				name = "volume " + op.Volume
			case OpCreateContainer:
				name = "container " + op.Config.Name
			default:
				continue
			}
			if prev, dup := seen[name]; dup {
				t.Errorf("%s and %s of %s share the Docker name of %s", prev, op, op.Environment, name)
			}
			seen[name] = op.Environment + ": " + op.String()
		}
	}

	// a's volume, as an older berth named it: labelled for a.
	old := legacyVolume(a, "b-data")
	if old.Name != "berth-a-b-data" {
		t.Fatalf("legacy volume %s", old.Name)
	}
	obs := Observed{Volumes: map[string]ObservedVolume{old.Name: old}}
	p := Compute(ab, obs, testOptions(), t0)
	create, _ := findOp(p, OpCreateContainer, "data")
	if create.Config == nil || len(create.Config.Mounts) != 1 || create.Config.Mounts[0].Volume != "berth_a-b_data" {
		t.Fatalf("a-b mounts %+v, want its own berth_a-b_data", create.Config)
	}
	if !slices.Contains(p.Strings(), "EnsureVolume berth_a-b_data") {
		t.Errorf("a-b's own volume not created: %v", p.Strings())
	}
	// While a, upgrading, adopts it.
	p = Compute(a, obs, testOptions(), t0)
	create, _ = findOp(p, OpCreateContainer, "b-data")
	if create.Config == nil || create.Config.Mounts[0].Volume != "berth-a-b-data" || slices.Contains(p.Strings(), "EnsureVolume berth_a_b-data") {
		t.Errorf("a does not adopt its old volume: %v, %+v", p.Strings(), create.Config)
	}
	// Nor does a-b tear it down.
	ab.DeletionTimestamp = &metav1.Time{Time: t0}
	for _, op := range Teardown(ab, obs, testOptions()).Ops {
		if op.Volume == old.Name {
			t.Errorf("a-b's teardown removes a's volume: %s", op)
		}
	}
}

// TestAdoptionNeedsTheRightLabels: an object of this manager under the
// Environment's own name, but labelled for another Environment, volume or
// incarnation, is not adopted.
func TestAdoptionNeedsTheRightLabels(t *testing.T) {
	t.Run("a container of another Environment under the name", func(t *testing.T) {
		env := simpleEnv("s")
		other := container(t, env, "s", "c-other", StateRunning)
		other.Labels = copyLabels(other.Labels, v1alpha1.LabelEnvironment, "web-x", v1alpha1.LabelEnvironmentUID, "uid-x")
		p := Compute(env, Observed{Network: ownedNetwork(env), Containers: []ObservedContainer{other}}, testOptions(), t0)
		if !p.Empty() || p.Waiting["s"].Reason != WaitNameConflict {
			t.Errorf("ops %v waiting %+v, want nothing but a NameConflict", p.Strings(), p.Waiting)
		}
	})
	t.Run("a volume labelled as another volume", func(t *testing.T) {
		env := demoEnv()
		vols := ownedVolumes(env)
		v := vols["berth_demo_data"]
		v.Labels = copyLabels(v.Labels, v1alpha1.LabelVolume, "logs")
		vols["berth_demo_data"] = v
		obs := Observed{Network: ownedNetwork(env), Images: map[string]ObservedImage{testImage: {Present: true}}, Volumes: vols}
		p := Compute(env, obs, testOptions(), t0)
		if w := p.Waiting["db"]; w.Reason != WaitNameConflict || !strings.Contains(w.Message, "logs") {
			t.Errorf("db waiting %+v, want a NameConflict about the volume label", w)
		}
		if _, i := findOp(p, OpCreateContainer, "db"); i >= 0 {
			t.Errorf("db created over another volume's data: %v", p.Strings())
		}
	})
	t.Run("a network of an earlier incarnation is replaced, not joined", func(t *testing.T) {
		env := simpleEnv("s")
		earlier := env.DeepCopy()
		earlier.UID = "uid-earlier"
		stale := container(t, earlier, "s", "c-stale", StateRunning)
		net := ownedNetwork(earlier)
		net.Attached = []string{"c-stale"}
		images := map[string]ObservedImage{testImage: {Present: true}}
		p := Compute(env, Observed{Network: net, Containers: []ObservedContainer{stale}, Images: images}, testOptions(), t0)
		assertStrings(t, "ops", p.Strings(), []string{
			"RemoveContainer s c-stale", "RemoveNetwork berth_web", "EnsureNetwork berth_web",
			"CreateContainer s", "StartContainer s ",
		})
		if len(p.Ops) == 5 {
			if !slices.Equal(p.Ops[1].Needs, []int{0}) || !slices.Equal(p.Ops[2].Needs, []int{1}) || !slices.Contains(p.Ops[3].Needs, 2) {
				t.Errorf("needs %v %v %v: remove the container, then the network, then create", p.Ops[1].Needs, p.Ops[2].Needs, p.Ops[3].Needs)
			}
		}
	})
	t.Run("a network of an earlier incarnation still in use holds creation", func(t *testing.T) {
		env := simpleEnv("s")
		earlier := env.DeepCopy()
		earlier.UID = "uid-earlier"
		net := ownedNetwork(earlier)
		net.Attached = []string{"c-unknown"}
		p := Compute(env, Observed{Network: net}, testOptions(), t0)
		if !p.Empty() || p.Waiting["s"].Reason != WaitNameConflict {
			t.Errorf("ops %v waiting %+v, want nothing but a wait", p.Strings(), p.Waiting)
		}
	})
}
