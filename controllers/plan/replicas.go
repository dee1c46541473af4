package plan

import (
	"cmp"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"

	"berth.dev/berth/apis/v1alpha1"
)

// service.replicas runs N containers of one service. Each replica is
// converged like a service of its own (created, started, restarted,
// recreated on drift), while the service name stays the unit of the spec:
// dependencies, waits and status are the service's, and it is Ready when
// every replica is. Replica 0 is the service's container as it always was
// (same name, same hash), so a service that gains replicas keeps it; the
// replica count is not hashed, so scaling touches only the replicas it
// adds or removes.

// RemoveScaledDown is the removal of a replica the spec no longer asks for.
const RemoveScaledDown RemoveReason = "ScaledDown"

// ReplicaConfig is replica i's container config: cfg (replica 0's) under
// the replica's name, labelled with its index. Its hash differs from
// replica 0's only by the name, so every replica of a service changes
// together when the spec does.
func ReplicaConfig(env *v1alpha1.Environment, svc *v1alpha1.Service, cfg ContainerConfig, i int) ContainerConfig {
	cfg.Labels = maps.Clone(cfg.Labels)
	if cfg.Labels == nil {
		cfg.Labels = map[string]string{}
	}
	// Labels are not hashed: replica 0 keeps the hash of a container
	// created before replicas existed, which has no replica label.
	cfg.Labels[v1alpha1.LabelReplica] = strconv.Itoa(i)
	if i == 0 {
		return cfg
	}
	cfg.Name = v1alpha1.ReplicaContainerName(env.Name, svc.Name, i)
	cfg.Labels[v1alpha1.LabelSpecHash] = SpecHash(cfg)
	return cfg
}

// replicaConfigs are the configs of every replica of svc, from replica 0's.
func replicaConfigs(env *v1alpha1.Environment, svc *v1alpha1.Service, cfg ContainerConfig) []ContainerConfig {
	out := make([]ContainerConfig, svc.ReplicaCount())
	for i := range out {
		out[i] = ReplicaConfig(env, svc, cfg, i)
	}
	return out
}

// replicaHashes are the spec hashes of cfgs, in replica order.
func replicaHashes(cfgs []ContainerConfig) []string {
	out := make([]string, len(cfgs))
	for i, c := range cfgs {
		out[i] = c.Labels[v1alpha1.LabelSpecHash]
	}
	return out
}

// replicaIndex is the replica a container of berth's is: its label, 0 when
// it has none (a container from before replicas existed). ok is false for
// a label berth never writes.
func replicaIndex(c ObservedContainer) (int, bool) {
	l, has := c.Labels[v1alpha1.LabelReplica]
	if !has {
		return 0, true
	}
	i, err := strconv.Atoi(l)
	if err != nil || i < 0 || strconv.Itoa(i) != l {
		return 0, false
	}
	return i, true
}

// replicaRemovals orders scale-down removals highest index first (the
// newest replicas go first, as they were added last), chaining each after
// the one before so the service shrinks one container at a time.
func sortScaleDown(rs []removal) {
	slices.SortStableFunc(rs, func(a, b removal) int {
		return cmp.Or(cmp.Compare(a.service, b.service), cmp.Compare(b.replica, a.replica), cmp.Compare(a.c.ID, b.c.ID))
	})
}

func scaleDownMessage(c ObservedContainer, svc string, i, n int) string {
	return fmt.Sprintf("remove %s: replica %d of service %q is beyond replicas %d", c.name(), i, svc, n)
}

// label names st in ops' reasons: the service for replica 0, as before
// replicas existed, else the service and the replica.
func (st *serviceState) label() string {
	if st.replica == 0 {
		return st.svc.Name
	}
	return fmt.Sprintf("%s replica %d", st.svc.Name, st.replica)
}

// memoryOf is the status memory of st's container. The status keeps one
// per service, for replica 0 (the service's containerID); the other
// replicas are counted from their containers alone.
func (b *builder) memoryOf(st *serviceState) ServiceMemory {
	return b.memory[replicaMemoryKey(st.svc.Name, st.replica)]
}

// replicaMemoryKey is the key of replica i's memory: the service name for
// replica 0 (as before replicas), else service/i, which no service name
// (a DNS label) can be.
func replicaMemoryKey(service string, i int) string {
	if i == 0 {
		return service
	}
	return service + "/" + strconv.Itoa(i)
}

// replicaMemory adds the memory of s's replicas beyond 0 to out.
func replicaMemory(out map[string]ServiceMemory, s v1alpha1.ServiceStatus) {
	for _, r := range s.ReplicaStatuses {
		if r.Replica < 1 {
			continue
		}
		m := ServiceMemory{ContainerID: r.ContainerID, RestartCount: r.RestartCount, RestartStreak: max(r.RestartStreak, 0)}
		if r.StartedAt != nil {
			m.StartedAt = r.StartedAt.Time
		}
		if r.LastCrashTime != nil {
			m.LastCrashTime = r.LastCrashTime.Time
		}
		if r.LastExitCode != nil {
			code := *r.LastExitCode
			m.LastExitCode = &code
		}
		out[replicaMemoryKey(s.Name, int(r.Replica))] = m
	}
}

// replicaMemoryByID finds the memory of the replica of service whose
// container is id.
func replicaMemoryByID(memory map[string]ServiceMemory, service, id string) (string, ServiceMemory, bool) {
	prefix := service + "/"
	for k, m := range memory {
		if strings.HasPrefix(k, prefix) && m.ContainerID == id {
			return k, m, true
		}
	}
	return "", ServiceMemory{}, false
}

// serviceView is what dependents may assume of a service: what holds for
// every one of its replicas. Started is met once each replica is running,
// completed or started by this plan (a dependent waits for those starts).
func (b *builder) serviceView(units []*serviceState) depView {
	v := depView{running: true, completed: true, ready: true, started: true}
	for _, st := range units {
		u := b.view(st)
		v.running = v.running && u.running
		v.completed = v.completed && u.completed
		v.ready = v.ready && u.ready
		switch {
		case u.running || u.completed:
		case u.started:
			v.startOps = append(v.startOps, u.startOps...)
		default:
			v.started = false
		}
	}
	if !v.started {
		v.startOps = nil
	}
	return v
}

// ProbeKey names the probe of a container of berth's with these labels:
// its service for replica 0, service/i for replica i, so every replica of a
// service is probed on its own (the probe manager keeps one probe per key).
func ProbeKey(labels map[string]string) string {
	svc := labels[v1alpha1.LabelService]
	i, ok := replicaIndex(ObservedContainer{Labels: labels})
	if !ok {
		return svc
	}
	return replicaMemoryKey(svc, i)
}
