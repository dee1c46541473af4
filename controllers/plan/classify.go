package plan

import (
	"cmp"
	"fmt"
	"slices"

	"berth.dev/berth/apis/v1alpha1"
)

// removal is a container that must go before the spec can hold.
type removal struct {
	c       ObservedContainer
	service string // the service label, which may not be in the spec
	reason  RemoveReason
	message string
	replica int // for RemoveScaledDown
}

// classification sorts the observed containers of one Environment out.
type classification struct {
	// primary is the container each spec service is converged through:
	// its replica 0.
	primary map[string]*ObservedContainer
	// replicas are each spec service's containers by replica index (nil
	// where a replica has none); replicas[svc][0] is primary[svc].
	replicas map[string][]*ObservedContainer
	// scaledDown are replicas beyond the spec's count, highest index
	// first within a service.
	scaledDown []removal
	// removals are containers of berth's that have no place in the spec:
	// old incarnations, removed services, duplicates. In name order.
	removals []removal
	// conflicts are the container names of spec services' replicas held
	// by a container this manager does not own (or owns for another
	// Environment): berth never touches it, so the replica is blocked.
	conflicts map[string]string
	// removing are the container names of spec services' replicas held by
	// a container Docker is removing.
	removing map[string]bool
}

// classify decides, for every observed container, whether it is a
// service's primary, something to remove, a conflict, or none of berth's
// business. desiredHash is by service, then replica; a missing entry
// prefers no hash.
func classify(env *v1alpha1.Environment, containers []ObservedContainer, desiredHash map[string][]string, opts Options) classification {
	cl := classification{
		primary:   map[string]*ObservedContainer{},
		replicas:  map[string][]*ObservedContainer{},
		conflicts: map[string]string{},
		removing:  map[string]bool{},
	}
	byName := map[string]string{} // container name → spec service
	inSpec := map[string]bool{}
	for _, s := range env.Spec.Services {
		for i := range s.ReplicaCount() {
			byName[v1alpha1.ReplicaContainerName(env.Name, s.Name, i)] = s.Name
		}
		inSpec[s.Name] = true
	}

	sorted := slices.Clone(containers)
	slices.SortStableFunc(sorted, func(a, b ObservedContainer) int {
		return cmp.Or(cmp.Compare(a.name(), b.name()), cmp.Compare(a.ID, b.ID))
	})

	candidates := map[string][]ObservedContainer{}
	for _, c := range sorted {
		if !ownedBy(c.Labels, env.Name, opts) {
			if _, ok := byName[c.name()]; ok {
				cl.conflicts[c.name()] = fmt.Sprintf("container %s exists and is not managed by this berth for Environment %s; berth never touches it", c.name(), env.Name)
			}
			continue
		}
		if c.State == StateRemoving {
			if _, ok := byName[c.name()]; ok {
				cl.removing[c.name()] = true
			}
			continue
		}
		svc := c.service()
		switch {
		case env.UID != "" && c.Labels[v1alpha1.LabelEnvironmentUID] != string(env.UID):
			cl.removals = append(cl.removals, removal{c: c, service: svc, reason: RemoveStaleIncarnation,
				message: fmt.Sprintf("remove %s: it belongs to an earlier Environment %s (uid %s)", c.name(), env.Name, c.Labels[v1alpha1.LabelEnvironmentUID])})
		case !inSpec[svc]:
			cl.removals = append(cl.removals, removal{c: c, service: svc, reason: RemoveServiceRemoved,
				message: fmt.Sprintf("remove %s: service %q is no longer in the spec", c.name(), svc)})
		default:
			candidates[svc] = append(candidates[svc], c)
		}
	}

	for _, s := range env.Spec.Services {
		n := s.ReplicaCount()
		byReplica := make([][]ObservedContainer, n)
		for _, c := range candidates[s.Name] {
			i, ok := replicaIndex(c)
			switch {
			case !ok:
				cl.removals = append(cl.removals, removal{c: c, service: s.Name, reason: RemoveDuplicate,
					message: fmt.Sprintf("remove %s (%s): its replica label %q is not one berth writes", c.name(), shortID(c.ID), c.Labels[v1alpha1.LabelReplica])})
			case i >= n:
				cl.scaledDown = append(cl.scaledDown, removal{c: c, service: s.Name, reason: RemoveScaledDown, replica: i,
					message: scaleDownMessage(c, s.Name, i, n)})
			default:
				byReplica[i] = append(byReplica[i], c)
			}
		}
		cl.replicas[s.Name] = make([]*ObservedContainer, n)
		for i, cands := range byReplica {
			if len(cands) == 0 {
				continue
			}
			name, hash := v1alpha1.ReplicaContainerName(env.Name, s.Name, i), ""
			if hs := desiredHash[s.Name]; i < len(hs) {
				hash = hs[i]
			}
			slices.SortStableFunc(cands, func(a, b ObservedContainer) int {
				return cmp.Or(
					preferTrue(a.name() == name, b.name() == name),
					preferTrue(hash != "" && a.specHash() == hash, hash != "" && b.specHash() == hash),
					preferTrue(a.running(), b.running()),
					cmp.Compare(a.ID, b.ID),
				)
			})
			first := cands[0]
			cl.replicas[s.Name][i] = &first
			if i == 0 {
				cl.primary[s.Name] = &first
			}
			for _, c := range cands[1:] {
				cl.removals = append(cl.removals, removal{c: c, service: s.Name, reason: RemoveDuplicate,
					message: fmt.Sprintf("remove %s (%s): duplicate container of service %q, keeping %s", c.name(), shortID(c.ID), s.Name, shortID(first.ID))})
			}
		}
	}
	sortScaleDown(cl.scaledDown)
	slices.SortStableFunc(cl.removals, func(a, b removal) int {
		return cmp.Or(cmp.Compare(a.c.name(), b.c.name()), cmp.Compare(a.c.ID, b.c.ID))
	})
	return cl
}

// preferTrue orders true before false.
func preferTrue(a, b bool) int {
	switch {
	case a == b:
		return 0
	case a:
		return -1
	}
	return 1
}

// shortID is the 12-character form Docker prints.
func shortID(id string) string {
	if len(id) > 12 {
		return id[:12]
	}
	return id
}

// shortHash keeps events readable; the full hash is in the label.
func shortHash(h string) string {
	if h == "" {
		return "none"
	}
	if len(h) > 8 {
		return h[:8]
	}
	return h
}
