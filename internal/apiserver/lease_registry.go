package apiserver

import (
	"context"
	"fmt"
	"time"

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

// leaseREST is the storage of /apis/berth.dev/v1alpha1/environmentleases:
// the renewal records of Environments' spec.lease. A plain resource with
// no status: its holder writes it, the controller only reads and deletes.
type leaseREST struct {
	*genericregistry.Store
}

var (
	_ rest.ShortNamesProvider = leaseREST{}
	_ rest.CategoriesProvider = leaseREST{}
)

// ShortNames lets `kubectl get envlease` resolve.
func (leaseREST) ShortNames() []string { return []string{v1alpha1.LeaseShortName} }

// Categories puts EnvironmentLeases in `get berth` (not in `get all`,
// which is for what users apply).
func (leaseREST) Categories() []string { return []string{"berth"} }

func newLeaseStorage(optsGetter generic.RESTOptionsGetter) (leaseREST, error) {
	strategy := leaseStrategy{Scheme, names.SimpleNameGenerator}
	store := &genericregistry.Store{
		NewFunc:                   func() runtime.Object { return &v1alpha1.EnvironmentLease{} },
		NewListFunc:               func() runtime.Object { return &v1alpha1.EnvironmentLeaseList{} },
		PredicateFunc:             matchLease,
		DefaultQualifiedResource:  v1alpha1.LeaseGroupResource,
		SingularQualifiedResource: schema.GroupResource{Group: v1alpha1.GroupName, Resource: "environmentlease"},
		CreateStrategy:            strategy,
		UpdateStrategy:            strategy,
		DeleteStrategy:            strategy,
		TableConvertor:            leaseTable{},
	}
	opts := &generic.StoreOptions{RESTOptions: optsGetter, AttrFunc: getLeaseAttrs}
	if err := store.CompleteWithOptions(opts); err != nil {
		return leaseREST{}, fmt.Errorf("complete environment lease storage: %w", err)
	}
	return leaseREST{store}, nil
}

// leaseStrategy validates EnvironmentLeases. Renewals change only the
// spec, so the generation is left alone: nothing reconciles a lease's
// generation, and bumping it on every renewal would say nothing.
type leaseStrategy struct {
	runtime.ObjectTyper
	names.NameGenerator
}

func (leaseStrategy) NamespaceScoped() bool                                            { return false }
func (leaseStrategy) PrepareForCreate(context.Context, runtime.Object)                 {}
func (leaseStrategy) PrepareForUpdate(context.Context, runtime.Object, runtime.Object) {}

func (leaseStrategy) Validate(_ context.Context, obj runtime.Object) field.ErrorList {
	return v1alpha1.ValidateEnvironmentLease(obj.(*v1alpha1.EnvironmentLease))
}

func (leaseStrategy) ValidateUpdate(_ context.Context, obj, old runtime.Object) field.ErrorList {
	return v1alpha1.ValidateEnvironmentLeaseUpdate(obj.(*v1alpha1.EnvironmentLease), old.(*v1alpha1.EnvironmentLease))
}

func (leaseStrategy) WarningsOnCreate(context.Context, runtime.Object) []string { return nil }
func (leaseStrategy) WarningsOnUpdate(context.Context, runtime.Object, runtime.Object) []string {
	return nil
}
func (leaseStrategy) AllowCreateOnUpdate(context.Context) bool { return false }

// AllowUnconditionalUpdate is false: a renewal must name the
// resourceVersion it read, so two holders racing for one lease cannot
// both win.
func (leaseStrategy) AllowUnconditionalUpdate(context.Context) bool { return false }
func (leaseStrategy) Canonicalize(runtime.Object)                   {}

func getLeaseAttrs(obj runtime.Object) (labels.Set, fields.Set, error) {
	l, ok := obj.(*v1alpha1.EnvironmentLease)
	if !ok {
		return nil, nil, fmt.Errorf("not an EnvironmentLease: %T", obj)
	}
	return l.Labels, generic.ObjectMetaFieldsSet(&l.ObjectMeta, false), nil
}

func matchLease(label labels.Selector, field fields.Selector) storage.SelectionPredicate {
	return storage.SelectionPredicate{Label: label, Field: field, GetAttrs: getLeaseAttrs}
}

// leaseTable renders EnvironmentLeases as NAME, HOLDER, RENEWED, AGE.
type leaseTable struct{}

var leaseColumns = []metav1.TableColumnDefinition{
	{Name: "Name", Type: "string", Format: "name", Description: "Name of the Environment the lease holds"},
	{Name: "Holder", Type: "string", Description: "Who renews the lease"},
	{Name: "Renewed", Type: "string", Description: "Time since the last renewal"},
	{Name: "Age", Type: "string", Description: "Time since creation"},
}

func (leaseTable) ConvertToTable(_ context.Context, obj runtime.Object, _ runtime.Object) (*metav1.Table, error) {
	table := newTable(leaseColumns, obj)
	var leases []v1alpha1.EnvironmentLease
	switch o := obj.(type) {
	case *v1alpha1.EnvironmentLease:
		leases = []v1alpha1.EnvironmentLease{*o}
	case *v1alpha1.EnvironmentLeaseList:
		leases = o.Items
	default:
		return nil, fmt.Errorf("cannot render %T as a table", obj)
	}
	now := time.Now()
	for i := range leases {
		l := &leases[i]
		renewed := "<none>"
		if l.Spec.RenewTime != nil {
			renewed = duration.HumanDuration(now.Sub(l.Spec.RenewTime.Time))
		}
		table.Rows = append(table.Rows, metav1.TableRow{
			Cells:  []interface{}{l.Name, l.Spec.HolderIdentity, renewed, duration.HumanDuration(now.Sub(l.CreationTimestamp.Time))},
			Object: runtime.RawExtension{Object: l},
		})
	}
	return table, nil
}
