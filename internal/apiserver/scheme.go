package apiserver

import (
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/runtime/serializer"
	utilruntime "k8s.io/apimachinery/pkg/util/runtime"

	"berth.dev/berth/apis/v1alpha1"
)

var (
	// Scheme knows berth's types and the unversioned meta types every API
	// server serves.
	Scheme = runtime.NewScheme()
	// Codecs encodes and decodes with Scheme.
	Codecs = serializer.NewCodecFactory(Scheme)
)

func init() {
	utilruntime.Must(v1alpha1.AddToScheme(Scheme))
	// berth has one version and no internal types: the versioned Go types
	// double as the "__internal" hub the generic handlers convert through,
	// so conversion is a plain copy.
	internal := schema.GroupVersion{Group: v1alpha1.GroupName, Version: runtime.APIVersionInternal}
	Scheme.AddKnownTypes(internal, &v1alpha1.Environment{}, &v1alpha1.EnvironmentList{},
		&v1alpha1.EnvironmentLease{}, &v1alpha1.EnvironmentLeaseList{},
		&v1alpha1.EnvironmentPool{}, &v1alpha1.EnvironmentPoolList{})
	utilruntime.Must(Scheme.SetVersionPriority(v1alpha1.SchemeGroupVersion))

	// Defaulting runs on every decode (requests and storage), so stored
	// objects written by an older berth gain new defaults on read.
	Scheme.AddTypeDefaultingFunc(&v1alpha1.Environment{}, func(obj interface{}) {
		v1alpha1.SetDefaults(obj.(*v1alpha1.Environment))
	})
	Scheme.AddTypeDefaultingFunc(&v1alpha1.EnvironmentList{}, func(obj interface{}) {
		list := obj.(*v1alpha1.EnvironmentList)
		for i := range list.Items {
			v1alpha1.SetDefaults(&list.Items[i])
		}
	})

	Scheme.AddTypeDefaultingFunc(&v1alpha1.EnvironmentPool{}, func(obj interface{}) {
		v1alpha1.SetPoolDefaults(obj.(*v1alpha1.EnvironmentPool))
	})

	// Every API server serves these for discovery and errors.
	metav1.AddToGroupVersion(Scheme, schema.GroupVersion{Version: "v1"})
	unversioned := schema.GroupVersion{Group: "", Version: "v1"}
	Scheme.AddUnversionedTypes(unversioned,
		&metav1.Status{},
		&metav1.APIVersions{},
		&metav1.APIGroupList{},
		&metav1.APIGroup{},
		&metav1.APIResourceList{},
	)
}
