package plan

import (
	"fmt"
	"time"

	"berth.dev/berth/apis/v1alpha1"
)

// Compute is the next plan for env given what was observed at now. It is
// pure and deterministic: the same arguments give the same plan, and
// running Compute again after executing any prefix of the plan gives the
// rest of it. A converged Environment gets an empty plan.
//
// Order: removals of containers that have no place in the spec; the
// network; the volumes; image pulls; then each service in dependency order
// (recreate, create, start, restart). An Environment being deleted gets its
// Teardown plan instead.
func Compute(env *v1alpha1.Environment, obs Observed, opts Options, now time.Time) Plan {
	if env == nil {
		return Plan{}
	}
	opts = opts.withDefaults()
	if env.DeletionTimestamp != nil {
		return Teardown(env, obs, opts)
	}
	b := newBuilder(env, obs, opts, now)
	b.removeExtras()
	b.ensureNetwork()
	b.ensureSpecNetworks()
	b.ensureVolumes()
	b.decideServices()
	b.pullImages()
	b.emitServices()
	b.drainOtherNetworks()
	b.checkTTL()
	return b.plan
}

// builder carries one Compute's working state.
type builder struct {
	env    *v1alpha1.Environment
	obs    Observed
	opts   Options
	now    time.Time
	plan   Plan
	memory map[string]ServiceMemory
	cl     classification
	order  []string
	states map[string]*serviceState // replica 0 of each service
	// replicas are every replica's state by service, replicas[svc][0]
	// being states[svc].
	replicas map[string][]*serviceState

	networkOps       map[string]int    // Docker network name → its Ensure op
	networkConflicts map[string]string // Docker network name → why berth cannot use it
	drain            []ObservedNetwork // networks of the Environment it no longer lists
	volumeNames      map[string]string // spec volume → Docker volume it is mounted from
	volumeOps        map[string]int    // Docker volume name → EnsureVolume op
	volumeConflicts  map[string]string
	pullOps          map[string]int // image → PullImage op
	serviceRemovals  map[string][]int
	otherRemovals    []int
}

func newBuilder(env *v1alpha1.Environment, obs Observed, opts Options, now time.Time) *builder {
	b := &builder{
		env:              env,
		obs:              obs,
		opts:             opts,
		now:              now,
		memory:           memoryFor(obs, env.Status),
		states:           map[string]*serviceState{},
		replicas:         map[string][]*serviceState{},
		networkOps:       map[string]int{},
		networkConflicts: map[string]string{},
		volumeOps:        map[string]int{},
		volumeConflicts:  map[string]string{},
		pullOps:          map[string]int{},
		serviceRemovals:  map[string][]int{},
	}
	// A cycle is rejected by validation; Order still lists every service.
	b.order, _ = Order(env.Spec.Services)
	b.volumeNames = resolveVolumes(env, obs, opts)

	hashes := map[string][]string{}
	for i := range env.Spec.Services {
		svc := &env.Spec.Services[i]
		cfg, err := BuildContainerConfigHost(env, svc, opts, obs.Host)
		var cfgs []ContainerConfig
		if err == nil {
			cfgs = replicaConfigs(env, svc, remount(env, cfg, b.volumeNames))
			hashes[svc.Name] = replicaHashes(cfgs)
		}
		units := make([]*serviceState, svc.ReplicaCount())
		for r := range units {
			units[r] = &serviceState{svc: svc, startOp: -1, replica: r, cfgErr: err}
			if err == nil {
				units[r].cfg = cfgs[r]
			}
		}
		b.replicas[svc.Name] = units
		b.states[svc.Name] = units[0]
	}
	b.cl = classify(env, obs.Containers, hashes, opts)
	for name, units := range b.replicas {
		for r, st := range units {
			st.primary = b.cl.replicas[name][r]
		}
	}
	return b
}

// removeExtras removes what has no place in the spec first, which frees
// names, host ports and memory for what comes next.
func (b *builder) removeExtras() {
	for _, r := range b.cl.removals {
		var svc *v1alpha1.Service
		if st, ok := b.states[r.service]; ok {
			svc = st.svc
		}
		op := removeOp(b.env.Name, r.c, svc, r.reason, "")
		op.Reason = r.message
		i := b.plan.add(op)
		if svc != nil {
			b.serviceRemovals[r.service] = append(b.serviceRemovals[r.service], i)
		} else {
			b.otherRemovals = append(b.otherRemovals, i)
		}
	}
	// Replicas beyond the count: gracefully, highest index first, one
	// after the other within a service.
	prev := map[string]int{}
	for _, r := range b.cl.scaledDown {
		op := removeOp(b.env.Name, r.c, b.states[r.service].svc, r.reason, "")
		op.Reason = r.message
		if j, ok := prev[r.service]; ok {
			op.Needs = []int{j}
		}
		prev[r.service] = b.plan.add(op)
	}
}

func (b *builder) ensureNetwork() {
	name := NetworkName(b.env.Name)
	if _, ok := SpecNetworkNames(b.env)[name]; !ok {
		return // spec.networks leaves the default network out (ensureSpecNetworks drains it)
	}
	b.ensureNetworkNamed(name, b.obs.Network)
}

// ensureNetworkNamed plans the Environment's network name, observed as n
// (nil when absent).
func (b *builder) ensureNetworkNamed(name string, n *ObservedNetwork) {
	switch {
	case n == nil:
		b.networkOps[name] = b.plan.add(Op{
			Kind: OpEnsureNetwork, Reason: "create network " + name, Environment: b.env.Name,
			Network: name, Labels: EnvironmentLabels(b.env, b.opts),
		})
	case !ownedBy(n.Labels, b.env.Name, b.opts):
		b.networkConflicts[name] = fmt.Sprintf("network %s exists and is not managed by this berth for Environment %s; berth never touches it", name, b.env.Name)
	case b.env.UID != "" && n.Labels[v1alpha1.LabelEnvironmentUID] != string(b.env.UID) && !b.refusedForEndpoints(*n):
		// Not adopted: a new container would join a network labelled
		// for another incarnation. It is replaced once its containers
		// (removed as stale) are gone.
		b.replaceNetwork(*n)
	}
	// An earlier incarnation's network whose removal the daemon refused
	// for (stale) active endpoints is adopted: only a daemon restart frees
	// it, a bridge holds no state, and an Environment of the same name
	// must not wait for that restart.
}

// refusedForEndpoints reports whether the daemon refused to remove n for
// active endpoints (the reconciler's record of this incarnation).
func (b *builder) refusedForEndpoints(n ObservedNetwork) bool {
	r := b.obs.NetworkRemoval
	return r != nil && r.Refusals > 0 && r.NetworkID == n.ID
}

func (b *builder) ensureVolumes() {
	for _, v := range b.env.Spec.Volumes {
		if !v.IsDockerVolume() {
			continue // host paths and tmpfs are mounts, not Docker objects
		}
		name := b.volumeNames[v.Name]
		obsVol, exists := b.obs.Volumes[name]
		switch {
		case !exists:
			labels := EnvironmentLabels(b.env, b.opts)
			labels[v1alpha1.LabelVolume] = v.Name
			if b.env.Spec.Teardown.RetainVolumes {
				labels[v1alpha1.LabelRetain] = "true"
			}
			b.volumeOps[name] = b.plan.add(Op{
				Kind: OpEnsureVolume, Reason: "create volume " + name, Environment: b.env.Name,
				Volume: name, Labels: labels,
			})
		case !ownedBy(obsVol.Labels, b.env.Name, b.opts):
			b.volumeConflicts[name] = fmt.Sprintf("volume %s exists and is not managed by this berth for Environment %s; berth never touches it", name, b.env.Name)
		case !volumeOf(obsVol, b.env.Name, v.Name):
			b.volumeConflicts[name] = fmt.Sprintf("volume %s exists and is labelled as volume %q of Environment %s, not %q; berth never mounts it for another", name, obsVol.Labels[v1alpha1.LabelVolume], b.env.Name, v.Name)
		}
		// An owned volume is adopted whatever its incarnation: keeping data
		// across a delete and re-create is what retainVolumes is for.
	}
}

func (b *builder) checkTTL() {
	ttl, first := b.env.Spec.TTLSecondsAfterReady, b.env.Status.FirstReadyTime
	if ttl == nil || first == nil || *ttl < 0 {
		return
	}
	due := first.Add(time.Duration(*ttl) * time.Second)
	if !b.now.Before(due) {
		b.plan.TTLExpired = true
		return
	}
	b.plan.requeueAt(b.now, due)
}
