package plan

import (
	"reflect"
	"slices"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"berth.dev/berth/apis/v1alpha1"
)

// splitEnv is demo on two networks: migrate and db on back only (db also
// as "postgres"), api on both.
func splitEnv() *v1alpha1.Environment {
	env := demoEnv()
	env.Spec.Networks = []v1alpha1.Network{{Name: "front"}, {Name: "back"}}
	service(env, "migrate").Networks = []v1alpha1.ServiceNetwork{{Name: "back"}}
	service(env, "db").Networks = []v1alpha1.ServiceNetwork{{Name: "back", Aliases: []string{"postgres"}}}
	return env
}

const (
	netBack  = "berth_demo__back"
	netFront = "berth_demo__front"
)

func specNetwork(env *v1alpha1.Environment, name string, attached ...string) ObservedNetwork {
	return ObservedNetwork{Name: name, ID: "id-" + name, Labels: EnvironmentLabels(env, testOptions()), Attached: attached}
}

// convergedSplit is splitEnv fully up, every container on its networks.
func convergedSplit(t *testing.T, env *v1alpha1.Environment) Observed {
	obs := converged(t, env)
	obs.Network = nil
	obs.Networks = map[string]ObservedNetwork{
		netBack:  specNetwork(env, netBack, "c-api", "c-db"),
		netFront: specNetwork(env, netFront, "c-api"),
	}
	return obs
}

func TestNetworksConfig(t *testing.T) {
	env := splitEnv()
	api, db := mustConfig(t, env, "api"), mustConfig(t, env, "db")
	if api.Network != netBack || !reflect.DeepEqual(api.secondaryNetworks(), []NetworkAttachment{{Network: netFront}}) {
		t.Errorf("api: primary %s, secondary %+v; want %s then %s", api.Network, api.secondaryNetworks(), netBack, netFront)
	}
	if db.Network != netBack || len(db.secondaryNetworks()) != 0 || !slices.Equal(db.AliasesOn(netBack), []string{"db", "postgres"}) {
		t.Errorf("db: primary %s, secondary %+v, aliases %v", db.Network, db.secondaryNetworks(), db.AliasesOn(netBack))
	}

	// The default network listed alone, or no list at all, is today's
	// container: same config, same hash.
	plain := demoEnv()
	listed := demoEnv()
	listed.Spec.Networks = []v1alpha1.Network{{Name: v1alpha1.DefaultNetworkName}}
	for _, svc := range []string{"migrate", "db", "api"} {
		a, b := mustConfig(t, plain, svc), mustConfig(t, listed, svc)
		if a.Labels[v1alpha1.LabelSpecHash] != b.Labels[v1alpha1.LabelSpecHash] || b.Networks != nil {
			t.Errorf("%s: listing only the default network changed the container (%+v)", svc, b.Networks)
		}
	}
}

// TestNetworksHashOnlyTheChangedService: aliases and a service's network
// set move only that service's hash.
func TestNetworksHashOnlyTheChangedService(t *testing.T) {
	hashes := func(env *v1alpha1.Environment) map[string]string {
		out := map[string]string{}
		for _, s := range env.Spec.Services {
			out[s.Name] = mustConfig(t, env, s.Name).Labels[v1alpha1.LabelSpecHash]
		}
		return out
	}
	base := hashes(splitEnv())
	for _, tc := range []struct {
		name, changed string
		mutate        func(e *v1alpha1.Environment)
	}{
		{"db alias added", "db", func(e *v1alpha1.Environment) {
			service(e, "db").Networks[0].Aliases = append(service(e, "db").Networks[0].Aliases, "pg")
		}},
		{"db joins front", "db", func(e *v1alpha1.Environment) {
			service(e, "db").Networks = append(service(e, "db").Networks, v1alpha1.ServiceNetwork{Name: "front"})
		}},
		{"migrate lists both explicitly", "migrate", func(e *v1alpha1.Environment) {
			service(e, "migrate").Networks = []v1alpha1.ServiceNetwork{{Name: "front"}, {Name: "back"}}
		}},
		{"aliases reordered", "", func(e *v1alpha1.Environment) {
			service(e, "db").Networks[0].Aliases = []string{"postgres", "postgres"}
		}},
		{"networks reordered", "", func(e *v1alpha1.Environment) {
			e.Spec.Networks = []v1alpha1.Network{{Name: "back"}, {Name: "front"}}
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			env := splitEnv()
			tc.mutate(env)
			for svc, h := range hashes(env) {
				if moved := h != base[svc]; moved != (svc == tc.changed) {
					t.Errorf("%s: hash moved=%v, want %v", svc, moved, svc == tc.changed)
				}
			}
		})
	}
	// On the default network, an alias recreates only its service.
	plain, aliased := demoEnv(), demoEnv()
	service(aliased, "db").Networks = []v1alpha1.ServiceNetwork{{Name: v1alpha1.DefaultNetworkName, Aliases: []string{"pg"}}}
	for _, svc := range []string{"migrate", "db", "api"} {
		moved := mustConfig(t, plain, svc).Labels[v1alpha1.LabelSpecHash] != mustConfig(t, aliased, svc).Labels[v1alpha1.LabelSpecHash]
		if moved != (svc == "db") {
			t.Errorf("default-network alias: %s hash moved=%v", svc, moved)
		}
	}
	if got := mustConfig(t, aliased, "db"); got.Network != NetworkName("demo") || !slices.Equal(got.AliasesOn(got.Network), []string{"db", "pg"}) {
		t.Errorf("db on the default network: %s %v", got.Network, got.AliasesOn(got.Network))
	}
}

// TestNetworksPlanFromScratch: two networks created (not the default one),
// each container created on its primary network and connected to the
// other before its start, one call each.
func TestNetworksPlanFromScratch(t *testing.T) {
	env := splitEnv()
	obs := Observed{Images: map[string]ObservedImage{testImage: {Present: true}}}
	p := Compute(env, obs, testOptions(), t0)
	assertStrings(t, "plan", p.Strings(), []string{
		"EnsureNetwork " + netBack, "EnsureNetwork " + netFront, "EnsureVolume berth_demo_data",
		"CreateContainer migrate", "StartContainer migrate ",
		"CreateContainer db", "StartContainer db ",
	})
	// api waits for migrate and db; once they are done it is created on
	// back and connected to front before it starts.
	obs = convergedSplit(t, env)
	obs = withoutService(obs, "api")
	delete(obs.Networks, netFront)
	p = Compute(env, obs, testOptions(), t0)
	assertStrings(t, "api", p.Strings(), []string{
		"EnsureNetwork " + netFront, "CreateContainer api", "ConnectNetwork berth_demo_api " + netFront, "StartContainer api ",
	})
	if len(p.Ops) != 4 {
		t.FailNow()
	}
	create, connect, start := p.Ops[1], p.Ops[2], p.Ops[3]
	if create.Config.Network != netBack {
		t.Errorf("created on %s, want %s", create.Config.Network, netBack)
	}
	if !slices.Equal(connect.Needs, []int{0, 1}) || !slices.Equal(connect.Aliases, []string{"api"}) || connect.ContainerID != "" {
		t.Errorf("connect needs %v aliases %v id %q; want the network and the create, alias api, by name", connect.Needs, connect.Aliases, connect.ContainerID)
	}
	if !slices.Contains(start.Needs, 2) {
		t.Errorf("start needs %v, want the connect", start.Needs)
	}
}

func TestNetworksConvergedIsEmpty(t *testing.T) {
	env := splitEnv()
	if p := Compute(env, convergedSplit(t, env), testOptions(), t0); !p.Empty() {
		t.Errorf("converged two-network Environment plans %v", p.Strings())
	}
}

// TestNetworksDriftRepair: a container disconnected behind berth's back is
// connected again; a network removed is created again and its running
// containers connected to it; nothing else is touched.
func TestNetworksDriftRepair(t *testing.T) {
	env := splitEnv()
	obs := convergedSplit(t, env)
	obs.Networks[netFront] = specNetwork(env, netFront)
	p := Compute(env, obs, testOptions(), t0)
	assertStrings(t, "disconnected", p.Strings(), []string{"ConnectNetwork berth_demo_api " + netFront})
	if len(p.Ops) == 1 && (p.Ops[0].ContainerID != "c-api" || len(p.Ops[0].Needs) != 0) {
		t.Errorf("reconnect %+v", p.Ops[0])
	}

	obs = convergedSplit(t, env)
	delete(obs.Networks, netBack)
	p = Compute(env, obs, testOptions(), t0)
	assertStrings(t, "network gone", p.Strings(), []string{
		"EnsureNetwork " + netBack, "ConnectNetwork berth_demo_db " + netBack, "ConnectNetwork berth_demo_api " + netBack,
	})
	for _, o := range p.Ops[1:] {
		if !slices.Equal(o.Needs, []int{0}) {
			t.Errorf("%s needs %v, want the network", o, o.Needs)
		}
	}
	if db, _ := findOp(p, OpConnectNetwork, "db"); !slices.Equal(db.Aliases, []string{"db", "postgres"}) {
		t.Errorf("db reconnected with aliases %v", db.Aliases)
	}
}

// TestNetworksDefaultDrainedWhenUnlisted: an Environment that starts
// listing networks without the default one removes its old network once
// the containers on it are replaced.
func TestNetworksDefaultDrainedWhenUnlisted(t *testing.T) {
	old := demoEnv()
	obs := converged(t, old)
	// api waits for db, so it is replaced by a later plan; say it was.
	obs.Network.Attached = []string{"c-db", "c-migrate"}
	env := splitEnv()
	p := Compute(env, obs, testOptions(), t0)
	rm, i := Op{}, -1
	for j, o := range p.Ops {
		if o.Kind == OpRemoveNetwork {
			rm, i = o, j
		}
	}
	if i < 0 || rm.Network != NetworkName("demo") {
		t.Fatalf("default network not drained: %v", p.Strings())
	}
	if len(rm.Needs) != 2 {
		t.Errorf("drain needs %v, want the two container removals", rm.Needs)
	}
}

func TestNetworksTeardownRemovesEvery(t *testing.T) {
	env := splitEnv()
	env.DeletionTimestamp = &metav1.Time{Time: t0}
	obs := convergedSplit(t, env)
	p := Teardown(env, obs, testOptions())
	got := p.Strings()
	var nets []string
	for i, o := range p.Ops {
		if o.Kind == OpRemoveNetwork {
			nets = append(nets, o.Network)
			if len(o.Needs) != 3 {
				t.Errorf("%s needs %v, want every container removal", got[i], o.Needs)
			}
		}
	}
	if !slices.Equal(nets, []string{netBack, netFront}) {
		t.Errorf("teardown removes networks %v, want both", nets)
	}
}

func TestProbeNetworksPreferDefault(t *testing.T) {
	assertStrings(t, "no spec.networks", ProbeNetworks(demoEnv()), []string{"berth_demo"})
	assertStrings(t, "two networks", ProbeNetworks(splitEnv()), []string{"berth_demo", netBack, netFront})
}
