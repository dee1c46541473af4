package plan

import (
	"slices"
	"strings"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"berth.dev/berth/apis/v1alpha1"
)

// tornDown is demo being deleted with every container already removed:
// only the network (and the volume) are left.
func tornDown(t *testing.T) (*v1alpha1.Environment, Observed) {
	t.Helper()
	env := demoEnv()
	env.DeletionTimestamp = &metav1.Time{Time: t0}
	obs := converged(t, env)
	obs.Containers = nil
	obs.Volumes = nil
	return env, obs
}

// TestTeardownStaleEndpointsDisconnectsThenGivesUp is issue 8 point 9: the
// daemon refused the network's removal for active endpoints with no
// container left, and berth retried it forever. After the first refusal
// the plan clears the stale endpoints of every container berth created,
// then tries once more; refused again, teardown finishes without the
// network (empty plan: the finalizer goes) and says why.
func TestTeardownStaleEndpointsDisconnectsThenGivesUp(t *testing.T) {
	env, obs := tornDown(t)
	opts := testOptions()

	assertStrings(t, "before any refusal", Teardown(env, obs, opts).Strings(), []string{"RemoveNetwork berth_demo"})

	// The first refusal: clear what berth can name, then remove.
	obs.NetworkRemoval = &NetworkRemoval{NetworkID: "net-demo", Refusals: 1, Message: "network berth_demo id net-demo has active endpoints",
		Containers: []string{"/berth-demo-old"}}
	p := Teardown(env, obs, opts)
	assertStrings(t, "after a refusal", p.Strings(), []string{"DisconnectStaleEndpoints berth_demo", "RemoveNetwork berth_demo"})
	if len(p.Ops) != 2 {
		t.FailNow()
	}
	if p.LeftNetwork != nil {
		t.Fatalf("gave up before disconnecting: %+v", p.LeftNetwork)
	}
	dis := p.Ops[0]
	want := []string{ContainerName("demo", "api"), ContainerName("demo", "db"), "berth-demo-old", ContainerName("demo", "migrate")}
	slices.Sort(want)
	if !slices.Equal(dis.Endpoints, want) || dis.NetworkID != "net-demo" {
		t.Errorf("disconnect endpoints %v on %q, want %v on net-demo: every container name berth created", dis.Endpoints, dis.NetworkID, want)
	}
	if !slices.Equal(p.Ops[1].Needs, []int{0}) {
		t.Errorf("removal needs %v, want the disconnect first", p.Ops[1].Needs)
	}

	// Disconnected, but not refused since: one more removal.
	obs.NetworkRemoval.Disconnected = true
	assertStrings(t, "after the disconnect", Teardown(env, obs, opts).Strings(), []string{"RemoveNetwork berth_demo"})

	// Refused after the disconnect: finished, with the network left.
	obs.NetworkRemoval.Refusals = 2
	obs.NetworkRemoval.RefusalsAfterDisconnect = 1
	p = Teardown(env, obs, opts)
	if !p.Empty() {
		t.Fatalf("teardown not finished after a second refusal: %v", p.Strings())
	}
	if p.LeftNetwork == nil || p.LeftNetwork.Name != "berth_demo" || p.LeftNetwork.ID != "net-demo" || p.LeftNetwork.Refusals != 2 {
		t.Fatalf("left network %+v, want berth_demo/net-demo after 2 refusals", p.LeftNetwork)
	}
	ev := p.LeftNetwork.Event(t0)
	if ev.Type != EventWarning || ev.Reason != EventNetworkLeftBehind {
		t.Errorf("event %s/%s, want a Warning %s", ev.Type, ev.Reason, EventNetworkLeftBehind)
	}
	for _, must := range []string{"berth_demo", "active endpoints", "stale", "restart of the Docker daemon", "orphan collector", "has active endpoints"} {
		if !strings.Contains(ev.Message, must) {
			t.Errorf("message lacks %q: %s", must, ev.Message)
		}
	}
}

// TestTeardownStaleEndpointsGivesUpAfterMaxRefusals: refusals count even
// when no disconnect could run (a manager restarted between them keeps
// none of this memory, so the count is the bound that always holds).
func TestTeardownStaleEndpointsGivesUpAfterMaxRefusals(t *testing.T) {
	env, obs := tornDown(t)
	obs.NetworkRemoval = &NetworkRemoval{NetworkID: "net-demo", Refusals: MaxNetworkRefusals}
	p := Teardown(env, obs, testOptions())
	if !p.Empty() || p.LeftNetwork == nil {
		t.Fatalf("plan %v left %+v after %d refusals, want finished without the network", p.Strings(), p.LeftNetwork, MaxNetworkRefusals)
	}
}

// TestTeardownRefusalWithContainersLeft: a refusal while berth still sees
// its containers is not about stale endpoints: they are live ones, so the
// containers go first and nothing is disconnected or given up.
func TestTeardownRefusalWithContainersLeft(t *testing.T) {
	env := demoEnv()
	env.DeletionTimestamp = &metav1.Time{Time: t0}
	obs := converged(t, env)
	obs.NetworkRemoval = &NetworkRemoval{NetworkID: "net-demo", Refusals: 2, Disconnected: true, RefusalsAfterDisconnect: 1}
	p := Teardown(env, obs, testOptions())
	if p.LeftNetwork != nil {
		t.Fatalf("gave up the network with containers still there: %+v", p.LeftNetwork)
	}
	if _, i := findOp(p, OpDisconnectStaleEndpoints, ""); i >= 0 {
		t.Fatalf("disconnect planned while containers exist: %v", p.Strings())
	}
	if _, i := findOp(p, OpRemoveNetwork, ""); i < 0 {
		t.Fatalf("no network removal after the containers: %v", p.Strings())
	}
}

// TestTeardownRefusalOfAnotherNetwork: the history belongs to one network;
// a network re-created since (another ID) starts afresh.
func TestTeardownRefusalOfAnotherNetwork(t *testing.T) {
	env, obs := tornDown(t)
	obs.NetworkRemoval = &NetworkRemoval{NetworkID: "net-old", Refusals: 2, Disconnected: true, RefusalsAfterDisconnect: 1}
	p := Teardown(env, obs, testOptions())
	assertStrings(t, "other network", p.Strings(), []string{"RemoveNetwork berth_demo"})
	if p.LeftNetwork != nil {
		t.Fatalf("gave up on a network that was never refused: %+v", p.LeftNetwork)
	}
}

// TestNewIncarnationAdoptsLeftNetwork: the network a teardown left behind
// (an earlier incarnation's, the daemon refusing its removal) must not
// block an Environment of the same name: it is adopted, and every new
// container goes on it.
func TestNewIncarnationAdoptsLeftNetwork(t *testing.T) {
	old := demoEnv()
	left := ownedNetwork(old) // labelled with uid-1
	env := demoEnv()
	env.UID = "uid-2"
	obs := Observed{Network: left, Volumes: map[string]ObservedVolume{}, Images: map[string]ObservedImage{testImage: {Present: true}}}
	// An earlier incarnation's network is replaced (it is labelled for
	// another UID) until the daemon refuses its removal for active
	// endpoints; from then on it is adopted.
	if _, i := findOp(Compute(env, obs, testOptions(), t0), OpRemoveNetwork, ""); i < 0 {
		t.Fatalf("earlier incarnation's network not replaced before any refusal")
	}
	obs.NetworkRemoval = &NetworkRemoval{NetworkID: left.ID, Refusals: 1, Message: "has active endpoints"}
	p := Compute(env, obs, testOptions(), t0)
	for _, o := range p.Ops {
		switch o.Kind {
		case OpEnsureNetwork, OpRemoveNetwork, OpDisconnectStaleEndpoints:
			t.Fatalf("new incarnation planned %s on the left network: %v", o, p.Strings())
		case OpCreateContainer:
			if o.Config.Network != left.Name {
				t.Errorf("%s created on %q, want the adopted %q", o.Service, o.Config.Network, left.Name)
			}
		}
	}
	if _, i := findOp(p, OpCreateContainer, "db"); i < 0 {
		t.Fatalf("nothing created on the adopted network: %v", p.Strings())
	}
	if len(p.Waiting) > 0 {
		for s, w := range p.Waiting {
			if w.Reason == WaitNameConflict {
				t.Errorf("%s waits on a name conflict: %s", s, w.Message)
			}
		}
	}
}
