package informer

import (
	"time"

	"berth.dev/berth/internal/docker"
)

// The events that tell the cache about berth's own writes can lag: the
// networks+volumes stream handles its events one at a time, and each
// create of a network anyone makes costs it an inspect (network events
// carry no labels), which under the desktop profile waits 0.55 s and
// behind every write. A reconcile that plans from a cache still holding a
// network it just removed removes it again (a 404, counted as success) and
// again, and those writes keep the informer's own reads waiting. So the
// controller tells the cache what Docker has just answered about its
// writes; the events, when they come, find the cache already right.

// Removed records that Docker just answered a removal of the container or
// network id with success or "no such object": it is gone. A container's
// ID is tombstoned, so a late or replayed event cannot bring it back.
func (i *Informer) Removed(id string) {
	if id == "" {
		return
	}
	now := time.Now()
	var evs []Event
	i.mu.Lock()
	if c, ok := i.containers.get(id); ok {
		i.tombstones[id] = now
		i.containers.remove(id)
		ev := containerEvent("destroy", c, now)
		ev.Deleted, ev.Container = true, nil
		evs = append(evs, ev)
	}
	if n, ok := i.networks[id]; ok {
		delete(i.networks, id)
		evs = append(evs, Event{Kind: KindNetwork, Action: "destroy", ID: id, Name: n.Name, Environment: n.Environment, Time: now, Deleted: true})
	}
	i.mu.Unlock()
	i.c.Forget(id)
	i.notify(evs)
}

// LearnNetwork records a network Docker just created or returned to this
// process, with its labels, when the cache does not know it yet; its
// create event then needs no inspect.
func (i *Informer) LearnNetwork(n docker.Network) {
	if n.ID == "" || !docker.Owned(n.Labels, i.c.ManagerID()) {
		return
	}
	i.mu.Lock()
	if _, ok := i.networks[n.ID]; ok {
		i.mu.Unlock()
		return
	}
	n.ObservedAt = time.Now()
	if n.Containers == nil {
		n.Containers = map[string]string{}
	}
	i.networks[n.ID] = &n
	i.mu.Unlock()
	i.notify([]Event{{Kind: KindNetwork, Action: "create", ID: n.ID, Name: n.Name, Environment: n.Environment, Time: n.ObservedAt}})
}

// NeedAddress queues an inspect of container id when it runs and no
// inspect since its start filled its addresses: a start the informer took
// from what this process created (no inspect) leaves them empty, and a
// readiness probe that dials the container needs them. At most one inspect
// per start: the inspect marks the record detailed.
func (i *Informer) NeedAddress(id string) {
	i.mu.RLock()
	c, ok := i.containers.get(id)
	need := ok && c.Running() && !c.Detailed
	i.mu.RUnlock()
	if need {
		i.inspectQ.push(id)
	}
}

// LearnContainer records a container this process just created, from what
// the create itself answered, when the cache does not know it yet; its
// create event, older than this record, then changes nothing.
func (i *Informer) LearnContainer(c docker.Container) {
	if c.ID == "" || !docker.Owned(c.Labels, i.c.ManagerID()) {
		return
	}
	i.mu.Lock()
	if _, ok := i.containers.get(c.ID); ok {
		i.mu.Unlock()
		return
	}
	if _, dead := i.tombstones[c.ID]; dead {
		i.mu.Unlock()
		return
	}
	c.ObservedAt = time.Now()
	i.containers.put(&c)
	i.mu.Unlock()
	i.notify([]Event{containerEvent("create", &c, c.ObservedAt)})
}

// Started records that Docker just answered a start of container idOrName with
// success, as its start event would: only a container the cache still
// holds as created moves (one it already saw start, or die, is left to
// its events). The inspect the event would queue is queued unless the
// create left nothing to learn.
func (i *Informer) Started(idOrName string) {
	now := time.Now()
	i.mu.Lock()
	cur, ok := i.containers.lookup(idOrName)
	if !ok || cur.State != "created" {
		i.mu.Unlock()
		return
	}
	id := cur.ID
	next := *cur
	next.State, next.StartedAt, next.FinishedAt, next.ExitCode, next.OOMKilled = "running", now, time.Time{}, 0, false
	next.Health, next.HealthUnknown, next.Detailed = "", true, false
	inspect := true
	if f, known := i.c.StartFacts(id); known {
		next.HealthUnknown, inspect = false, false
		if f.Healthcheck {
			next.Health = "starting"
		}
	}
	next.ObservedAt = now
	i.containers.put(&next)
	i.mu.Unlock()
	if inspect {
		i.inspectQ.push(id)
	}
	i.notify([]Event{containerEvent("start", &next, now)})
}
