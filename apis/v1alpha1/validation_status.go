package v1alpha1

import (
	apivalidation "k8s.io/apimachinery/pkg/api/validation"
	metav1validation "k8s.io/apimachinery/pkg/apis/meta/v1/validation"
	"k8s.io/apimachinery/pkg/util/sets"
	"k8s.io/apimachinery/pkg/util/validation/field"
)

// MaxStatusEvents is how many events status keeps; the controller drops the
// oldest beyond it, so more means a controller bug, not user input.
const MaxStatusEvents = 50

// Event types of EnvironmentEvent, as in Kubernetes events.
const (
	EventTypeNormal  = "Normal"
	EventTypeWarning = "Warning"
)

var allPhases = []EnvironmentPhase{PhasePending, PhaseQueued, PhaseProgressing, PhaseReady, PhaseDegraded, PhaseFailed, PhaseTerminating}

// ValidateEnvironmentStatusUpdate checks a write through the status
// subresource. Only metadata and status are checked: the status strategy
// keeps the stored spec, which was validated when it was written.
func ValidateEnvironmentStatusUpdate(newEnv, oldEnv *Environment) field.ErrorList {
	if newEnv == nil || oldEnv == nil {
		return field.ErrorList{field.Required(nil, "both the new and the old Environment are required")}
	}
	allErrs := apivalidation.ValidateObjectMetaUpdate(&newEnv.ObjectMeta, &oldEnv.ObjectMeta, field.NewPath("metadata"))
	allErrs = append(allErrs, validateStatusHostUpdate(&newEnv.Status, &oldEnv.Status, field.NewPath("status", "host"))...)
	return append(allErrs, validateStatus(&newEnv.Status, field.NewPath("status"))...)
}

func validateStatus(st *EnvironmentStatus, p *field.Path) field.ErrorList {
	var allErrs field.ErrorList
	if st.Phase != "" {
		allErrs = append(allErrs, validateEnum(p.Child("phase"), st.Phase, allPhases...)...)
	}
	if st.ObservedGeneration < 0 {
		allErrs = append(allErrs, field.Invalid(p.Child("observedGeneration"), st.ObservedGeneration,
			"must be greater than or equal to 0"))
	}
	allErrs = append(allErrs, metav1validation.ValidateConditions(st.Conditions, p.Child("conditions"))...)

	// services is a list map keyed by name: duplicates would break
	// server-side apply and the per-service columns.
	names := sets.New[string]()
	for i, s := range st.Services {
		np := p.Child("services").Index(i).Child("name")
		switch {
		case s.Name == "":
			allErrs = append(allErrs, field.Required(np, ""))
		case names.Has(s.Name):
			allErrs = append(allErrs, field.Duplicate(np, s.Name))
		}
		names.Insert(s.Name)
	}

	ep := p.Child("events")
	if len(st.Events) > MaxStatusEvents {
		allErrs = append(allErrs, field.TooMany(ep, len(st.Events), MaxStatusEvents))
	}
	for i, e := range st.Events {
		allErrs = append(allErrs, validateEnum(ep.Index(i).Child("type"), e.Type, EventTypeNormal, EventTypeWarning)...)
		if e.Reason == "" {
			allErrs = append(allErrs, field.Required(ep.Index(i).Child("reason"), ""))
		}
	}
	return allErrs
}
