package v1alpha1

import (
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// Pool bounds and names.
const (
	// MaxPoolSize bounds spec.size: each standby holds its containers'
	// memory even while paused.
	MaxPoolSize = 50
	// MaxPoolNameLength leaves room in a standby's name (<pool>-<5
	// random characters>) for the Environment name limit.
	MaxPoolNameLength = MaxNameLength - 1 - generatedSuffixLength
	// EnvironmentPoolsResource is the plural resource name of EnvironmentPool.
	EnvironmentPoolsResource = "environmentpools"
	// PoolShortName is what `kubectl get envpool` resolves.
	PoolShortName = "envpool"
	// LabelPool marks the standbys a pool created (on the Environment
	// object, never on Docker objects), so the pool finds them by selector.
	LabelPool = "berth.dev/pool"
	// AnnotationPoolTemplate records, on a standby, the hash of the pool
	// template it was created from: a standby of an older template is
	// replaced, never claimed.
	AnnotationPoolTemplate = "berth.dev/pool-template"
)

// StandbyMode says what a standby does between becoming Ready and being
// claimed.
// +enum
// +kubebuilder:validation:Enum=Paused;Running
type StandbyMode string

const (
	// StandbyPaused: started, probed Ready, then `docker pause`d, so it
	// costs no CPU until a claim unpauses it.
	StandbyPaused StandbyMode = "Paused"
	// StandbyRunning: started and kept running; a claim takes it as it is.
	StandbyRunning StandbyMode = "Running"
)

// EnvironmentPool keeps Size standby Environments of its template
// converged, so an Environment naming it in spec.poolRef is Ready in the
// time an unpause takes instead of the time creating its containers takes.
//
// +genclient
// +genclient:nonNamespaced
// +k8s:deepcopy-gen:interfaces=k8s.io/apimachinery/pkg/runtime.Object
// +kubebuilder:object:root=true
// +kubebuilder:resource:scope=Cluster,shortName=envpool,path=environmentpools,singular=environmentpool
// +kubebuilder:subresource:status
// +kubebuilder:printcolumn:name="Size",type=integer,JSONPath=`.spec.size`
// +kubebuilder:printcolumn:name="Available",type=integer,JSONPath=`.status.available`
// +kubebuilder:printcolumn:name="Bound",type=integer,JSONPath=`.status.bound`
// +kubebuilder:printcolumn:name="Age",type=date,JSONPath=`.metadata.creationTimestamp`
type EnvironmentPool struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`

	Spec   EnvironmentPoolSpec   `json:"spec,omitempty"`
	Status EnvironmentPoolStatus `json:"status,omitempty"`
}

// EnvironmentPoolSpec is what the pool keeps.
type EnvironmentPoolSpec struct {
	// Template is the spec of every standby (and of a claimant that finds
	// no free standby).
	Template EnvironmentSpec `json:"template"`
	// Size is how many unbound standbys the pool keeps (0 to 50).
	Size int32 `json:"size"`
	// Standby is Paused (default: no CPU while waiting) or Running.
	// +optional
	Standby StandbyMode `json:"standby,omitempty"`
}

// EnvironmentPoolStatus counts the pool's standbys.
type EnvironmentPoolStatus struct {
	// Standbys is how many unbound standbys exist (converging or ready).
	// +optional
	Standbys int32 `json:"standbys"`
	// Available is how many unbound standbys can be claimed now (Ready,
	// and paused when the mode is Paused).
	// +optional
	Available int32 `json:"available"`
	// Bound is how many standbys are bound to a claimant.
	// +optional
	Bound int32 `json:"bound"`
	// ObservedGeneration is the generation the counts were made for.
	// +optional
	ObservedGeneration int64 `json:"observedGeneration,omitempty"`
}

// EnvironmentPoolList is a list of EnvironmentPools.
//
// +k8s:deepcopy-gen:interfaces=k8s.io/apimachinery/pkg/runtime.Object
// +kubebuilder:object:root=true
type EnvironmentPoolList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata,omitempty"`

	Items []EnvironmentPool `json:"items"`
}

// PoolRef makes an Environment a claimant of a pool's standby, the way a
// PersistentVolumeClaim names a PersistentVolume.
type PoolRef struct {
	// Name of the EnvironmentPool.
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=34
	// +kubebuilder:validation:Pattern=`^[a-z0-9]([-a-z0-9]*[a-z0-9])?$`
	Name string `json:"name"`
	// Standby is the standby Environment this claimant is bound to; berth
	// writes it, after the standby's spec.standby.claimRef names this
	// claimant.
	// +optional
	// +kubebuilder:validation:MaxLength=40
	// +kubebuilder:validation:Pattern=`^[a-z0-9]([-a-z0-9]*[a-z0-9])?$`
	Standby string `json:"standby,omitempty"`
}

// StandbySpec marks an Environment as a pool's standby. The pool
// controller writes it; users do not.
type StandbySpec struct {
	// Pool that created the standby.
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=34
	// +kubebuilder:validation:Pattern=`^[a-z0-9]([-a-z0-9]*[a-z0-9])?$`
	Pool string `json:"pool"`
	// Mode is the pool's standby mode when the standby was created.
	Mode StandbyMode `json:"mode"`
	// ClaimRef is the claimant bound to this standby, written before the
	// claimant's spec.poolRef.standby.
	// +optional
	ClaimRef *ClaimRef `json:"claimRef,omitempty"`
}

// ClaimRef names a claimant by name and UID: a claimant deleted and
// created again under its name is another claimant.
type ClaimRef struct {
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=40
	// +kubebuilder:validation:Pattern=`^[a-z0-9]([-a-z0-9]*[a-z0-9])?$`
	Name string `json:"name"`
	// +optional
	UID string `json:"uid,omitempty"`
}

// IsBound says whether claimant and standby name each other: the
// claimant's spec.poolRef.standby is standby, and the standby's claimRef
// is the claimant (name and, when recorded, UID). Only then are the
// standby's containers the claimant's.
func IsBound(claimant, standby *Environment) bool {
	if claimant == nil || standby == nil || claimant.Spec.PoolRef == nil || claimant.Spec.PoolRef.Standby != standby.Name {
		return false
	}
	sb := standby.Spec.Standby
	if sb == nil || sb.ClaimRef == nil {
		return false
	}
	return sb.ClaimRef.Name == claimant.Name && (sb.ClaimRef.UID == "" || sb.ClaimRef.UID == string(claimant.UID))
}
