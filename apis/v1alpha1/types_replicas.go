package v1alpha1

// MaxReplicas bounds service.replicas: berth runs on one Docker engine, and
// a typo (500 for 5) should fail at apply time, not fill the host.
const MaxReplicas = 50

// ReplicaCount is the number of containers the service runs: replicas, or 1
// when unset. Validation keeps it in 1..MaxReplicas.
func (s *Service) ReplicaCount() int {
	if s == nil || s.Replicas == nil || *s.Replicas < 1 {
		return 1
	}
	return int(*s.Replicas)
}
