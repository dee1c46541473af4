package plan

import (
	"fmt"

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
// ID, state, restarts) stays replica 0's. replicas/readyReplicas are set
// when the spec sets replicas, so a service that does not keeps its status.
func replicaStatus(f *serviceFacts, svc *v1alpha1.Service, containers []*ObservedContainer, cfgs []ContainerConfig, probes map[string]ProbeResult) {
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
		hash := replicaCfg(cfgs, i).Labels[v1alpha1.LabelSpecHash]
		if c != nil && hash != "" && c.specHash() == hash && containerReady(svc, c, probes) {
			ready++
		} else {
			notReady = append(notReady, i)
		}
		if c != nil {
			for _, p := range portStatus(svc, replicaCfg(cfgs, i), c) {
				p.Replica = int32(i)
				f.status.Ports = append(f.status.Ports, p)
			}
		}
	}
	f.status.Replicas, f.status.ReadyReplicas = int32(n), int32(ready)
	if ready < n && f.status.Ready {
		// Replica 0 is ready; the service is not until the others are.
		f.status.Ready = false
		f.probePending = true
		f.addMessage(fmt.Sprintf("%d/%d replicas ready (waiting for replica %v)", ready, n, notReady))
	}
}
