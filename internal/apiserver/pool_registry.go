package apiserver

import (
	"context"
	"fmt"
	"time"

	"k8s.io/apimachinery/pkg/api/equality"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/util/duration"
	"k8s.io/apimachinery/pkg/util/validation/field"
	"k8s.io/apiserver/pkg/registry/generic"
	genericregistry "k8s.io/apiserver/pkg/registry/generic/registry"
	"k8s.io/apiserver/pkg/registry/rest"
	"k8s.io/apiserver/pkg/storage"
	"k8s.io/apiserver/pkg/storage/names"

	"berth.dev/berth/apis/v1alpha1"
)

// poolREST is the storage of /apis/berth.dev/v1alpha1/environmentpools.
type poolREST struct {
	*genericregistry.Store
}

var (
	_ rest.ShortNamesProvider = poolREST{}
	_ rest.CategoriesProvider = poolREST{}
)

// ShortNames lets `kubectl get envpool` resolve.
func (poolREST) ShortNames() []string { return []string{v1alpha1.PoolShortName} }

// Categories puts pools in `get all` and `get berth`: users apply them.
func (poolREST) Categories() []string { return []string{"all", "berth"} }

// poolStatusREST serves environmentpools/status, written by the pool
// controller only.
type poolStatusREST struct {
	store *genericregistry.Store
}

var (
	_ rest.Getter  = &poolStatusREST{}
	_ rest.Updater = &poolStatusREST{}
)

func (r *poolStatusREST) New() runtime.Object { return &v1alpha1.EnvironmentPool{} }
func (r *poolStatusREST) Destroy()            {}

func (r *poolStatusREST) Get(ctx context.Context, name string, options *metav1.GetOptions) (runtime.Object, error) {
	return r.store.Get(ctx, name, options)
}

func (r *poolStatusREST) Update(ctx context.Context, name string, objInfo rest.UpdatedObjectInfo, createValidation rest.ValidateObjectFunc,
	updateValidation rest.ValidateObjectUpdateFunc, _ bool, options *metav1.UpdateOptions) (runtime.Object, bool, error) {
	return r.store.Update(ctx, name, objInfo, createValidation, updateValidation, false, options)
}

func newPoolStorage(optsGetter generic.RESTOptionsGetter) (poolREST, *poolStatusREST, error) {
	strategy := poolStrategy{Scheme, names.SimpleNameGenerator}
	store := &genericregistry.Store{
		NewFunc:                   func() runtime.Object { return &v1alpha1.EnvironmentPool{} },
		NewListFunc:               func() runtime.Object { return &v1alpha1.EnvironmentPoolList{} },
		PredicateFunc:             matchPool,
		DefaultQualifiedResource:  v1alpha1.PoolGroupResource,
		SingularQualifiedResource: schema.GroupResource{Group: v1alpha1.GroupName, Resource: "environmentpool"},
		CreateStrategy:            strategy,
		UpdateStrategy:            strategy,
		DeleteStrategy:            strategy,
		TableConvertor:            poolTable{},
	}
	opts := &generic.StoreOptions{RESTOptions: optsGetter, AttrFunc: getPoolAttrs}
	if err := store.CompleteWithOptions(opts); err != nil {
		return poolREST{}, nil, fmt.Errorf("complete environment pool storage: %w", err)
	}
	status := *store
	status.UpdateStrategy = poolStatusStrategy{strategy}
	return poolREST{store}, &poolStatusREST{store: &status}, nil
}

// poolStrategy defaults and validates pools; the spec's generation is
// bumped on spec changes like an Environment's.
type poolStrategy struct {
	runtime.ObjectTyper
	names.NameGenerator
}

func (poolStrategy) NamespaceScoped() bool { return false }

func (poolStrategy) PrepareForCreate(_ context.Context, obj runtime.Object) {
	p := obj.(*v1alpha1.EnvironmentPool)
	p.Status = v1alpha1.EnvironmentPoolStatus{}
	p.Generation = 1
	v1alpha1.SetPoolDefaults(p)
}

func (poolStrategy) PrepareForUpdate(_ context.Context, obj, old runtime.Object) {
	p, o := obj.(*v1alpha1.EnvironmentPool), old.(*v1alpha1.EnvironmentPool)
	p.Status = o.Status
	v1alpha1.SetPoolDefaults(p)
	p.Generation = o.Generation
	if !equality.Semantic.DeepEqual(p.Spec, o.Spec) {
		p.Generation = o.Generation + 1
	}
}

func (poolStrategy) Validate(_ context.Context, obj runtime.Object) field.ErrorList {
	return v1alpha1.ValidateEnvironmentPool(obj.(*v1alpha1.EnvironmentPool))
}

func (poolStrategy) ValidateUpdate(_ context.Context, obj, old runtime.Object) field.ErrorList {
	return v1alpha1.ValidateEnvironmentPoolUpdate(obj.(*v1alpha1.EnvironmentPool), old.(*v1alpha1.EnvironmentPool))
}

func (poolStrategy) WarningsOnCreate(context.Context, runtime.Object) []string { return nil }
func (poolStrategy) WarningsOnUpdate(context.Context, runtime.Object, runtime.Object) []string {
	return nil
}
func (poolStrategy) AllowCreateOnUpdate(context.Context) bool      { return false }
func (poolStrategy) AllowUnconditionalUpdate(context.Context) bool { return true }
func (poolStrategy) Canonicalize(runtime.Object)                   {}

// poolStatusStrategy lets a status write change the status only.
type poolStatusStrategy struct{ poolStrategy }

func (poolStatusStrategy) PrepareForUpdate(_ context.Context, obj, old runtime.Object) {
	p, o := obj.(*v1alpha1.EnvironmentPool), old.(*v1alpha1.EnvironmentPool)
	p.Spec = o.Spec
	p.Generation = o.Generation
	p.Labels, p.Annotations, p.Finalizers = o.Labels, o.Annotations, o.Finalizers
}

func (poolStatusStrategy) ValidateUpdate(context.Context, runtime.Object, runtime.Object) field.ErrorList {
	return nil
}

func getPoolAttrs(obj runtime.Object) (labels.Set, fields.Set, error) {
	p, ok := obj.(*v1alpha1.EnvironmentPool)
	if !ok {
		return nil, nil, fmt.Errorf("not an EnvironmentPool: %T", obj)
	}
	return p.Labels, generic.ObjectMetaFieldsSet(&p.ObjectMeta, false), nil
}

func matchPool(label labels.Selector, field fields.Selector) storage.SelectionPredicate {
	return storage.SelectionPredicate{Label: label, Field: field, GetAttrs: getPoolAttrs}
}

// poolTable renders pools as NAME, SIZE, AVAILABLE, BOUND, MODE, AGE.
type poolTable struct{}

var poolColumns = []metav1.TableColumnDefinition{
	{Name: "Name", Type: "string", Format: "name", Description: "Name of the pool"},
	{Name: "Size", Type: "integer", Description: "Unbound standbys the pool keeps"},
	{Name: "Available", Type: "integer", Description: "Standbys a claim can take now"},
	{Name: "Bound", Type: "integer", Description: "Standbys bound to a claimant"},
	{Name: "Mode", Type: "string", Description: "Paused or Running"},
	{Name: "Age", Type: "string", Description: "Time since creation"},
}

func (poolTable) ConvertToTable(_ context.Context, obj runtime.Object, _ runtime.Object) (*metav1.Table, error) {
	table := newTable(poolColumns, obj)
	var pools []v1alpha1.EnvironmentPool
	switch o := obj.(type) {
	case *v1alpha1.EnvironmentPool:
		pools = []v1alpha1.EnvironmentPool{*o}
	case *v1alpha1.EnvironmentPoolList:
		pools = o.Items
	default:
		return nil, fmt.Errorf("cannot render %T as a table", obj)
	}
	now := time.Now()
	for i := range pools {
		p := &pools[i]
		table.Rows = append(table.Rows, metav1.TableRow{
			Cells: []interface{}{p.Name, int64(p.Spec.Size), int64(p.Status.Available), int64(p.Status.Bound),
				string(p.Spec.Standby), duration.HumanDuration(now.Sub(p.CreationTimestamp.Time))},
			Object: runtime.RawExtension{Object: p},
		})
	}
	return table, nil
}
