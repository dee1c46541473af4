package plan

import (
	"cmp"
	"fmt"
	"slices"

	"berth.dev/berth/apis/v1alpha1"
)

// Upgrades from the older naming (berth-<env>, berth-<env>-<name>, which
// could collide between Environments) to the injective one (berth_<env>,
// berth_<env>_<name>), and objects of an earlier incarnation, follow one
// policy, decided by labels and never by names:
//
//   - Volumes hold data, so they are adopted: a spec volume is mounted from
//     the volume labelled with this Environment and that volume's name,
//     whatever the volume is called (an older berth's berth-<env>-<volume>,
//     recognised by name only together with the Environment label, since
//     that berth did not label the volume name). Nothing is copied or
//     renamed; the volume keeps its old name until the Environment is
//     deleted.
//   - Containers are replaced: their name, network and mounts are part of
//     the spec hash, so one under an old name no longer matches and is
//     recreated like any changed container (stopped with its grace period,
//     removed without force, created under the new name). A completed
//     one-shot job runs again.
//   - Networks hold no state, so the new one is created under the new name
//     and an old one is drained: removed once every container on it is
//     being removed by the same plan. Until then it stays, and the
//     Environment's teardown removes it with the rest.
//
// A network under the current name that is labelled for an earlier
// incarnation is not adopted either: it is removed once its (stale)
// containers are, and created anew.

// resolveVolumes maps each spec volume to the Docker volume its mounts
// use: the deterministic name when a volume of that name exists or none of
// this Environment's is found, else the Environment's own volume under
// another name.
func resolveVolumes(env *v1alpha1.Environment, obs Observed, opts Options) map[string]string {
	out := make(map[string]string, len(env.Spec.Volumes))
	names := make([]string, 0, len(obs.Volumes))
	for name := range obs.Volumes {
		names = append(names, name)
	}
	slices.Sort(names)
	for _, v := range env.Spec.Volumes {
		if !v.IsDockerVolume() {
			continue // a host path or tmpfs: no Docker volume to find
		}
		want := VolumeName(env.Name, v.Name)
		out[v.Name] = want
		if _, ok := obs.Volumes[want]; ok {
			continue // adopted or a conflict: ensureVolumes decides
		}
		best, bestRank := "", 2
		for _, name := range names {
			ov := obs.Volumes[name]
			if ov.Name == "" {
				ov.Name = name
			}
			if !ownedBy(ov.Labels, env.Name, opts) || !volumeOf(ov, env.Name, v.Name) {
				continue
			}
			// One labelled with the volume name beats one known by its
			// legacy name only.
			rank := 1
			if ov.Labels[v1alpha1.LabelVolume] == v.Name {
				rank = 0
			}
			if rank < bestRank {
				best, bestRank = ov.Name, rank
			}
		}
		if best != "" {
			out[v.Name] = best
		}
	}
	return out
}

// volumeOf reports whether an Environment's volume ov is its volume named
// volume: by the volume label, or, for a volume an older berth created
// without that label, by the name it would have been given.
func volumeOf(ov ObservedVolume, env, volume string) bool {
	switch ov.Labels[v1alpha1.LabelVolume] {
	case volume:
		return true
	case "":
		return ov.Name == VolumeName(env, volume) || ov.Name == v1alpha1.LegacyVolumeName(env, volume)
	}
	return false
}

// remount points cfg's mounts at the Docker volumes resolveVolumes chose
// and rehashes it, so a container mounting an adopted volume matches.
func remount(env *v1alpha1.Environment, cfg ContainerConfig, volumeNames map[string]string) ContainerConfig {
	rename := map[string]string{}
	for spec, docker := range volumeNames {
		if def := VolumeName(env.Name, spec); docker != def {
			rename[def] = docker
		}
	}
	if len(rename) == 0 {
		return cfg
	}
	changed := false
	mounts := slices.Clone(cfg.Mounts)
	for i, m := range mounts {
		if to, ok := rename[m.Volume]; ok {
			mounts[i].Volume, changed = to, true
		}
	}
	if !changed {
		return cfg
	}
	cfg.Mounts = mounts
	labels := make(map[string]string, len(cfg.Labels))
	for k, v := range cfg.Labels {
		labels[k] = v
	}
	cfg.Labels = labels
	cfg.Labels[v1alpha1.LabelSpecHash] = SpecHash(cfg)
	return cfg
}

// removalOps maps container IDs to the ops of this plan that remove them.
func (b *builder) removalOps() map[string]int {
	out := map[string]int{}
	for i, op := range b.plan.Ops {
		if op.Kind == OpRemoveContainer && op.ContainerID != "" {
			out[op.ContainerID] = i
		}
	}
	return out
}

// drainNeeds is what removing n must wait for: the removals of every
// container on it. ok is false while a container this plan keeps is
// attached.
func (b *builder) drainNeeds(n ObservedNetwork) (needs []int, blocker string, ok bool) {
	removals := b.removalOps()
	for _, id := range n.Attached {
		i, found := removals[id]
		if !found {
			return nil, id, false
		}
		needs = append(needs, i)
	}
	return sortedNeeds(needs), "", true
}

// replaceNetwork removes n, a network under this Environment's name that is
// labelled for an earlier incarnation, and creates the Environment's own.
func (b *builder) replaceNetwork(n ObservedNetwork) {
	name := n.Name
	needs, blocker, ok := b.drainNeeds(n)
	if !ok {
		b.networkConflicts[name] = fmt.Sprintf("network %s belongs to an earlier Environment %s (uid %s) and container %s is still attached; waiting for it to go",
			name, b.env.Name, n.Labels[v1alpha1.LabelEnvironmentUID], shortID(blocker))
		return
	}
	rm := b.plan.add(Op{Kind: OpRemoveNetwork, Environment: b.env.Name, Network: n.Name, NetworkID: n.ID, Needs: needs,
		Reason: fmt.Sprintf("remove network %s of an earlier Environment %s (uid %s)", name, b.env.Name, n.Labels[v1alpha1.LabelEnvironmentUID])})
	b.networkOps[name] = b.plan.add(Op{
		Kind: OpEnsureNetwork, Reason: "create network " + name, Environment: b.env.Name,
		Network: name, Labels: EnvironmentLabels(b.env, b.opts), Needs: []int{rm},
	})
}

// drainOtherNetworks removes the Environment's networks under other names
// once nothing this plan keeps is attached to them.
func (b *builder) drainOtherNetworks() {
	others := append(slices.Clone(b.obs.OtherNetworks), b.drain...)
	slices.SortFunc(others, func(a, c ObservedNetwork) int { return cmp.Or(cmp.Compare(a.Name, c.Name), cmp.Compare(a.ID, c.ID)) })
	for _, n := range others {
		if !ownedBy(n.Labels, b.env.Name, b.opts) {
			continue
		}
		needs, _, ok := b.drainNeeds(n)
		if !ok {
			continue // a later plan, once its containers are replaced
		}
		b.plan.add(Op{Kind: OpRemoveNetwork, Environment: b.env.Name, Network: n.Name, NetworkID: n.ID, Needs: needs,
			Reason: fmt.Sprintf("remove network %s: Environment %s no longer uses it", n.Name, b.env.Name)})
	}
}
