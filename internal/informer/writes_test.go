package informer

import (
	"testing"
	"time"

	v1 "berth.dev/berth/apis/v1alpha1"
	"berth.dev/berth/internal/docker"
)

// TestRemovedAheadOfItsEvent: a removal Docker confirmed leaves the cache
// at once, with a Deleted event for the handler, and the destroy event and
// replays that come later do not bring it back.
func TestRemovedAheadOfItsEvent(t *testing.T) {
	inf, rec := unitInformer(t)
	t0 := time.Now().Add(-time.Minute)
	inf.feed(ctrEvent("create", "c1", t0, nil))
	inf.feed(ctrEvent("start", "c1", t0.Add(time.Second), nil))
	inf.Removed("c1")
	if _, ok := inf.Container("c1"); ok {
		t.Fatal("Removed left the container in the cache")
	}
	if !rec.has(func(ev Event) bool { return ev.ID == "c1" && ev.Deleted && ev.Environment == "env1" }) {
		t.Fatal("no deleted event for the handler")
	}
	inf.feed(ctrEvent("die", "c1", t0.Add(2*time.Second), nil))
	inf.feed(ctrEvent("destroy", "c1", t0.Add(3*time.Second), nil))
	if _, ok := inf.Container("c1"); ok {
		t.Fatal("a late event brought a removed container back")
	}
	inf.Removed("unknown") // nothing to do, no panic
}

// TestLearnNetwork: a network this process created is in the cache before
// its create event; another manager's is not taken; Removed takes it out.
func TestLearnNetwork(t *testing.T) {
	inf, rec := unitInformer(t)
	labels := map[string]string{v1.LabelManagedBy: "berth-unit", v1.LabelEnvironment: "env1"}
	inf.LearnNetwork(docker.Network{ID: "n1", Name: "berth_env1", Labels: labels, Environment: "env1"})
	if nets := inf.Networks("env1"); len(nets) != 1 || nets[0].ID != "n1" {
		t.Fatalf("Networks(env1) = %+v, want the learnt one", nets)
	}
	if !rec.has(func(ev Event) bool { return ev.ID == "n1" && ev.Kind == KindNetwork && !ev.Deleted }) {
		t.Fatal("no event for the learnt network")
	}
	inf.LearnNetwork(docker.Network{ID: "n2", Name: "berth_env1x", Labels: map[string]string{v1.LabelManagedBy: "other", v1.LabelEnvironment: "env1"}})
	if len(inf.Networks("env1")) != 1 {
		t.Fatal("took another manager's network")
	}
	inf.Removed("n1")
	if nets := inf.Networks("env1"); len(nets) != 0 {
		t.Fatalf("Removed left %+v", nets)
	}
}

// TestNeedAddress: a running container without an inspect since its start
// is queued for one, once; after the inspect, or when it is not running,
// nothing is asked.
func TestNeedAddress(t *testing.T) {
	inf, _ := unitInformer(t)
	t0 := time.Now().Add(-time.Minute)
	inf.feed(ctrEvent("create", "c1", t0, nil))
	inf.NeedAddress("c1")
	if inf.inspectQ.has("c1") {
		t.Fatal("queued an inspect of a container that does not run")
	}
	inf.feed(ctrEvent("start", "c1", t0.Add(time.Second), nil))
	for len(inf.inspectQ.ids) > 0 {
		inf.inspectQ.pop() // the start's own inspect, which this test does without
	}
	inf.NeedAddress("c1")
	inf.NeedAddress("c1")
	if n := len(inf.inspectQ.ids); n != 1 {
		t.Fatalf("NeedAddress queued %d inspects, want 1", n)
	}
	inf.inspectQ.pop()
	cur, _ := inf.Container("c1")
	cur.ObservedAt = t0.Add(2 * time.Second)
	cur.Networks = map[string]string{"berth_env1": "172.30.0.2"}
	inf.notify(inf.applyInspect(cur))
	inf.NeedAddress("c1")
	if inf.inspectQ.has("c1") {
		t.Fatal("queued another inspect after one filled the addresses")
	}
	// A restart resets it: the addresses may have changed.
	inf.feed(ctrEvent("die", "c1", t0.Add(3*time.Second), nil))
	inf.feed(ctrEvent("start", "c1", t0.Add(4*time.Second), nil))
	if got, _ := inf.Container("c1"); got.Detailed {
		t.Fatal("a start kept Detailed from the previous run")
	}
}

// TestLearnContainerAndStarted: a container this process created and
// started is running in the cache before its events; the create and start
// events that come later change nothing, a die after them still counts,
// and a container the cache already saw die is not made running again.
func TestLearnContainerAndStarted(t *testing.T) {
	inf, rec := unitInformer(t)
	labels := map[string]string{v1.LabelManagedBy: "berth-unit", v1.LabelEnvironment: "env1", v1.LabelService: "web", v1.LabelSpecHash: "h"}
	t0 := time.Now().Add(-time.Second)
	ct := docker.Container{ID: "c1", Name: "berth-env1-web", Image: "berth-testapp:dev", Labels: labels, State: "created"}
	ct.FillLabels()
	inf.LearnContainer(ct)
	if got, ok := inf.Container("c1"); !ok || got.State != "created" || got.Environment != "env1" {
		t.Fatalf("after LearnContainer: %+v %v, want created of env1", got, ok)
	}
	inf.Started("berth-env1-web") // by name, as a start op in the creating plan names it
	got, _ := inf.Container("c1")
	if got.State != "running" || got.StartedAt.IsZero() {
		t.Fatalf("after Started: state %q startedAt %v, want running", got.State, got.StartedAt)
	}
	if !rec.has(func(ev Event) bool { return ev.ID == "c1" && ev.Action == "start" }) {
		t.Fatal("no start event for the handler")
	}
	inf.feed(ctrEvent("create", "c1", t0, labels))
	inf.feed(ctrEvent("start", "c1", t0.Add(time.Millisecond), labels))
	if got, _ := inf.Container("c1"); got.State != "running" {
		t.Fatalf("older events moved it to %q", got.State)
	}
	inf.feed(ctrEvent("die", "c1", time.Now().Add(time.Second), labels))
	if got, _ := inf.Container("c1"); got.State != "exited" {
		t.Fatalf("a later die left it %q", got.State)
	}
	inf.Started("c1") // a stale answer must not revive an exited container
	if got, _ := inf.Container("c1"); got.State != "exited" {
		t.Fatalf("Started revived an exited container: %q", got.State)
	}
	other := docker.Container{ID: "c2", Labels: map[string]string{v1.LabelManagedBy: "other"}}
	inf.LearnContainer(other)
	if _, ok := inf.Container("c2"); ok {
		t.Fatal("took another manager's container")
	}
}
