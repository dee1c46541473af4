package plan

import (
	"cmp"
	"fmt"
	"slices"

	"berth.dev/berth/apis/v1alpha1"
)

// Several networks per Environment (spec.networks) and the services'
// subsets of them with aliases (service.networks).
//
// Docker API 1.41 creates a container on one network only, so a container
// is created on its primary network (the default network when it joins
// it, else the first by name) and joined to each other one by a
// ConnectNetwork op before its first start: single calls, like every op.
// A running container found missing from one of its networks (disconnected
// behind berth's back, or the network removed and re-created) is
// connected again the same way.

// NetworkAttachment is one network a container joins and its DNS names
// there besides the service name.
type NetworkAttachment struct {
	// Network is the Docker network name.
	Network string
	// Aliases are the spec's extra aliases, sorted; the service name is
	// always an alias too and is not repeated here.
	Aliases []string `json:",omitempty"`
}

// SpecNetworkNames maps the Docker names of env's networks to their spec
// names.
func SpecNetworkNames(env *v1alpha1.Environment) map[string]string {
	out := map[string]string{}
	for _, n := range v1alpha1.SpecNetworks(&env.Spec) {
		out[v1alpha1.SpecNetworkName(env.Name, n)] = n
	}
	return out
}

// buildNetworks sets cfg's network fields for svc. An Environment that
// lists no networks and a service that lists none keep today's config
// exactly (one network, no Networks field), so their spec hash does not
// move.
func buildNetworks(env *v1alpha1.Environment, svc *v1alpha1.Service, cfg *ContainerConfig) {
	cfg.Network = NetworkName(env.Name)
	cfg.NetworkAlias = svc.Name
	if len(env.Spec.Networks) == 0 && len(svc.Networks) == 0 {
		return
	}
	joined := v1alpha1.ServiceNetworks(&env.Spec, svc)
	var out []NetworkAttachment
	for name, aliases := range joined {
		a := NetworkAttachment{Network: v1alpha1.SpecNetworkName(env.Name, name), Aliases: slices.Clone(aliases)}
		slices.Sort(a.Aliases)
		a.Aliases = slices.Compact(a.Aliases)
		if len(a.Aliases) == 0 {
			a.Aliases = nil
		}
		out = append(out, a)
	}
	slices.SortFunc(out, func(a, b NetworkAttachment) int { return cmp.Compare(a.Network, b.Network) })
	if len(out) == 1 && out[0].Network == cfg.Network && len(out[0].Aliases) == 0 {
		// Only the default network, no aliases: today's container.
		return
	}
	cfg.Networks = out
	if _, ok := joined[v1alpha1.DefaultNetworkName]; !ok && len(out) > 0 {
		// The default network sorts first when joined (berth_<env> is a
		// prefix of the others), so out[0] is the primary either way.
		cfg.Network = out[0].Network
	}
}

// attachment is cfg's attachment to network, if it joins it.
func (cfg ContainerConfig) attachment(network string) (NetworkAttachment, bool) {
	for _, a := range cfg.Networks {
		if a.Network == network {
			return a, true
		}
	}
	return NetworkAttachment{}, false
}

// AliasesOn are the DNS aliases of cfg's container on network: the service
// name, then the spec's extra ones.
func (cfg ContainerConfig) AliasesOn(network string) []string {
	out := []string{cfg.NetworkAlias}
	if a, ok := cfg.attachment(network); ok {
		out = append(out, a.Aliases...)
	}
	return out
}

// secondaryNetworks are the networks cfg joins after its create.
func (cfg ContainerConfig) secondaryNetworks() []NetworkAttachment {
	var out []NetworkAttachment
	for _, a := range cfg.Networks {
		if a.Network != cfg.Network {
			out = append(out, a)
		}
	}
	return out
}

// ensureSpecNetworks plans the networks of spec.networks other than the
// default one, the way ensureNetwork plans the default one.
func (b *builder) ensureSpecNetworks() {
	names := SpecNetworkNames(b.env)
	def := NetworkName(b.env.Name)
	if _, ok := names[def]; !ok && b.obs.Network != nil {
		// The Environment lists networks without the default one: its
		// old network is drained like any network it no longer uses.
		b.drain = append(b.drain, *b.obs.Network)
	}
	var sorted []string
	for name := range names {
		if name != def {
			sorted = append(sorted, name)
		}
	}
	slices.Sort(sorted)
	for _, name := range sorted {
		var n *ObservedNetwork
		if on, ok := b.obs.Networks[name]; ok {
			n = &on
		}
		b.ensureNetworkNamed(name, n)
	}
}

// networkOpsFor are the Ensure ops of the networks cfg joins.
func (b *builder) networkOpsFor(cfg ContainerConfig) []int {
	var out []int
	if i, ok := b.networkOps[cfg.Network]; ok {
		out = append(out, i)
	}
	for _, a := range cfg.Networks {
		if i, ok := b.networkOps[a.Network]; ok {
			out = append(out, i)
		}
	}
	return sortedNeeds(out)
}

// networkConflictFor is the first conflict on a network cfg joins.
func (b *builder) networkConflictFor(cfg ContainerConfig) string {
	if m := b.networkConflicts[cfg.Network]; m != "" {
		return m
	}
	for _, a := range cfg.Networks {
		if m := b.networkConflicts[a.Network]; m != "" {
			return m
		}
	}
	return ""
}

// connectOps joins a new (or created, not yet started) container to its
// secondary networks; the executor treats an existing attachment as done.
func (b *builder) connectOps(st *serviceState, containerID string, needs []int) []int {
	var out []int
	for _, a := range st.cfg.secondaryNetworks() {
		n := slices.Clone(needs)
		if i, ok := b.networkOps[a.Network]; ok {
			n = append(n, i)
		}
		out = append(out, b.plan.add(Op{
			Kind: OpConnectNetwork, Environment: b.env.Name, Service: st.svc.Name,
			ContainerID: containerID, ContainerName: st.cfg.Name,
			Network: a.Network, Aliases: st.cfg.AliasesOn(a.Network), Needs: sortedNeeds(n),
			Reason: fmt.Sprintf("connect %s to network %s", st.cfg.Name, a.Network),
		}))
	}
	return out
}

// repairAttachments reconnects a running container that is missing from
// one of its networks. Only services with a Networks list are checked: the
// network's attached containers are what the informer saw, and a running
// container is listed on every network it is on.
func (b *builder) repairAttachments(st *serviceState) {
	c := st.primary
	if c == nil || !c.running() || len(st.cfg.Networks) == 0 || b.networkConflictFor(st.cfg) != "" {
		return
	}
	for _, a := range st.cfg.Networks {
		var needs []int
		if i, ok := b.networkOps[a.Network]; ok {
			needs = []int{i}
		} else {
			n, ok := b.observedNetwork(a.Network)
			if !ok || slices.Contains(n.Attached, c.ID) {
				continue
			}
		}
		b.plan.add(Op{
			Kind: OpConnectNetwork, Environment: b.env.Name, Service: st.svc.Name,
			ContainerID: c.ID, ContainerName: c.name(),
			Network: a.Network, Aliases: st.cfg.AliasesOn(a.Network), Needs: needs,
			Reason: fmt.Sprintf("reconnect %s to network %s: it is not attached", c.name(), a.Network),
		})
	}
}

// observedNetwork is the Environment's own observed network of that name.
func (b *builder) observedNetwork(name string) (ObservedNetwork, bool) {
	if name == NetworkName(b.env.Name) {
		if b.obs.Network == nil {
			return ObservedNetwork{}, false
		}
		return *b.obs.Network, true
	}
	n, ok := b.obs.Networks[name]
	return n, ok
}

// ProbeNetworks are the Docker networks whose address of a container of
// env a probe may use, in order of preference: the default network, then
// the others by name. A container on several gets the same probe verdict
// on any of them; one not on the default network has no address there.
func ProbeNetworks(env *v1alpha1.Environment) []string {
	names := SpecNetworkNames(env)
	def := NetworkName(env.Name)
	out := []string{def}
	var rest []string
	for n := range names {
		if n != def {
			rest = append(rest, n)
		}
	}
	slices.Sort(rest)
	return append(out, rest...)
}
