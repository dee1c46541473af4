package informer

import (
	"sync"
	"testing"
	"time"

	"github.com/moby/moby/api/types/events"

	v1 "berth.dev/berth/apis/v1alpha1"
	"berth.dev/berth/internal/docker"
)

// recorder collects handler calls per environment.
type recorder struct {
	mu  sync.Mutex
	evs []Event
}

func (r *recorder) handle(env string, ev Event) {
	if ev.Environment != env {
		panic("handler got an env that is not the event's")
	}
	r.mu.Lock()
	r.evs = append(r.evs, ev)
	r.mu.Unlock()
}

func (r *recorder) has(match func(Event) bool) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, ev := range r.evs {
		if match(ev) {
			return true
		}
	}
	return false
}

// unitInformer is an informer whose client never dials: these tests feed
// events by hand.
func unitInformer(t *testing.T) (*Informer, *recorder) {
	t.Helper()
	c, err := docker.New(docker.Config{Host: "unix:///nonexistent/docker.sock", ManagerID: "berth-unit"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	inf := New(c)
	rec := &recorder{}
	inf.AddHandler(rec.handle)
	return inf, rec
}

func ctrEvent(action, id string, t time.Time, extra map[string]string) events.Message {
	attrs := map[string]string{
		"name": "berth-env1-web", "image": "berth-testapp:dev",
		v1.LabelManagedBy: "berth-unit", v1.LabelEnvironment: "env1", v1.LabelService: "web", v1.LabelSpecHash: "h",
	}
	for k, v := range extra {
		attrs[k] = v
	}
	return events.Message{Type: events.ContainerEventType, Action: events.Action(action), Actor: events.Actor{ID: id, Attributes: attrs}, TimeNano: t.UnixNano()}
}

func (i *Informer) feed(m events.Message) {
	i.notify(i.applyContainer(m, eventTime(m)))
}

func TestInformerAppliesContainerEvents(t *testing.T) {
	inf, rec := unitInformer(t)
	t0 := time.Unix(1_800_000_000, 0)
	inf.feed(ctrEvent("create", "c1", t0, nil))
	got, ok := inf.Container("c1")
	if !ok || got.State != "created" || got.Environment != "env1" || got.Service != "web" || got.SpecHash != "h" || got.Name != "berth-env1-web" {
		t.Fatalf("after create: %+v", got)
	}
	if _, leaked := got.Labels["name"]; leaked {
		t.Fatal("event attributes leaked into labels")
	}
	inf.feed(ctrEvent("start", "c1", t0.Add(time.Second), nil))
	if got, _ := inf.Container("c1"); got.State != "running" || !got.StartedAt.Equal(t0.Add(time.Second)) {
		t.Fatalf("after start: %+v", got)
	}
	if n := len(inf.inspectQ.ids); n != 1 {
		t.Fatalf("start should queue an inspect for ports and IP, queue has %d", n)
	}
	inf.feed(ctrEvent("health_status: unhealthy", "c1", t0.Add(2*time.Second), nil))
	if got, _ := inf.Container("c1"); got.Health != "unhealthy" {
		t.Fatalf("health %q", got.Health)
	}
	inf.feed(ctrEvent("die", "c1", t0.Add(3*time.Second), map[string]string{"exitCode": "3"}))
	if got, _ := inf.Container("c1"); got.State != "exited" || got.ExitCode != 3 || !got.FinishedAt.Equal(t0.Add(3*time.Second)) {
		t.Fatalf("after die: %+v", got)
	}
	if cs := inf.Containers("env1"); len(cs) != 1 {
		t.Fatalf("Containers(env1) = %d entries", len(cs))
	}
	// A stale event (older than what the cache reflects) changes nothing.
	inf.feed(ctrEvent("start", "c1", t0.Add(time.Second), nil))
	if got, _ := inf.Container("c1"); got.State != "exited" {
		t.Fatalf("a replayed start overwrote a later die: %+v", got)
	}
	inf.feed(ctrEvent("destroy", "c1", t0.Add(4*time.Second), nil))
	if _, ok := inf.Container("c1"); ok {
		t.Fatal("destroy left the entry")
	}
	// Replays after a resume must not bring a destroyed container back.
	inf.feed(ctrEvent("die", "c1", t0.Add(3*time.Second), map[string]string{"exitCode": "3"}))
	if _, ok := inf.Container("c1"); ok {
		t.Fatal("a replayed die resurrected a destroyed container")
	}
	if !rec.has(func(ev Event) bool { return ev.ID == "c1" && ev.Deleted && ev.Environment == "env1" }) {
		t.Fatal("no deleted event for the handler")
	}
	// Another manager's container is ignored even if the filter let it by.
	foreign := ctrEvent("create", "c2", t0, map[string]string{v1.LabelManagedBy: "someone-else"})
	inf.feed(foreign)
	if _, ok := inf.Container("c2"); ok {
		t.Fatal("cached a container of another manager")
	}
}

func TestInformerInspectDoesNotOverwriteNewerEvents(t *testing.T) {
	inf, _ := unitInformer(t)
	t0 := time.Unix(1_800_000_000, 0)
	inf.feed(ctrEvent("start", "c1", t0, nil))
	inf.feed(ctrEvent("die", "c1", t0.Add(2*time.Second), map[string]string{"exitCode": "137"}))
	// The inspect queued by start was taken before the die.
	stale := docker.Container{ID: "c1", Labels: map[string]string{v1.LabelManagedBy: "berth-unit"}, State: "running", ObservedAt: t0.Add(time.Second)}
	inf.notify(inf.applyInspect(stale))
	if got, _ := inf.Container("c1"); got.State != "exited" || got.ExitCode != 137 {
		t.Fatalf("an older inspect overwrote the die: %+v", got)
	}
	fresh := docker.Container{ID: "c1", Labels: map[string]string{v1.LabelManagedBy: "berth-unit", v1.LabelEnvironment: "env1"}, Environment: "env1", State: "exited", ExitCode: 137, RestartCount: 0, ObservedAt: t0.Add(3 * time.Second)}
	inf.notify(inf.applyInspect(fresh))
	if got, _ := inf.Container("c1"); got.ObservedAt != fresh.ObservedAt {
		t.Fatalf("a newer inspect was not applied: %+v", got)
	}
}

// An inspect overtaken by an event that carries no details (an exec
// probe's exec_start) is dropped, and the container is inspected again:
// otherwise a container listed or started without a known health would
// wait for it until the next relist.
func TestInformerInspectOvertakenByEventIsRetried(t *testing.T) {
	inf, _ := unitInformer(t)
	t0 := time.Unix(1_800_000_000, 0)
	inf.feed(ctrEvent("start", "c1", t0, nil))
	if id, ok := inf.inspectQ.pop(); !ok || id != "c1" {
		t.Fatalf("start queued no inspect: %q %v", id, ok)
	}
	inf.feed(ctrEvent("exec_start: /testapp probe", "c1", t0.Add(2*time.Second), nil))
	overtaken := docker.Container{ID: "c1", Labels: map[string]string{v1.LabelManagedBy: "berth-unit"}, State: "running", ObservedAt: t0.Add(time.Second)}
	inf.notify(inf.applyInspect(overtaken))
	if got, _ := inf.Container("c1"); !got.HealthUnknown {
		t.Fatalf("the overtaken inspect was applied: %+v", got)
	}
	if !inf.inspectQ.has("c1") {
		t.Fatal("the overtaken inspect was not retried")
	}
	fresh := overtaken
	fresh.ObservedAt = t0.Add(3 * time.Second)
	inf.notify(inf.applyInspect(fresh))
	if got, _ := inf.Container("c1"); got.HealthUnknown {
		t.Fatalf("the retried inspect left the health unknown: %+v", got)
	}
}

// has reports whether id waits in the queue (pop would block on an empty
// one).
func (q *idQueue) has(id string) bool {
	q.mu.Lock()
	defer q.mu.Unlock()
	return q.queued[id]
}
