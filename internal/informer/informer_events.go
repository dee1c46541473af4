package informer

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/moby/moby/api/types/events"
	"github.com/moby/moby/client"

	v1 "berth.dev/berth/apis/v1alpha1"
	"berth.dev/berth/internal/docker"
	"berth.dev/berth/internal/governor"
)

// streamKind selects one of the informer's two event streams. Container
// events carry the container's labels, so Docker can filter them by this
// manager's identity; network and volume events carry no labels, so that
// stream is filtered by type and checked against the cache (and, for
// creates, an inspect).
type streamKind int

const (
	containerStream streamKind = iota
	objectStream
)

func (k streamKind) String() string {
	if k == containerStream {
		return "containers"
	}
	return "networks+volumes"
}

// containerActions are the container events that change what the cache
// holds; exec, attach, top and the like are left out at the daemon.
var containerActions = []string{"create", "start", "restart", "die", "oom", "pause", "unpause", "rename", "health_status", "destroy"}

// objectActions are the network and volume events the cache follows.
var objectActions = []string{"create", "destroy", "connect", "disconnect"}

func (i *Informer) filters(k streamKind) client.Filters {
	f := make(client.Filters)
	if k == containerStream {
		f.Add("type", string(events.ContainerEventType))
		f.Add("label", v1.LabelManagedBy+"="+i.c.ManagerID())
		f.Add("event", containerActions...)
		return f
	}
	f.Add("type", string(events.NetworkEventType), string(events.VolumeEventType))
	f.Add("event", objectActions...)
	return f
}

// streamBackoff is the wait before reopening a broken stream or retrying a
// failed list: 1 s doubling to 8 s. The cap is low because a failed dial of
// a local daemon costs nothing, and after a daemon restart every second
// without events is a second of drift nobody repairs. A healthy stream
// resets it.
func streamBackoff(attempt int) time.Duration {
	return governor.Jitter(time.Second << min(attempt, 3))
}

// follow keeps one event stream open from since onwards, resuming from the
// last event seen after every break and asking for a relist.
func (i *Informer) follow(ctx context.Context, k streamKind, since time.Time) {
	cursor := since
	for attempt := 0; ; {
		opened := time.Now()
		got, last, err := i.stream(ctx, k, cursor)
		if ctx.Err() != nil {
			return
		}
		if !last.IsZero() {
			cursor = last
		}
		i.restarts.Add(1)
		i.c.Governor().StreamDropped()
		i.outages.lost(time.Now())
		if got > 0 || time.Since(opened) > 30*time.Second {
			attempt = 0
		}
		d := streamBackoff(attempt)
		attempt++
		i.log.Info("Docker event stream ended; resuming", "stream", k.String(), "since", cursor, "after", d, "error", errString(err))
		// Whatever the replay from the cursor misses (a daemon restart
		// loses its event buffer), the relist catches.
		i.requestRelist()
		if governor.Sleep(ctx, d) != nil {
			return
		}
	}
}

// stream reads one event stream until it breaks; it returns how many
// events it applied and the time of the last.
func (i *Informer) stream(ctx context.Context, k streamKind, since time.Time) (n int, last time.Time, err error) {
	sctx, cancel := context.WithCancel(ctx)
	defer cancel()
	opts := client.EventsListOptions{Filters: i.filters(k)}
	if !since.IsZero() {
		opts.Since = fmt.Sprintf("%d.%09d", since.Unix(), since.Nanosecond())
	}
	res, done, err := i.c.Events(sctx, k.String(), opts)
	if err != nil {
		return 0, last, err
	}
	for {
		select {
		case msg := <-res.Messages:
			t := eventTime(msg)
			n++
			if t.After(last) {
				last = t
			}
			i.events.Add(1)
			i.lastEvent.Store(t.UnixNano())
			i.apply(ctx, k, msg, t)
		case err := <-res.Err:
			if err == nil {
				err = fmt.Errorf("event stream closed")
			}
			done(err)
			return n, last, err
		case <-ctx.Done():
			done(nil)
			return n, last, ctx.Err()
		}
	}
}

func eventTime(m events.Message) time.Time {
	if m.TimeNano != 0 {
		return time.Unix(0, m.TimeNano)
	}
	return time.Unix(m.Time, 0)
}

func (i *Informer) apply(ctx context.Context, k streamKind, m events.Message, t time.Time) {
	switch m.Type {
	case events.ContainerEventType:
		i.notify(i.applyContainer(m, t))
	case events.NetworkEventType:
		i.notify(i.applyNetwork(ctx, m, t))
	case events.VolumeEventType:
		i.notify(i.applyVolume(ctx, m, t))
	}
}

// applyContainer updates the cache from a container event. Events older
// than what the cache already reflects (replays after a resume, or an
// inspect that overtook them) are skipped.
func (i *Informer) applyContainer(m events.Message, t time.Time) []Event {
	attrs := m.Actor.Attributes
	if attrs[v1.LabelManagedBy] != i.c.ManagerID() {
		return nil
	}
	id := m.Actor.ID
	action := string(m.Action)
	i.mu.Lock()
	defer i.mu.Unlock()
	if gone, dead := i.tombstones[id]; dead && !t.After(gone) {
		// A replayed event of a container already destroyed.
		return nil
	}
	cur, ok := i.containers.get(id)
	if action == string(events.ActionDestroy) {
		i.tombstones[id] = t
		i.c.Forget(id)
		if !ok || t.Before(cur.ObservedAt) {
			return nil
		}
		i.containers.remove(id)
		ev := containerEvent(action, cur, t)
		ev.Deleted, ev.Container = true, nil
		return []Event{ev}
	}
	if ok && t.Before(cur.ObservedAt) {
		return nil
	}
	var next docker.Container
	if ok {
		next = *cur
	} else {
		next = docker.Container{ID: id, State: "created", CreatedAt: t}
	}
	// Every container event carries the labels, name and image.
	next.Labels = labelsFromAttributes(attrs)
	next.FillLabels()
	if name := attrs["name"]; name != "" {
		next.Name = name
	}
	if img := attrs["image"]; img != "" {
		next.Image = img
	}
	next.ObservedAt = t
	// A container first seen through a later event (its create fell
	// between a list and the stream) needs its details fetched.
	inspect := !ok && action != "create"
	switch {
	case action == "create":
		next.State = "created"
	case action == "start" || action == "restart":
		next.State, next.StartedAt, next.FinishedAt, next.ExitCode, next.OOMKilled = "running", t, time.Time{}, 0, false
		// Docker resets the health at start; the inspect that follows
		// says whether there is a healthcheck at all.
		next.Health, next.HealthUnknown = "", true
		// Host ports and the IP are assigned at start: fetch them.
		inspect, next.Detailed = true, false
		if f, known := i.c.StartFacts(id); known && ok {
			// Created by this process with no host port to learn and
			// a known healthcheck: nothing to ask Docker (known.go).
			// Docker reports a healthcheck "starting" from the start.
			next.HealthUnknown, inspect = false, false
			if f.Healthcheck {
				next.Health = "starting"
			}
		}
	case action == "die":
		next.State, next.FinishedAt = "exited", t
		if code, err := strconv.Atoi(attrs["exitCode"]); err == nil {
			next.ExitCode = code
		}
		next.Ports, next.IPAddress = nil, ""
	case action == "oom":
		next.OOMKilled = true
	case action == "pause":
		next.State = "paused"
	case action == "unpause":
		next.State = "running"
	case strings.HasPrefix(action, "health_status"):
		next.Health = strings.TrimSpace(strings.TrimPrefix(strings.TrimPrefix(action, "health_status"), ":"))
		next.HealthUnknown = false
	}
	i.containers.put(&next)
	if inspect {
		i.inspectQ.push(id)
	}
	return []Event{containerEvent(action, &next, t)}
}

// labelsFromAttributes picks the labels out of an event's attributes, which
// mix them with name, image and action-specific keys. Only berth.dev/ keys
// and keys that are not Docker's own attribute names are kept.
func labelsFromAttributes(attrs map[string]string) map[string]string {
	out := make(map[string]string, len(attrs))
	for k, v := range attrs {
		switch k {
		case "name", "image", "exitCode", "signal", "oldName", "execID", "container":
			continue
		}
		out[k] = v
	}
	return out
}

func (i *Informer) applyNetwork(ctx context.Context, m events.Message, t time.Time) []Event {
	id := m.Actor.ID
	action := string(m.Action)
	i.mu.Lock()
	cur, known := i.networks[id]
	switch action {
	case "destroy":
		if !known || t.Before(cur.ObservedAt) {
			i.mu.Unlock()
			return nil
		}
		delete(i.networks, id)
		i.mu.Unlock()
		i.c.Forget(id)
		return []Event{{Kind: KindNetwork, Action: action, ID: id, Name: cur.Name, Environment: cur.Environment, Time: t, Deleted: true}}
	case "connect", "disconnect":
		if !known || t.Before(cur.ObservedAt) {
			i.mu.Unlock()
			return nil
		}
		cid := m.Actor.Attributes["container"]
		if cur.Containers == nil {
			cur.Containers = map[string]string{}
		}
		if action == "connect" {
			cur.Containers[cid] = ""
		} else {
			delete(cur.Containers, cid)
		}
		cur.ObservedAt = t
		i.mu.Unlock()
		return []Event{{Kind: KindNetwork, Action: action, ID: id, Name: cur.Name, Environment: cur.Environment, Time: t}}
	}
	i.mu.Unlock()
	if action != "create" || known {
		return nil
	}
	// A create event has no labels: ask whether it is ours, unless this
	// process created it and knows (known.go).
	n, created := i.c.CreatedNetwork(ctx, id, m.Actor.Attributes["name"])
	if created {
		n.ObservedAt, n.CreatedAt = t, t
		n.Containers = map[string]string{}
	} else {
		var err error
		if n, err = i.c.InspectNetwork(ctx, id); err != nil {
			i.inspectFailed(ctx, "network", id, err)
			return nil
		}
	}
	if !docker.Owned(n.Labels, i.c.ManagerID()) {
		return nil
	}
	i.mu.Lock()
	if existing, ok := i.networks[id]; ok && !existing.ObservedAt.Before(n.ObservedAt) {
		i.mu.Unlock()
		return nil
	}
	i.networks[id] = &n
	i.mu.Unlock()
	return []Event{{Kind: KindNetwork, Action: action, ID: id, Name: n.Name, Environment: n.Environment, Time: t}}
}

func (i *Informer) applyVolume(ctx context.Context, m events.Message, t time.Time) []Event {
	name := m.Actor.ID
	action := string(m.Action)
	i.mu.Lock()
	cur, known := i.volumes[name]
	if action == "destroy" {
		if !known || t.Before(cur.ObservedAt) {
			i.mu.Unlock()
			return nil
		}
		delete(i.volumes, name)
		i.mu.Unlock()
		return []Event{{Kind: KindVolume, Action: action, ID: name, Name: name, Environment: cur.Environment, Time: t, Deleted: true}}
	}
	i.mu.Unlock()
	if action != "create" || known {
		return nil
	}
	v, err := i.c.InspectVolume(ctx, name)
	if err != nil {
		i.inspectFailed(ctx, "volume", name, err)
		return nil
	}
	if !docker.Owned(v.Labels, i.c.ManagerID()) {
		return nil
	}
	i.mu.Lock()
	if existing, ok := i.volumes[name]; ok && !existing.ObservedAt.Before(v.ObservedAt) {
		i.mu.Unlock()
		return nil
	}
	i.volumes[name] = &v
	i.mu.Unlock()
	return []Event{{Kind: KindVolume, Action: action, ID: name, Name: name, Environment: v.Environment, Time: t}}
}

// inspectFailed handles a failed inspect after an event: no later event may
// ever mention the object again (an idle network, a volume), so dropping it
// would leave the cache wrong for good. A relist, which retries with
// backoff, puts it right.
func (i *Informer) inspectFailed(ctx context.Context, kind, id string, err error) {
	if docker.IsNotFound(err) || ctx.Err() != nil {
		return // gone already: its destroy event follows, or we are stopping
	}
	i.log.Info("inspect after event failed; relisting", "kind", kind, "id", shortID(id), "error", err.Error())
	i.requestRelist()
}
