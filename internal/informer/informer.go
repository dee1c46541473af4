package informer

import (
	"context"
	"errors"
	"sort"
	"sync"
	"sync/atomic"
	"time"

	"github.com/go-logr/logr"

	"berth.dev/berth/internal/docker"
	"berth.dev/berth/internal/governor"
)

// ObjectKind is the kind of Docker object an informer event is about.
type ObjectKind string

const (
	KindContainer ObjectKind = "container"
	KindNetwork   ObjectKind = "network"
	KindVolume    ObjectKind = "volume"
)

// Event tells a handler that a cached object changed.
type Event struct {
	Kind ObjectKind
	// Action is Docker's event action (create, start, die, destroy,
	// "health_status: healthy", connect, ...), "relist" for a change found
	// by a relist, or "inspect" for details filled in after an event.
	Action      string
	ID          string
	Name        string
	Environment string
	Time        time.Time
	// Deleted: the object is gone from the cache.
	Deleted bool
	// Container is the cached state after the change, for container
	// events that did not delete it.
	Container *docker.Container
}

// Handler receives the owning Environment's name (label
// berth.dev/environment; "" for objects without one) and the event.
// Handlers run on the informer's goroutines, possibly concurrently: they must
// be safe for concurrent use and must not block (enqueue and return).
type Handler func(env string, ev Event)

// Stats says how the informer's view is kept current.
type Stats struct {
	Synced         bool
	Relists        int64
	StreamRestarts int64
	Events         int64
	LastEvent      time.Time
	Containers     int
	Networks       int
	Volumes        int
}

// Cache is the informer's read side: observed state at no Docker cost.
type Cache interface {
	HasSynced() bool
	WaitForSync(ctx context.Context) error
	AddHandler(h Handler)
	Containers(env string) []docker.Container
	Container(idOrName string) (docker.Container, bool)
	Networks(env string) []docker.Network
	Volumes(env string) []docker.Volume
	All() Snapshot
	Environments() []string
	// Relist asks for a fresh list of every owned object, for a consumer
	// that finds the cache contradicting what Docker just told it.
	Relist()
	// Removed and LearnNetwork tell the cache what Docker just answered
	// about berth's own writes, ahead of their events (writes.go).
	Removed(id string)
	LearnNetwork(n docker.Network)
	// LearnContainer and Started do the same for a container this
	// process created and started.
	LearnContainer(c docker.Container)
	Started(idOrName string)
	// NeedAddress asks for the inspect of a running container whose
	// network addresses the cache does not have, for a probe to dial.
	NeedAddress(id string)
	// Outages are the daemon outages seen so far (event stream lost until
	// the daemon answered a full list again), oldest first.
	Outages() []Outage
}

var _ Cache = (*Informer)(nil)

// Informer keeps an in-memory view of every container, network and volume
// carrying this manager's identity: one list at start, then the Docker
// events stream keeps it current; when the stream breaks it resumes from the
// last event it saw and relists to reconcile, with backoff. Reads from the
// cache cost no Docker call.
type Informer struct {
	c   *docker.Client
	log logr.Logger

	mu         sync.RWMutex
	containers containerTable
	networks   map[string]*docker.Network // by ID
	volumes    map[string]*docker.Volume  // by name
	// tombstones remember destroyed container IDs, so an event replayed
	// after a resume cannot bring one back.
	tombstones map[string]time.Time

	hmu      sync.RWMutex
	handlers []Handler

	synced    atomic.Bool
	syncedCh  chan struct{}
	relistReq chan struct{}
	inspectQ  *idQueue

	relists, restarts, events atomic.Int64
	lastEvent                 atomic.Int64 // unix nanos
	outages                   outageLog

	running atomic.Bool
}

// New returns an informer over c's objects; Run starts it.
func New(c *docker.Client) *Informer {
	return &Informer{
		c:          c,
		log:        c.Logger().WithName("informer"),
		containers: newContainerTable(),
		networks:   map[string]*docker.Network{},
		volumes:    map[string]*docker.Volume{},
		tombstones: map[string]time.Time{},
		syncedCh:   make(chan struct{}),
		relistReq:  make(chan struct{}, 1),
		inspectQ:   newIDQueue(),
	}
}

// AddHandler registers h for every change from now on. Register before Run
// to see the initial list as "relist" events.
func (i *Informer) AddHandler(h Handler) {
	i.hmu.Lock()
	i.handlers = append(i.handlers, h)
	i.hmu.Unlock()
}

// HasSynced reports whether the initial list has been loaded.
func (i *Informer) HasSynced() bool { return i.synced.Load() }

// WaitForSync blocks until the initial list is loaded or ctx ends.
func (i *Informer) WaitForSync(ctx context.Context) error {
	select {
	case <-i.syncedCh:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Run lists, then follows events until ctx ends. It returns nil on a
// normal stop; Docker being down is not an error, it is retried.
func (i *Informer) Run(ctx context.Context) error {
	if !i.running.CompareAndSwap(false, true) {
		return errors.New("informer: already running")
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()

	var since time.Time
	for attempt := 0; ; attempt++ {
		var err error
		since, err = i.relist(ctx, "list")
		if err == nil {
			break
		}
		// A daemon that is down (or restarting) while the manager starts
		// may stop containers before it answers.
		i.outages.lost(time.Now())
		i.log.Error(err, "initial list of Docker objects failed; retrying")
		if governor.Sleep(ctx, streamBackoff(attempt)) != nil {
			return nil
		}
	}
	i.synced.Store(true)
	close(i.syncedCh)

	var wg sync.WaitGroup
	run := func(f func()) {
		wg.Add(1)
		go func() { defer wg.Done(); f() }()
	}
	run(func() { i.follow(ctx, containerStream, since) })
	run(func() { i.follow(ctx, objectStream, since) })
	run(func() { i.relistLoop(ctx) })
	for w := 0; w < inspectWorkers; w++ {
		run(func() { i.inspectLoop(ctx) })
	}
	<-ctx.Done()
	i.inspectQ.close()
	wg.Wait()
	return nil
}

// Containers returns the cached containers of an environment, by name.
func (i *Informer) Containers(env string) []docker.Container {
	i.mu.RLock()
	defer i.mu.RUnlock()
	cs := i.containers.ofEnvironment(env)
	out := make([]docker.Container, 0, len(cs))
	for _, c := range cs {
		out = append(out, *c)
	}
	sort.Slice(out, func(a, b int) bool { return out[a].Name < out[b].Name })
	return out
}

// Container returns one cached container by ID or name.
func (i *Informer) Container(idOrName string) (docker.Container, bool) {
	i.mu.RLock()
	defer i.mu.RUnlock()
	if c, ok := i.containers.lookup(idOrName); ok {
		return *c, true
	}
	return docker.Container{}, false
}

// Networks returns the cached networks of an environment.
func (i *Informer) Networks(env string) []docker.Network {
	i.mu.RLock()
	defer i.mu.RUnlock()
	var out []docker.Network
	for _, n := range i.networks {
		if n.Environment == env {
			out = append(out, copyNetwork(n))
		}
	}
	sort.Slice(out, func(a, b int) bool { return out[a].Name < out[b].Name })
	return out
}

// Volumes returns the cached volumes of an environment.
func (i *Informer) Volumes(env string) []docker.Volume {
	i.mu.RLock()
	defer i.mu.RUnlock()
	var out []docker.Volume
	for _, v := range i.volumes {
		if v.Environment == env {
			out = append(out, *v)
		}
	}
	sort.Slice(out, func(a, b int) bool { return out[a].Name < out[b].Name })
	return out
}

// Snapshot is everything the informer holds.
type Snapshot struct {
	Containers []docker.Container
	Networks   []docker.Network
	Volumes    []docker.Volume
}

// All returns every cached object (for the orphan collector and dashboard).
func (i *Informer) All() Snapshot {
	i.mu.RLock()
	defer i.mu.RUnlock()
	var s Snapshot
	for _, c := range i.containers.byID {
		s.Containers = append(s.Containers, *c)
	}
	for _, n := range i.networks {
		s.Networks = append(s.Networks, copyNetwork(n))
	}
	for _, v := range i.volumes {
		s.Volumes = append(s.Volumes, *v)
	}
	sort.Slice(s.Containers, func(a, b int) bool { return s.Containers[a].Name < s.Containers[b].Name })
	sort.Slice(s.Networks, func(a, b int) bool { return s.Networks[a].Name < s.Networks[b].Name })
	sort.Slice(s.Volumes, func(a, b int) bool { return s.Volumes[a].Name < s.Volumes[b].Name })
	return s
}

// Environments lists every environment name that owns a cached object.
func (i *Informer) Environments() []string {
	i.mu.RLock()
	defer i.mu.RUnlock()
	set := map[string]bool{}
	for env := range i.containers.byEnv {
		set[env] = true
	}
	for _, n := range i.networks {
		set[n.Environment] = true
	}
	for _, v := range i.volumes {
		set[v.Environment] = true
	}
	out := make([]string, 0, len(set))
	for e := range set {
		out = append(out, e)
	}
	sort.Strings(out)
	return out
}

// Stats reports the informer's counters.
func (i *Informer) Stats() Stats {
	i.mu.RLock()
	s := Stats{Containers: i.containers.len(), Networks: len(i.networks), Volumes: len(i.volumes)}
	i.mu.RUnlock()
	s.Synced = i.synced.Load()
	s.Relists = i.relists.Load()
	s.StreamRestarts = i.restarts.Load()
	s.Events = i.events.Load()
	if n := i.lastEvent.Load(); n != 0 {
		s.LastEvent = time.Unix(0, n)
	}
	return s
}

func (i *Informer) notify(evs []Event) {
	if len(evs) == 0 {
		return
	}
	i.hmu.RLock()
	hs := i.handlers
	i.hmu.RUnlock()
	for _, ev := range evs {
		for _, h := range hs {
			h(ev.Environment, ev)
		}
	}
}

func copyNetwork(n *docker.Network) docker.Network {
	out := *n
	if n.Containers != nil {
		out.Containers = make(map[string]string, len(n.Containers))
		for k, v := range n.Containers {
			out.Containers[k] = v
		}
	}
	return out
}

func containerEvent(action string, c *docker.Container, t time.Time) Event {
	cp := *c
	return Event{Kind: KindContainer, Action: action, ID: c.ID, Name: c.Name, Environment: c.Environment, Time: t, Container: &cp}
}
