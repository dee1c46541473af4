package v1alpha1

import (
	"fmt"
	"unicode"

	apivalidation "k8s.io/apimachinery/pkg/api/validation"
	"k8s.io/apimachinery/pkg/util/validation/field"
)

// validateLeaseBinding checks spec.lease.
func validateLeaseBinding(l *LeaseBinding, path *field.Path) field.ErrorList {
	if l == nil {
		return nil
	}
	allErrs := validateHolderIdentity(l.HolderIdentity, path.Child("holderIdentity"))
	if d := l.DurationSeconds; d < MinLeaseDurationSeconds || d > MaxLeaseDurationSeconds {
		allErrs = append(allErrs, field.Invalid(path.Child("durationSeconds"), d,
			fmt.Sprintf("must be between %d and %d seconds", MinLeaseDurationSeconds, MaxLeaseDurationSeconds)))
	}
	return allErrs
}

// validateHolderIdentity: required, bounded, printable (it is shown in
// events, tables and logs).
func validateHolderIdentity(holder string, path *field.Path) field.ErrorList {
	if holder == "" {
		return field.ErrorList{field.Required(path, "")}
	}
	if len(holder) > MaxHolderIdentityLength {
		return field.ErrorList{field.TooLong(path, "", MaxHolderIdentityLength)}
	}
	for _, r := range holder {
		if !unicode.IsPrint(r) {
			return field.ErrorList{field.Invalid(path, holder, "must contain printable characters only")}
		}
	}
	return nil
}

// ValidateEnvironmentLease checks an EnvironmentLease on create. Its name is
// its Environment's, so it follows the Environment name rule.
func ValidateEnvironmentLease(l *EnvironmentLease) field.ErrorList {
	if l == nil {
		return field.ErrorList{field.Required(nil, "an EnvironmentLease is required")}
	}
	allErrs := apivalidation.ValidateObjectMeta(&l.ObjectMeta, false, validateLeaseName, field.NewPath("metadata"))
	return append(allErrs, validateLeaseSpec(&l.Spec, field.NewPath("spec"))...)
}

// ValidateEnvironmentLeaseUpdate checks a renewal (or a takeover).
func ValidateEnvironmentLeaseUpdate(newLease, oldLease *EnvironmentLease) field.ErrorList {
	if newLease == nil || oldLease == nil {
		return field.ErrorList{field.Required(nil, "both the new and the old EnvironmentLease are required")}
	}
	allErrs := apivalidation.ValidateObjectMetaUpdate(&newLease.ObjectMeta, &oldLease.ObjectMeta, field.NewPath("metadata"))
	return append(allErrs, validateLeaseSpec(&newLease.Spec, field.NewPath("spec"))...)
}

func validateLeaseSpec(spec *EnvironmentLeaseSpec, path *field.Path) field.ErrorList {
	allErrs := validateHolderIdentity(spec.HolderIdentity, path.Child("holderIdentity"))
	if spec.RenewTime == nil {
		allErrs = append(allErrs, field.Required(path.Child("renewTime"), "the holder's last renewal"))
	}
	return allErrs
}

// validateLeaseName is the Environment name rule without generateName: a
// lease is named after an existing Environment.
func validateLeaseName(name string, prefix bool) []string {
	if prefix {
		return []string{"generateName is not supported: an EnvironmentLease is named like its Environment"}
	}
	return validateEnvironmentName(name, false)
}
