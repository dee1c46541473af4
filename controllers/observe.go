package controllers

import (
	"slices"
	"strings"
	"sync"
	"time"

	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/types"

	"berth.dev/berth/apis/v1alpha1"
	"berth.dev/berth/controllers/plan"
	"berth.dev/berth/internal/docker"
	"berth.dev/berth/internal/informer"
)

var everything = labels.Everything()

// observe assembles what the caches know about env: the Docker informer's
// objects, the probe manager's verdicts and the controller's own image
// bookkeeping. It makes no Docker call.
func (c *Controller) observe(env *v1alpha1.Environment) plan.Observed {
	name := env.Name
	obs := plan.Observed{
		Volumes: map[string]plan.ObservedVolume{},
		Images:  c.images.snapshot(name),
		Probes:  map[string]plan.ProbeResult{},
		Memory:  c.runs.get(env),
		// Teardown reads it, and so does a plan that meets an earlier
		// incarnation's network the daemon will not let go.
		NetworkRemoval: c.refusals.get(env),
	}
	for _, o := range c.cache.Outages() {
		obs.Outages = append(obs.Outages, plan.Outage{Start: o.Start, End: o.End})
	}
	// Attribution is by the Environment label; the plan checks the UID
	// and sorts out which object is the Environment's own.
	specNets := plan.SpecNetworkNames(env)
	for _, n := range c.cache.Networks(name) {
		on := observedNetwork(n)
		if _, listed := specNets[n.Name]; listed && n.Name != plan.NetworkName(name) {
			observeSpecNetwork(&obs, env, on)
			continue
		}
		if n.Name != plan.NetworkName(name) {
			obs.OtherNetworks = append(obs.OtherNetworks, on)
			continue
		}
		switch {
		case obs.Network == nil:
			obs.Network = &on
		case obs.Network.Labels[v1alpha1.LabelEnvironmentUID] != string(env.UID) && on.Labels[v1alpha1.LabelEnvironmentUID] == string(env.UID):
			// Ours beats an earlier incarnation's, which is drained.
			obs.OtherNetworks = append(obs.OtherNetworks, *obs.Network)
			obs.Network = &on
		case on.Labels[v1alpha1.LabelEnvironmentUID] != string(env.UID):
			obs.OtherNetworks = append(obs.OtherNetworks, on)
		}
		// A duplicate of ours under the same name is EnsureNetwork's to
		// settle.
	}
	for _, v := range c.cache.Volumes(name) {
		obs.Volumes[v.Name] = plan.ObservedVolume{Name: v.Name, Labels: v.Labels}
	}
	// A container of another of this manager's Environments under one of
	// this Environment's names is a conflict, which the plan can only
	// report if it sees it.
	for _, s := range env.Spec.Services {
		for i := range s.ReplicaCount() {
			if ct, ok := c.cache.Container(v1alpha1.ReplicaContainerName(name, s.Name, i)); ok && ct.Environment != name {
				obs.Containers = append(obs.Containers, observedContainer(ct))
			}
		}
	}
	for _, ct := range c.cache.Containers(name) {
		oc := observedContainer(ct)
		if ct.Health == plan.HealthHealthy {
			c.everReady.mark(ct.ID)
		}
		oc.HasBeenHealthy = c.everReady.has(ct.ID)
		obs.Containers = append(obs.Containers, oc)
		if st, ok := c.probes.Result(ct.ID); ok {
			if st.Ready {
				c.everReady.mark(ct.ID)
			}
			obs.Probes[ct.ID] = plan.ProbeResult{
				Known:               st.Known,
				Ready:               st.Ready,
				ConsecutiveFailures: int32(st.ConsecutiveFailures),
				Message:             st.Message,
				HasBeenReady:        c.everReady.has(ct.ID),
			}
		}
	}
	return obs
}

func observedContainer(ct docker.Container) plan.ObservedContainer {
	oc := plan.ObservedContainer{
		ID:            ct.ID,
		Name:          strings.TrimPrefix(ct.Name, "/"),
		Labels:        ct.Labels,
		State:         plan.ContainerState(ct.State),
		ExitCode:      int32(ct.ExitCode),
		OOMKilled:     ct.OOMKilled,
		StartedAt:     ct.StartedAt,
		FinishedAt:    ct.FinishedAt,
		Health:        ct.Health,
		HealthUnknown: ct.HealthUnknown && ct.Health == "",
	}
	for _, p := range ct.Ports {
		oc.Ports = append(oc.Ports, plan.ObservedPort{
			ContainerPort: int32(p.ContainerPort),
			Protocol:      p.Protocol,
			HostIP:        p.HostIP,
			HostPort:      int32(p.HostPort),
		})
	}
	return oc
}

// observeSpecNetwork files on, a network named like one of env's
// spec.networks, the way the default network is filed: this
// incarnation's beats an earlier one's, which is drained.
func observeSpecNetwork(obs *plan.Observed, env *v1alpha1.Environment, on plan.ObservedNetwork) {
	if obs.Networks == nil {
		obs.Networks = map[string]plan.ObservedNetwork{}
	}
	uid := string(env.UID)
	cur, ok := obs.Networks[on.Name]
	switch {
	case !ok:
		obs.Networks[on.Name] = on
	case cur.Labels[v1alpha1.LabelEnvironmentUID] != uid && on.Labels[v1alpha1.LabelEnvironmentUID] == uid:
		obs.OtherNetworks = append(obs.OtherNetworks, cur)
		obs.Networks[on.Name] = on
	case on.Labels[v1alpha1.LabelEnvironmentUID] != uid:
		obs.OtherNetworks = append(obs.OtherNetworks, on)
	}
}

func observedNetwork(n docker.Network) plan.ObservedNetwork {
	on := plan.ObservedNetwork{Name: n.Name, ID: n.ID, Labels: n.Labels}
	for id := range n.Containers {
		on.Attached = append(on.Attached, id)
	}
	slices.Sort(on.Attached)
	return on
}

// inventory is every object this manager owns, for the orphan collector.
func inventory(s informer.Snapshot) plan.Inventory {
	var inv plan.Inventory
	for _, ct := range s.Containers {
		inv.Containers = append(inv.Containers, observedContainer(ct))
	}
	for _, n := range s.Networks {
		inv.Networks = append(inv.Networks, observedNetwork(n))
	}
	for _, v := range s.Volumes {
		inv.Volumes = append(inv.Volumes, plan.ObservedVolume{Name: v.Name, Labels: v.Labels})
	}
	return inv
}

// imageBook remembers, per Environment and image, what pulls did: the
// informer does not watch images, and a ready Environment must cost no
// Docker call, so presence is learned when a pull op runs. Losing this on
// a restart costs at most one cheap presence check per image.
type imageBook struct {
	mu    sync.Mutex
	byEnv map[string]map[string]plan.ObservedImage
}

func newImageBook() *imageBook {
	return &imageBook{byEnv: map[string]map[string]plan.ObservedImage{}}
}

func (b *imageBook) snapshot(env string) map[string]plan.ObservedImage {
	b.mu.Lock()
	defer b.mu.Unlock()
	out := map[string]plan.ObservedImage{}
	for ref, img := range b.byEnv[env] {
		out[ref] = img
	}
	return out
}

func (b *imageBook) pulled(env, ref string, generation int64) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.byEnv[env] == nil {
		b.byEnv[env] = map[string]plan.ObservedImage{}
	}
	b.byEnv[env][ref] = plan.ObservedImage{Present: true, PulledGeneration: generation}
}

func (b *imageBook) failed(env, ref string, err error, now time.Time) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.byEnv[env] == nil {
		b.byEnv[env] = map[string]plan.ObservedImage{}
	}
	img := b.byEnv[env][ref]
	img.Present = false
	img.PullFailures++
	img.LastPullFailure = now
	img.PullError = err.Error()
	b.byEnv[env][ref] = img
}

func (b *imageBook) forget(env string) {
	b.mu.Lock()
	defer b.mu.Unlock()
	delete(b.byEnv, env)
}

// readyMemory remembers which containers have passed their probe once, so
// a later failure reads as Degraded rather than start-up.
type readyMemory struct {
	mu  sync.Mutex
	ids map[string]bool
}

func newReadyMemory() *readyMemory { return &readyMemory{ids: map[string]bool{}} }

func (r *readyMemory) mark(id string) {
	r.mu.Lock()
	r.ids[id] = true
	r.mu.Unlock()
}

func (r *readyMemory) has(id string) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.ids[id]
}

// prune forgets containers that no longer exist.
func (r *readyMemory) prune(alive map[string]bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for id := range r.ids {
		if !alive[id] {
			delete(r.ids, id)
		}
	}
}

// runMemory keeps, per Environment, what plan.RememberRuns made of the
// status the last reconcile computed: restart history at Docker's
// precision, which the stored status cannot hold. An Environment with
// nothing remembered (a restarted manager, a new incarnation) plans from
// its stored status.
type runMemory struct {
	mu    sync.Mutex
	byEnv map[string]rememberedRuns
}

type rememberedRuns struct {
	uid      types.UID
	services map[string]plan.ServiceMemory
}

func newRunMemory() *runMemory { return &runMemory{byEnv: map[string]rememberedRuns{}} }

// get returns env's remembered runs, or nil. The map is replaced, never
// changed, by remember, so callers may keep it.
func (r *runMemory) get(env *v1alpha1.Environment) map[string]plan.ServiceMemory {
	r.mu.Lock()
	defer r.mu.Unlock()
	if got, ok := r.byEnv[env.Name]; ok && got.uid == env.UID {
		return got.services
	}
	return nil
}

func (r *runMemory) remember(env *v1alpha1.Environment, services map[string]plan.ServiceMemory) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.byEnv[env.Name] = rememberedRuns{uid: env.UID, services: services}
}

func (r *runMemory) forget(env string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	delete(r.byEnv, env)
}

// staleGuard notices a plan that repeats right after it succeeded: the
// sign of a cache that missed events. Every op is idempotent, so the only
// harm is a loop of no-op calls; the guard's relist ends it.
type staleGuard struct {
	mu   sync.Mutex
	last map[string]string
}

func newStaleGuard() *staleGuard { return &staleGuard{last: map[string]string{}} }

// repeated records env's executed plan and reports whether it equals the
// previous one.
func (g *staleGuard) repeated(env string, p plan.Plan) bool {
	sig := ""
	if !p.Empty() {
		sig = strings.Join(p.Strings(), ";")
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	prev := g.last[env]
	if sig == "" {
		delete(g.last, env)
		return false
	}
	g.last[env] = sig
	return prev == sig
}

func (g *staleGuard) forget(env string) {
	g.mu.Lock()
	defer g.mu.Unlock()
	delete(g.last, env)
}
