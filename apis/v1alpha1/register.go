package v1alpha1

import (
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
)

const (
	// GroupName is the API group of every berth type.
	GroupName = "berth.dev"
	// Version is the only served version.
	Version = "v1alpha1"
	// EnvironmentsResource is the plural resource name of Environment.
	EnvironmentsResource = "environments"
	// ShortName is what `kubectl get env` resolves.
	ShortName = "env"
)

// SchemeGroupVersion is group version used to register these objects.
var SchemeGroupVersion = schema.GroupVersion{Group: GroupName, Version: Version}

// GroupResource is the group-qualified resource of Environment.
var GroupResource = Resource(EnvironmentsResource)

// LeaseGroupResource is the group-qualified resource of EnvironmentLease.
var LeaseGroupResource = Resource(EnvironmentLeasesResource)

// PoolGroupResource is the group-qualified resource of EnvironmentPool.
var PoolGroupResource = Resource(EnvironmentPoolsResource)

// Resource qualifies a resource name with berth's group.
func Resource(resource string) schema.GroupResource {
	return SchemeGroupVersion.WithResource(resource).GroupResource()
}

var (
	// SchemeBuilder collects the functions that add berth's types to a scheme.
	SchemeBuilder = runtime.NewSchemeBuilder(addKnownTypes)
	// AddToScheme adds berth's types to a scheme.
	AddToScheme = SchemeBuilder.AddToScheme
)

func addKnownTypes(scheme *runtime.Scheme) error {
	scheme.AddKnownTypes(SchemeGroupVersion, &Environment{}, &EnvironmentList{},
		&EnvironmentLease{}, &EnvironmentLeaseList{},
		&EnvironmentPool{}, &EnvironmentPoolList{})
	metav1.AddToGroupVersion(scheme, SchemeGroupVersion)
	return nil
}
