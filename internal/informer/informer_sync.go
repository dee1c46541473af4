package informer

import (
	"context"
	"sync"
	"time"

	"berth.dev/berth/internal/docker"
	"berth.dev/berth/internal/governor"
)

// inspectWorkers fetch container details after start events and relists.
// Two are enough: each inspect is a governed read, and the governor, not
// this number, decides how many run at once.
const inspectWorkers = 2

// tombstoneTTL is how long a destroyed container's ID is remembered; a
// resumed stream replays at most that far back in practice.
const tombstoneTTL = 10 * time.Minute

// Relist asks for a relist soon (coalesced with any already pending).
func (i *Informer) Relist() { i.requestRelist() }

func (i *Informer) requestRelist() {
	select {
	case i.relistReq <- struct{}{}:
	default:
	}
}

// relistLoop runs requested relists one at a time, retrying failures.
func (i *Informer) relistLoop(ctx context.Context) {
	for {
		select {
		case <-ctx.Done():
			return
		case <-i.relistReq:
		}
		for attempt := 0; ; attempt++ {
			if _, err := i.relist(ctx, "relist"); err == nil || ctx.Err() != nil {
				break
			} else {
				i.log.Error(err, "relist of Docker objects failed; retrying")
			}
			if governor.Sleep(ctx, streamBackoff(attempt)) != nil {
				return
			}
		}
	}
}

// relist lists every owned object and reconciles the cache with it. It
// returns the time the lists started: the event cursor to resume from.
// Entries changed by events after that time are newer than the list and
// kept; entries older than it that Docker no longer lists are deleted.
func (i *Informer) relist(ctx context.Context, action string) (time.Time, error) {
	start := time.Now()
	ctrs, err := i.c.ListContainers(ctx)
	if err != nil {
		return time.Time{}, err
	}
	nets, err := i.c.ListNetworks(ctx)
	if err != nil {
		return time.Time{}, err
	}
	// Network lists have no endpoints: inspect each for attached
	// containers (networks are few, one per environment).
	for k := range nets {
		full, err := i.c.InspectNetwork(ctx, nets[k].ID)
		if err == nil {
			nets[k] = full
		}
	}
	vols, err := i.c.ListVolumes(ctx)
	if err != nil {
		return time.Time{}, err
	}
	i.relists.Add(1)
	// The outage ends before the cache takes the list in, so a reconcile
	// the list's events trigger already knows the exits it shows were the
	// daemon's.
	i.outages.answered(time.Now())

	var evs []Event
	i.mu.Lock()
	seen := map[string]bool{}
	for k := range ctrs {
		c := &ctrs[k]
		c.ObservedAt = start
		seen[c.ID] = true
		if gone, dead := i.tombstones[c.ID]; dead && gone.After(start) {
			continue
		}
		cur, ok := i.containers.get(c.ID)
		if ok && cur.ObservedAt.After(start) {
			continue
		}
		next := *c
		if code, ok := c.ListedExitCode(); ok {
			next.ExitCode = code
		}
		// A container whose health is still unknown (its inspect
		// failed) is inspected again.
		changed := !ok || cur.State != next.State || cur.Name != next.Name || (cur.HealthUnknown && next.HealthUnknown)
		if ok && !changed {
			// Lists lack times and restart counts: keep what we know.
			next.StartedAt, next.FinishedAt, next.RestartCount, next.OOMKilled = cur.StartedAt, cur.FinishedAt, cur.RestartCount, cur.OOMKilled
			next.ExitCode = cur.ExitCode
			if next.Health == "" {
				next.Health, next.HealthUnknown = cur.Health, cur.HealthUnknown
			}
		}
		i.containers.put(&next)
		if changed {
			i.inspectQ.push(c.ID)
			evs = append(evs, containerEvent(action, &next, start))
		}
	}
	for id, cur := range i.containers.byID {
		if !seen[id] && cur.ObservedAt.Before(start) {
			i.containers.remove(id)
			ev := containerEvent(action, cur, start)
			ev.Deleted, ev.Container = true, nil
			evs = append(evs, ev)
		}
	}
	for id, t := range i.tombstones {
		if start.Sub(t) > tombstoneTTL {
			delete(i.tombstones, id)
		}
	}

	seenNet := map[string]bool{}
	for k := range nets {
		n := nets[k]
		n.ObservedAt = start
		seenNet[n.ID] = true
		cur, ok := i.networks[n.ID]
		if ok && cur.ObservedAt.After(start) {
			continue
		}
		i.networks[n.ID] = &n
		if !ok || !sameKeys(cur.Containers, n.Containers) {
			evs = append(evs, Event{Kind: KindNetwork, Action: action, ID: n.ID, Name: n.Name, Environment: n.Environment, Time: start})
		}
	}
	for id, cur := range i.networks {
		if !seenNet[id] && cur.ObservedAt.Before(start) {
			delete(i.networks, id)
			evs = append(evs, Event{Kind: KindNetwork, Action: action, ID: id, Name: cur.Name, Environment: cur.Environment, Time: start, Deleted: true})
		}
	}

	seenVol := map[string]bool{}
	for k := range vols {
		v := vols[k]
		v.ObservedAt = start
		seenVol[v.Name] = true
		cur, ok := i.volumes[v.Name]
		if ok && cur.ObservedAt.After(start) {
			continue
		}
		i.volumes[v.Name] = &v
		if !ok {
			evs = append(evs, Event{Kind: KindVolume, Action: action, ID: v.Name, Name: v.Name, Environment: v.Environment, Time: start})
		}
	}
	for name, cur := range i.volumes {
		if !seenVol[name] && cur.ObservedAt.Before(start) {
			delete(i.volumes, name)
			evs = append(evs, Event{Kind: KindVolume, Action: action, ID: name, Name: name, Environment: cur.Environment, Time: start, Deleted: true})
		}
	}
	i.mu.Unlock()
	i.notify(evs)
	return start, nil
}

func sameKeys(a, b map[string]string) bool {
	if len(a) != len(b) {
		return false
	}
	for k := range a {
		if _, ok := b[k]; !ok {
			return false
		}
	}
	return true
}

// inspectLoop fills in container details (ports, IP, times) the events and
// lists do not carry.
func (i *Informer) inspectLoop(ctx context.Context) {
	for {
		id, ok := i.inspectQ.pop()
		if !ok {
			return
		}
		c, err := i.c.InspectAnyContainer(ctx, id)
		if ctx.Err() != nil {
			return
		}
		switch {
		case docker.IsNotFound(err):
			// Its destroy event will come (or came); nothing to fill.
		case err != nil:
			i.inspectFailed(ctx, "container", id, err)
		default:
			i.notify(i.applyInspect(c))
		}
	}
}

// applyInspect stores an inspect result unless events overtook it.
func (i *Informer) applyInspect(c docker.Container) []Event {
	if !docker.Owned(c.Labels, i.c.ManagerID()) {
		return nil
	}
	i.mu.Lock()
	defer i.mu.Unlock()
	if gone, dead := i.tombstones[c.ID]; dead && !c.ObservedAt.After(gone) {
		return nil
	}
	cur, ok := i.containers.get(c.ID)
	if ok && cur.ObservedAt.After(c.ObservedAt) {
		// An event overtook this inspect. Most events (an exec probe's
		// exec_start, a resize) carry no details, so a record still
		// waiting for them (health, ports and IP after a start or a
		// list) would wait for good: inspect again.
		if cur.HealthUnknown {
			i.inspectQ.push(c.ID)
		}
		return nil
	}
	c.Detailed = true
	i.containers.put(&c)
	return []Event{containerEvent("inspect", &c, c.ObservedAt)}
}

// idQueue is a FIFO of container IDs without duplicates.
type idQueue struct {
	mu     sync.Mutex
	cond   *sync.Cond
	ids    []string
	queued map[string]bool
	closed bool
}

func newIDQueue() *idQueue {
	q := &idQueue{queued: map[string]bool{}}
	q.cond = sync.NewCond(&q.mu)
	return q
}

func (q *idQueue) push(id string) {
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.closed || q.queued[id] {
		return
	}
	q.queued[id] = true
	q.ids = append(q.ids, id)
	q.cond.Signal()
}

func (q *idQueue) pop() (string, bool) {
	q.mu.Lock()
	defer q.mu.Unlock()
	for len(q.ids) == 0 && !q.closed {
		q.cond.Wait()
	}
	if q.closed {
		return "", false
	}
	id := q.ids[0]
	q.ids = q.ids[1:]
	delete(q.queued, id)
	return id, true
}

func (q *idQueue) close() {
	q.mu.Lock()
	q.closed = true
	q.cond.Broadcast()
	q.mu.Unlock()
}
