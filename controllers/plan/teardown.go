package plan

import (
	"cmp"
	"fmt"
	"slices"
	"strings"

	"berth.dev/berth/apis/v1alpha1"
)

// Teardown is the plan that removes everything of env's: every container of
// berth's, dependents first, each stopped with its service's grace period;
// then the network; then the volumes, unless spec.teardown.retainVolumes.
// Containers of an earlier incarnation and of services no longer in the
// spec go too (first: nothing is known to depend on them). Objects this
// manager does not own are never included. An empty plan means teardown is
// complete and the finalizer may go; LeftNetwork then names a network the
// daemon would not remove (see teardownNetwork).
func Teardown(env *v1alpha1.Environment, obs Observed, opts Options) Plan {
	p := Plan{Teardown: true}
	if env == nil {
		return p
	}
	opts = opts.withDefaults()

	specs := map[string]*v1alpha1.Service{}
	for i := range env.Spec.Services {
		specs[env.Spec.Services[i].Name] = &env.Spec.Services[i]
	}
	byService := map[string][]ObservedContainer{}
	var extras []ObservedContainer
	removing := false
	for _, c := range sortedContainers(obs.Containers) {
		switch {
		case !ownedBy(c.Labels, env.Name, opts):
			continue
		case c.State == StateRemoving:
			removing = true
		case specs[c.service()] != nil:
			byService[c.service()] = append(byService[c.service()], c)
		default:
			extras = append(extras, c)
		}
	}

	var all []int
	for _, c := range extras {
		all = append(all, p.add(removeOp(env.Name, c, nil, RemoveTeardown, "tear down")))
	}
	// Each service waits for the removal of the services that depend on it.
	removed := map[string][]int{}
	dependents := map[string][]string{}
	for _, s := range env.Spec.Services {
		for _, d := range s.DependsOn {
			dependents[d.Service] = append(dependents[d.Service], s.Name)
		}
	}
	rev, _ := ReverseOrder(env.Spec.Services)
	for _, name := range rev {
		var needs []int
		for _, d := range dependents[name] {
			needs = append(needs, removed[d]...)
		}
		for _, c := range byService[name] {
			op := removeOp(env.Name, c, specs[name], RemoveTeardown, "tear down")
			op.Needs = sortedNeeds(needs)
			i := p.add(op)
			removed[name] = append(removed[name], i)
			all = append(all, i)
		}
	}

	if removing {
		// Docker is still removing a container; the network and volumes
		// would refuse to go until it is done, and its event re-enqueues.
		p.RequeueAfter = opts.WaitPoll
		return p
	}
	if n := obs.Network; n != nil && ownedBy(n.Labels, env.Name, opts) {
		teardownNetwork(&p, env, *n, obs.NetworkRemoval, all)
	}
	// Then those of spec.networks, each the same graceful way.
	nets := make([]ObservedNetwork, 0, len(obs.Networks))
	for name, n := range obs.Networks {
		n.Name = cmp.Or(n.Name, name)
		nets = append(nets, n)
	}
	slices.SortFunc(nets, func(a, b ObservedNetwork) int { return cmp.Compare(a.Name, b.Name) })
	for _, n := range nets {
		if ownedBy(n.Labels, env.Name, opts) {
			teardownNetwork(&p, env, n, obs.NetworkRemoval, all)
		}
	}
	// The Environment's networks under other names (an older berth's) or
	// of an earlier incarnation go too: nothing of its may be left behind.
	for _, n := range obs.OtherNetworks {
		if ownedBy(n.Labels, env.Name, opts) {
			p.add(Op{Kind: OpRemoveNetwork, Environment: env.Name, Network: n.Name, NetworkID: n.ID, Cached: cachedNetwork(n),
				Needs: sortedNeeds(all), Reason: "tear down: remove network " + n.Name})
		}
	}
	if env.Spec.Teardown.RetainVolumes {
		return p
	}
	for _, v := range sortedVolumes(obs.Volumes) {
		if ownedBy(v.Labels, env.Name, opts) {
			p.add(Op{Kind: OpRemoveVolume, Environment: env.Name, Volume: v.Name,
				Needs: sortedNeeds(all), Reason: "tear down: remove volume " + v.Name})
		}
	}
	return p
}

// MaxNetworkRefusals is how many refused removals of a network for active
// endpoints a teardown takes before it finishes without the network, even
// if clearing stale endpoints never got to run.
const MaxNetworkRefusals = 3

// teardownNetwork plans the network's removal. The daemon can refuse it for
// good with "has active endpoints" while nothing is attached: stale
// endpoints in its own store (Docker 20.10's libnetwork; a daemon restart
// clears them). Once the containers are gone and a removal was refused,
// berth first clears the endpoints it can name (its own containers' names,
// which Docker deletes only on a forced disconnect, a removal of nothing
// but the daemon's record) and tries again; refused after that, or
// MaxNetworkRefusals times in all, teardown finishes without the network:
// a bridge holds no state, the orphan collector removes it once the daemon
// lets it, and an Environment of the same name adopts it meanwhile.
func teardownNetwork(p *Plan, env *v1alpha1.Environment, n ObservedNetwork, hist *NetworkRemoval, containers []int) {
	name := cmp.Or(n.Name, NetworkName(env.Name))
	remove := Op{Kind: OpRemoveNetwork, Environment: env.Name, Network: name, NetworkID: n.ID,
		Needs: sortedNeeds(containers), Reason: "tear down: remove network " + name}
	if hist == nil || hist.Refusals == 0 {
		// Refused before: the inspected path, which clears what it can.
		remove.Cached = cachedNetwork(n)
	}
	if hist == nil || hist.Refusals == 0 || len(containers) > 0 || (hist.NetworkID != "" && n.ID != "" && hist.NetworkID != n.ID) {
		// Nothing refused yet, or containers still to remove first (their
		// endpoints are live ones), or a different network.
		p.add(remove)
		return
	}
	if (hist.Disconnected && hist.RefusalsAfterDisconnect > 0) || hist.Refusals >= MaxNetworkRefusals {
		p.LeftNetwork = &LeftNetwork{Name: name, ID: n.ID, Refusals: hist.Refusals, Message: hist.Message}
		return
	}
	if !hist.Disconnected {
		endpoints := endpointNames(env, hist)
		remove.Needs = []int{p.add(Op{Kind: OpDisconnectStaleEndpoints, Environment: env.Name, Network: name, NetworkID: n.ID,
			Endpoints: endpoints,
			Reason: fmt.Sprintf("tear down: the daemon refused to remove network %s for active endpoints with no container left; "+
				"disconnecting the stale endpoints of this Environment's %d container names", name, len(endpoints))})}
		remove.Reason += " (after disconnecting stale endpoints)"
	}
	p.add(remove)
}

// endpointNames are the names of every container berth created for env
// that it knows of: the spec's and those it removed, sorted, no repeats.
func endpointNames(env *v1alpha1.Environment, hist *NetworkRemoval) []string {
	var out []string
	for _, s := range env.Spec.Services {
		out = append(out, ContainerName(env.Name, s.Name))
	}
	for _, c := range hist.Containers {
		out = append(out, strings.TrimPrefix(c, "/"))
	}
	slices.Sort(out)
	return slices.Compact(out)
}

// Inventory is every berth-labelled object the Docker informer knows, of
// all Environments.
type Inventory struct {
	Containers []ObservedContainer
	Networks   []ObservedNetwork
	Volumes    []ObservedVolume
}

// Orphans is the plan that removes this manager's objects whose Environment
// (by name) is not in environments: containers first, gracefully, then
// networks, then, with Options.CollectOrphanVolumes only, volumes (never
// one labelled berth.dev/retain: it was created to outlive its Environment). Objects
// of other managers and unlabelled objects are never included. A container
// of an existing Environment's earlier incarnation is left to that
// Environment's own Compute.
func Orphans(inv Inventory, environments map[string]bool, opts Options) Plan {
	opts = opts.withDefaults()
	p := Plan{Teardown: true}
	orphan := func(labels map[string]string) bool {
		return IsOwned(labels, opts.ManagerID) && !environments[labels[v1alpha1.LabelEnvironment]]
	}

	busy := map[string]bool{} // Environments with a container being removed
	removals := map[string][]int{}
	containers := sortedContainers(inv.Containers)
	slices.SortStableFunc(containers, func(a, b ObservedContainer) int {
		return cmp.Compare(a.Labels[v1alpha1.LabelEnvironment], b.Labels[v1alpha1.LabelEnvironment])
	})
	for _, c := range containers {
		if !orphan(c.Labels) {
			continue
		}
		env := c.Labels[v1alpha1.LabelEnvironment]
		if c.State == StateRemoving {
			busy[env] = true
			continue
		}
		reason := fmt.Sprintf("collect orphan: Environment %q no longer exists", env)
		removals[env] = append(removals[env], p.add(removeOp(env, c, nil, RemoveOrphan, reason)))
	}

	networks := slices.Clone(inv.Networks)
	slices.SortStableFunc(networks, func(a, b ObservedNetwork) int { return cmp.Compare(a.Name, b.Name) })
	for _, n := range networks {
		env := n.Labels[v1alpha1.LabelEnvironment]
		if !orphan(n.Labels) || busy[env] {
			continue
		}
		p.add(Op{Kind: OpRemoveNetwork, Environment: env, Network: n.Name, NetworkID: n.ID, Needs: removals[env], Cached: cachedNetwork(n),
			Reason: fmt.Sprintf("collect orphan network %s: Environment %q no longer exists", n.Name, env)})
	}
	if len(busy) > 0 {
		p.RequeueAfter = opts.WaitPoll
	}
	if !opts.CollectOrphanVolumes {
		return p
	}
	volumes := slices.Clone(inv.Volumes)
	slices.SortStableFunc(volumes, func(a, b ObservedVolume) int { return cmp.Compare(a.Name, b.Name) })
	for _, v := range volumes {
		env := v.Labels[v1alpha1.LabelEnvironment]
		if !orphan(v.Labels) || busy[env] || v.Labels[v1alpha1.LabelRetain] == "true" {
			continue
		}
		p.add(Op{Kind: OpRemoveVolume, Environment: env, Volume: v.Name, Needs: removals[env],
			Reason: fmt.Sprintf("collect orphan volume %s: Environment %q no longer exists", v.Name, env)})
	}
	return p
}

// removeOp is a graceful removal: the service's grace period when the spec
// has the service, else the container's own stop timeout.
func removeOp(env string, c ObservedContainer, svc *v1alpha1.Service, why RemoveReason, reason string) Op {
	grace := c.StopTimeout
	if svc != nil {
		grace = GracePeriod(svc)
	}
	if grace <= 0 {
		grace = DefaultGracePeriod
	}
	return Op{
		Kind: OpRemoveContainer, Environment: env, Service: c.service(),
		ContainerID: c.ID, ContainerName: c.name(), Grace: grace, RemoveReason: why, Cached: cachedContainer(c),
		Reason: fmt.Sprintf("%s: remove %s (grace %s)", reason, c.name(), grace),
	}
}

func sortedContainers(cs []ObservedContainer) []ObservedContainer {
	out := slices.Clone(cs)
	slices.SortStableFunc(out, func(a, b ObservedContainer) int {
		return cmp.Or(cmp.Compare(a.name(), b.name()), cmp.Compare(a.ID, b.ID))
	})
	return out
}

func sortedVolumes(vs map[string]ObservedVolume) []ObservedVolume {
	out := make([]ObservedVolume, 0, len(vs))
	for name, v := range vs {
		if v.Name == "" {
			v.Name = name
		}
		out = append(out, v)
	}
	slices.SortFunc(out, func(a, b ObservedVolume) int { return cmp.Compare(a.Name, b.Name) })
	return out
}
