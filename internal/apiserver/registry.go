package apiserver

import (
	"context"
	"fmt"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apiserver/pkg/registry/generic"
	genericregistry "k8s.io/apiserver/pkg/registry/generic/registry"
	"k8s.io/apiserver/pkg/registry/rest"
	"sigs.k8s.io/structured-merge-diff/v6/fieldpath"

	"berth.dev/berth/apis/v1alpha1"
)

// environmentREST is the storage of /apis/berth.dev/v1alpha1/environments.
type environmentREST struct {
	*genericregistry.Store
}

var (
	_ rest.ShortNamesProvider = environmentREST{}
	_ rest.CategoriesProvider = environmentREST{}
)

// ShortNames lets `kubectl get env` resolve.
func (environmentREST) ShortNames() []string { return []string{v1alpha1.ShortName} }

// Categories puts Environments in `kubectl get all` and `get berth`.
func (environmentREST) Categories() []string { return []string{"all", "berth"} }

// statusREST serves environments/status: get, update and patch only, with
// the status strategy so a status write never touches the spec.
type statusREST struct {
	store *genericregistry.Store
}

var (
	_ rest.Getter  = &statusREST{}
	_ rest.Updater = &statusREST{}
	_ rest.Patcher = &statusREST{}
)

func (r *statusREST) New() runtime.Object { return &v1alpha1.Environment{} }

// Destroy is a no-op: the main resource's store owns the shared storage.
func (r *statusREST) Destroy() {}

func (r *statusREST) Get(ctx context.Context, name string, options *metav1.GetOptions) (runtime.Object, error) {
	return r.store.Get(ctx, name, options)
}

func (r *statusREST) Update(ctx context.Context, name string, objInfo rest.UpdatedObjectInfo, createValidation rest.ValidateObjectFunc,
	updateValidation rest.ValidateObjectUpdateFunc, _ bool, options *metav1.UpdateOptions) (runtime.Object, bool, error) {
	// Status updates never create: forceAllowCreate is false whatever asked.
	return r.store.Update(ctx, name, objInfo, createValidation, updateValidation, false, options)
}

func (r *statusREST) GetResetFields() map[fieldpath.APIVersion]*fieldpath.Set {
	return r.store.GetResetFields()
}

func (r *statusREST) ConvertToTable(ctx context.Context, object, tableOptions runtime.Object) (*metav1.Table, error) {
	return r.store.ConvertToTable(ctx, object, tableOptions)
}

// newEnvironmentStorage builds the main and status storage over one
// backend. The status store is a copy of the main one with another update
// strategy, the pattern Kubernetes' own registries use.
func newEnvironmentStorage(optsGetter generic.RESTOptionsGetter, policy v1alpha1.Policy, admission SpecCheck) (environmentREST, *statusREST, error) {
	strategy := newStrategy(policy)
	strategy.admission = admission
	statusStrategy := environmentStatusStrategy{strategy}
	store := &genericregistry.Store{
		NewFunc:                   func() runtime.Object { return &v1alpha1.Environment{} },
		NewListFunc:               func() runtime.Object { return &v1alpha1.EnvironmentList{} },
		PredicateFunc:             matchEnvironment,
		DefaultQualifiedResource:  v1alpha1.GroupResource,
		SingularQualifiedResource: schema.GroupResource{Group: v1alpha1.GroupName, Resource: "environment"},
		CreateStrategy:            strategy,
		UpdateStrategy:            strategy,
		DeleteStrategy:            strategy,
		ResetFieldsStrategy:       strategy,
		TableConvertor:            environmentTable{},
	}
	if err := store.CompleteWithOptions(&generic.StoreOptions{RESTOptions: optsGetter, AttrFunc: getAttrs}); err != nil {
		return environmentREST{}, nil, fmt.Errorf("complete environment storage: %w", err)
	}
	status := *store
	status.UpdateStrategy = statusStrategy
	status.ResetFieldsStrategy = statusStrategy
	return environmentREST{store}, &statusREST{store: &status}, nil
}
