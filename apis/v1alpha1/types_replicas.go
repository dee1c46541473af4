package v1alpha1

import metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

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

// ReplicaStatus is one replica beyond replica 0 of a service (replica 0 is
// the service's status itself): what berth observed of its container and
// the restart history its crash-loop back-off continues from.
type ReplicaStatus struct {
	Replica int32 `json:"replica"`
	// +optional
	ContainerID string `json:"containerID,omitempty"`
	// +optional
	State string `json:"state,omitempty"`
	// +optional
	Ready bool `json:"ready"`
	// +optional
	RestartCount int32 `json:"restartCount"`
	// +optional
	LastExitCode *int32 `json:"lastExitCode,omitempty"`
	// +optional
	StartedAt *metav1.Time `json:"startedAt,omitempty"`
	// +optional
	RestartStreak int32 `json:"restartStreak,omitempty"`
	// +optional
	LastCrashTime *metav1.Time `json:"lastCrashTime,omitempty"`
}
