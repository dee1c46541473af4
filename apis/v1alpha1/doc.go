// Package v1alpha1 holds the berth.dev/v1alpha1 API: the Environment type,
// its defaults and validation, and its scheme registration. The same types
// back the embedded API server and the CRD in config/crd.
//
// +k8s:deepcopy-gen=package
// +k8s:openapi-gen=true
// +k8s:openapi-model-package=dev.berth.v1alpha1
// +groupName=berth.dev
// +groupGoName=Berth
// +kubebuilder:object:generate=true
package v1alpha1
