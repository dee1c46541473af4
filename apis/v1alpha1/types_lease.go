package v1alpha1

import (
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// Lease bounds what spec.lease may say.
const (
	// MinLeaseDurationSeconds keeps renewals (every third of the duration)
	// from turning into a stream of writes.
	MinLeaseDurationSeconds = 5
	// MaxLeaseDurationSeconds is a day: a holder that wants longer wants no
	// lease (ttlSecondsAfterReady or nothing).
	MaxLeaseDurationSeconds = 24 * 60 * 60
	// MaxHolderIdentityLength bounds holderIdentity (it is shown in events
	// and tables).
	MaxHolderIdentityLength = 256
	// EnvironmentLeasesResource is the plural resource name of EnvironmentLease.
	EnvironmentLeasesResource = "environmentleases"
	// LeaseShortName is what `kubectl get envlease` resolves.
	LeaseShortName = "envlease"
)

// LeaseBinding binds an Environment to a holder that must keep renewing
// its EnvironmentLease: when the holder stops (its process died, its CI
// job was cancelled) for DurationSeconds, berth deletes the Environment,
// with the normal graceful teardown.
type LeaseBinding struct {
	// HolderIdentity names the holder; only renewals by this holder count.
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=256
	HolderIdentity string `json:"holderIdentity"`
	// DurationSeconds a renewal lasts (5 to 86400).
	// +kubebuilder:validation:Minimum=5
	// +kubebuilder:validation:Maximum=86400
	DurationSeconds int32 `json:"durationSeconds"`
}

// EnvironmentLease is the renewal record of an Environment's spec.lease:
// named like its Environment and owned by it, renewed by its holder
// (coordination.k8s.io/v1 Lease's fields). Renewals write only this
// object, so they never change the Environment (no generation bump, no
// conflict with the controller's status writes).
//
// +genclient
// +genclient:nonNamespaced
// +k8s:deepcopy-gen:interfaces=k8s.io/apimachinery/pkg/runtime.Object
// +kubebuilder:object:root=true
// +kubebuilder:resource:scope=Cluster,shortName=envlease,path=environmentleases,singular=environmentlease
// +kubebuilder:printcolumn:name="Holder",type=string,JSONPath=`.spec.holderIdentity`
// +kubebuilder:printcolumn:name="Renewed",type=date,JSONPath=`.spec.renewTime`
// +kubebuilder:printcolumn:name="Age",type=date,JSONPath=`.metadata.creationTimestamp`
// +kubebuilder:validation:XValidation:rule="size(self.metadata.name) <= 40",message="metadata.name may not be more than 40 characters (it is its Environment's name)"
type EnvironmentLease struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`

	Spec EnvironmentLeaseSpec `json:"spec,omitempty"`
}

// EnvironmentLeaseSpec is what the holder writes on each renewal.
type EnvironmentLeaseSpec struct {
	// HolderIdentity is who renewed; it must match the Environment's
	// spec.lease.holderIdentity for the renewal to count.
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=256
	HolderIdentity string `json:"holderIdentity"`
	// AcquireTime is when the holder first took the lease.
	// +optional
	AcquireTime *metav1.MicroTime `json:"acquireTime,omitempty"`
	// RenewTime is the holder's last renewal.
	RenewTime *metav1.MicroTime `json:"renewTime"`
}

// EnvironmentLeaseList is a list of EnvironmentLeases.
//
// +k8s:deepcopy-gen:interfaces=k8s.io/apimachinery/pkg/runtime.Object
// +kubebuilder:object:root=true
type EnvironmentLeaseList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata,omitempty"`

	Items []EnvironmentLease `json:"items"`
}
