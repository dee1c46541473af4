package plan

import (
	"fmt"
	"time"

	"berth.dev/berth/apis/v1alpha1"
)

// replicaCfg is cfgs[i], or the zero config when the service has none (its
// config could not be built).
func replicaCfg(cfgs []ContainerConfig, i int) ContainerConfig {
	if i < len(cfgs) {
		return cfgs[i]
	}
	return ContainerConfig{}
}

// replicaStatus folds the replicas beyond replica 0 into the service's
// status: the service is Ready only when every replica is (each running a
// current container and passing its own probe), and the ports list every
// replica's bindings, replica 0's first. The rest of the status (container
// ID, state, restarts) stays replica 0's; each other replica's is in
// replicaStatuses, which also carries its restart history between
// reconciles. All of it is set when the spec sets replicas, so a service
// that does not keeps its status.
func replicaStatus(f *serviceFacts, svc *v1alpha1.Service, containers []*ObservedContainer, cfgs []ContainerConfig,
	memory map[string]ServiceMemory, obs Observed, opts Options, now time.Time) {
	if svc.Replicas == nil {
		return
	}
	n := svc.ReplicaCount()
	ready := 0
	if f.status.Ready {
		ready = 1
	}
	var notReady []int
	for i := 1; i < n; i++ {
		var c *ObservedContainer
		if i < len(containers) {
			c = containers[i]
		}
		rf := serviceFacts{status: v1alpha1.ServiceStatus{Name: svc.Name}}
		m := memory[replicaMemoryKey(svc.Name, i)]
		if c == nil {
			describeAbsent(&rf, m, ObservedImage{})
		} else {
			describeContainer(&rf, svc, c, m, obs, opts.Backoff, now)
			hash := replicaCfg(cfgs, i).Labels[v1alpha1.LabelSpecHash]
			rf.status.Ready = rf.status.Ready && hash != "" && c.specHash() == hash
			for _, p := range portStatus(svc, replicaCfg(cfgs, i), c) {
				p.Replica = int32(i)
				f.status.Ports = append(f.status.Ports, p)
			}
		}
		rs := rf.status
		f.status.ReplicaStatuses = append(f.status.ReplicaStatuses, v1alpha1.ReplicaStatus{
			Replica: int32(i), ContainerID: rs.ContainerID, State: rs.State, Ready: rs.Ready,
			RestartCount: rs.RestartCount, LastExitCode: rs.LastExitCode, StartedAt: rs.StartedAt,
			RestartStreak: rs.RestartStreak, LastCrashTime: rs.LastCrashTime,
		})
		if rs.Ready {
			ready++
		} else {
			notReady = append(notReady, i)
		}
		f.crashLoop = f.crashLoop || rf.crashLoop
		f.failed = f.failed || rf.failed
	}
	f.status.Replicas, f.status.ReadyReplicas = int32(n), int32(ready)
	if ready < n && f.status.Ready {
		// Replica 0 is ready; the service is not until the others are.
		f.status.Ready = false
		f.probePending = true
		f.addMessage(fmt.Sprintf("%d/%d replicas ready (waiting for replica %v)", ready, n, notReady))
	}
}
