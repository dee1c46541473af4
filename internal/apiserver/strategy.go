package apiserver

import (
	"context"
	"fmt"

	apiequality "k8s.io/apimachinery/pkg/api/equality"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/validation/field"
	"k8s.io/apiserver/pkg/registry/generic"
	"k8s.io/apiserver/pkg/storage"
	"k8s.io/apiserver/pkg/storage/names"
	"sigs.k8s.io/structured-merge-diff/v6/fieldpath"

	"berth.dev/berth/apis/v1alpha1"
)

// environmentStrategy is the create/update/delete policy of the main
// resource: users own the spec, the controller owns the status.
type environmentStrategy struct {
	runtime.ObjectTyper
	names.NameGenerator
	// policy is what the manager's flags permit (--allow-privileged);
	// specs asking for more are refused at admission.
	policy v1alpha1.Policy
	// admission is the manager's capacity check (nil: none).
	admission SpecCheck
}

func newStrategy(policy v1alpha1.Policy) environmentStrategy {
	return environmentStrategy{ObjectTyper: Scheme, NameGenerator: names.SimpleNameGenerator, policy: policy}
}

// checkSpec is the policy and capacity checks, for a spec that passed the
// API's own validation: the capacity math needs valid quantities.
func (s environmentStrategy) checkSpec(spec *v1alpha1.EnvironmentSpec, valid field.ErrorList) field.ErrorList {
	errs := v1alpha1.ValidatePolicy(spec, s.policy)
	if s.admission != nil && len(valid) == 0 {
		errs = append(errs, s.admission(spec)...)
	}
	return errs
}

func (environmentStrategy) NamespaceScoped() bool { return false }

// GetResetFields tells server-side apply that writes to the main resource
// never own status fields.
func (environmentStrategy) GetResetFields() map[fieldpath.APIVersion]*fieldpath.Set {
	return map[fieldpath.APIVersion]*fieldpath.Set{
		fieldpath.APIVersion(v1alpha1.SchemeGroupVersion.String()): fieldpath.NewSet(
			fieldpath.MakePathOrDie("status"),
		),
	}
}

// PrepareForCreate clears status (it is observation, not input), starts the
// generation at 1 and adds berth's finalizer so a delete waits for teardown.
func (environmentStrategy) PrepareForCreate(_ context.Context, obj runtime.Object) {
	env := obj.(*v1alpha1.Environment)
	env.Status = v1alpha1.EnvironmentStatus{}
	env.Generation = 1
	addFinalizer(env)
}

// PrepareForUpdate keeps the stored status and bumps the generation only
// when the (defaulted) spec really changed, so re-applying a file is a no-op.
func (environmentStrategy) PrepareForUpdate(_ context.Context, obj, old runtime.Object) {
	newEnv := obj.(*v1alpha1.Environment)
	oldEnv := old.(*v1alpha1.Environment)
	newEnv.Status = oldEnv.Status
	if !apiequality.Semantic.DeepEqual(newEnv.Spec, oldEnv.Spec) {
		newEnv.Generation = oldEnv.Generation + 1
	}
}

func (s environmentStrategy) Validate(_ context.Context, obj runtime.Object) field.ErrorList {
	env := obj.(*v1alpha1.Environment)
	allErrs := v1alpha1.ValidateEnvironment(env)
	return append(allErrs, s.checkSpec(&env.Spec, allErrs)...)
}

// ValidateUpdate checks the manager's policy and capacity only when the
// spec changes, like the rest of the spec: a stored Environment admitted
// under a looser policy or a larger budget can still have its finalizer
// removed.
func (s environmentStrategy) ValidateUpdate(_ context.Context, obj, old runtime.Object) field.ErrorList {
	newEnv, oldEnv := obj.(*v1alpha1.Environment), old.(*v1alpha1.Environment)
	allErrs := v1alpha1.ValidateEnvironmentUpdate(newEnv, oldEnv)
	if !apiequality.Semantic.DeepEqual(newEnv.Spec, oldEnv.Spec) {
		allErrs = append(allErrs, s.checkSpec(&newEnv.Spec, allErrs)...)
	}
	return allErrs
}

func (environmentStrategy) WarningsOnCreate(context.Context, runtime.Object) []string { return nil }

func (environmentStrategy) WarningsOnUpdate(context.Context, runtime.Object, runtime.Object) []string {
	return nil
}

func (environmentStrategy) AllowCreateOnUpdate(context.Context) bool      { return false }
func (environmentStrategy) AllowUnconditionalUpdate(context.Context) bool { return true }
func (environmentStrategy) Canonicalize(runtime.Object)                   {}

func addFinalizer(env *v1alpha1.Environment) {
	for _, f := range env.Finalizers {
		if f == v1alpha1.Finalizer {
			return
		}
	}
	env.Finalizers = append(env.Finalizers, v1alpha1.Finalizer)
}

// environmentStatusStrategy is the policy of the status subresource: only
// status changes; spec and metadata other than what apimachinery manages
// stay as stored.
type environmentStatusStrategy struct {
	environmentStrategy
}

// GetResetFields tells server-side apply that status writes never own spec
// or metadata fields.
func (environmentStatusStrategy) GetResetFields() map[fieldpath.APIVersion]*fieldpath.Set {
	return map[fieldpath.APIVersion]*fieldpath.Set{
		fieldpath.APIVersion(v1alpha1.SchemeGroupVersion.String()): fieldpath.NewSet(
			fieldpath.MakePathOrDie("spec"),
			fieldpath.MakePathOrDie("metadata", "labels"),
			fieldpath.MakePathOrDie("metadata", "annotations"),
			fieldpath.MakePathOrDie("metadata", "finalizers"),
		),
	}
}

func (environmentStatusStrategy) PrepareForUpdate(_ context.Context, obj, old runtime.Object) {
	newEnv := obj.(*v1alpha1.Environment)
	oldEnv := old.(*v1alpha1.Environment)
	newEnv.Spec = oldEnv.Spec
	newEnv.Generation = oldEnv.Generation
	newEnv.Labels = oldEnv.Labels
	newEnv.Annotations = oldEnv.Annotations
	newEnv.Finalizers = oldEnv.Finalizers
}

func (environmentStatusStrategy) ValidateUpdate(_ context.Context, obj, old runtime.Object) field.ErrorList {
	return v1alpha1.ValidateEnvironmentStatusUpdate(obj.(*v1alpha1.Environment), old.(*v1alpha1.Environment))
}

// getAttrs lets list and watch filter on labels and metadata.name.
func getAttrs(obj runtime.Object) (labels.Set, fields.Set, error) {
	env, ok := obj.(*v1alpha1.Environment)
	if !ok {
		return nil, nil, fmt.Errorf("not an Environment: %T", obj)
	}
	return env.Labels, generic.ObjectMetaFieldsSet(&env.ObjectMeta, false), nil
}

// matchEnvironment is the selection predicate for list and watch.
func matchEnvironment(label labels.Selector, field fields.Selector) storage.SelectionPredicate {
	return storage.SelectionPredicate{Label: label, Field: field, GetAttrs: getAttrs}
}
