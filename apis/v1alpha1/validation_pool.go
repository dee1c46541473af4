package v1alpha1

import (
	"fmt"

	apivalidation "k8s.io/apimachinery/pkg/api/validation"
	"k8s.io/apimachinery/pkg/util/validation"
	"k8s.io/apimachinery/pkg/util/validation/field"
)

// validatePoolFields checks spec.poolRef and spec.standby wherever they
// appear: a claimant bound to a standby has no services of its own (its
// containers are the standby's), and an Environment is never both a
// claimant and a standby.
func validatePoolFields(spec *EnvironmentSpec, path *field.Path) field.ErrorList {
	var allErrs field.ErrorList
	if ref := spec.PoolRef; ref != nil {
		refPath := path.Child("poolRef")
		allErrs = append(allErrs, validatePoolName(refPath.Child("name"), ref.Name)...)
		if ref.Standby != "" {
			allErrs = append(allErrs, validateName(refPath.Child("standby"), ref.Standby)...)
			if len(spec.Services) > 0 {
				allErrs = append(allErrs, field.Forbidden(path.Child("services"),
					"must be empty while spec.poolRef.standby is set: the claimant's containers are its standby's"))
			}
		}
		if spec.Standby != nil {
			allErrs = append(allErrs, field.Forbidden(path.Child("standby"), "may not be set together with spec.poolRef"))
		}
	}
	if sb := spec.Standby; sb != nil {
		sbPath := path.Child("standby")
		allErrs = append(allErrs, validatePoolName(sbPath.Child("pool"), sb.Pool)...)
		allErrs = append(allErrs, validateEnum(sbPath.Child("mode"), sb.Mode, StandbyPaused, StandbyRunning)...)
		if c := sb.ClaimRef; c != nil {
			allErrs = append(allErrs, validateName(sbPath.Child("claimRef", "name"), c.Name)...)
		}
	}
	return allErrs
}

// validateClaimOnCreate: a new claimant leaves its spec to the pool's
// template and its binding to berth.
func validateClaimOnCreate(spec *EnvironmentSpec, path *field.Path) field.ErrorList {
	ref := spec.PoolRef
	if ref == nil {
		return nil
	}
	var allErrs field.ErrorList
	const why = "must be empty when spec.poolRef is set: the pool's template supplies it"
	if len(spec.Services) > 0 {
		allErrs = append(allErrs, field.Forbidden(path.Child("services"), why))
	}
	if len(spec.Volumes) > 0 {
		allErrs = append(allErrs, field.Forbidden(path.Child("volumes"), why))
	}
	if len(spec.Files) > 0 {
		allErrs = append(allErrs, field.Forbidden(path.Child("files"), why))
	}
	if len(spec.Secrets) > 0 {
		allErrs = append(allErrs, field.Forbidden(path.Child("secrets"), why))
	}
	if len(spec.Networks) > 0 {
		allErrs = append(allErrs, field.Forbidden(path.Child("networks"), why))
	}
	if ref.Standby != "" && len(allErrs) == 0 {
		allErrs = append(allErrs, field.Forbidden(path.Child("poolRef", "standby"),
			"must be empty on create: berth binds the claimant to a standby"))
	}
	return allErrs
}

// validatePoolFieldsUpdate: what a claimant claims from, and what a
// standby belongs to, stay what they were.
func validatePoolFieldsUpdate(newSpec, oldSpec *EnvironmentSpec, path *field.Path) field.ErrorList {
	var allErrs field.ErrorList
	if (newSpec.PoolRef == nil) != (oldSpec.PoolRef == nil) ||
		(newSpec.PoolRef != nil && newSpec.PoolRef.Name != oldSpec.PoolRef.Name) {
		allErrs = append(allErrs, field.Forbidden(path.Child("poolRef", "name"), "may not change after create"))
	}
	if (newSpec.Standby == nil) != (oldSpec.Standby == nil) ||
		(newSpec.Standby != nil && (newSpec.Standby.Pool != oldSpec.Standby.Pool || newSpec.Standby.Mode != oldSpec.Standby.Mode)) {
		allErrs = append(allErrs, field.Forbidden(path.Child("standby"), "pool and mode may not change after create"))
	}
	return allErrs
}

func validatePoolName(path *field.Path, name string) field.ErrorList {
	if name == "" {
		return field.ErrorList{field.Required(path, "")}
	}
	var allErrs field.ErrorList
	if len(name) > MaxPoolNameLength {
		allErrs = append(allErrs, field.TooLong(path, name, MaxPoolNameLength))
	}
	for _, msg := range dns1123LabelFormat(name) {
		allErrs = append(allErrs, field.Invalid(path, name, msg))
	}
	return allErrs
}

// ValidateEnvironmentPool checks an EnvironmentPool on create.
func ValidateEnvironmentPool(p *EnvironmentPool) field.ErrorList {
	if p == nil {
		return field.ErrorList{field.Required(nil, "an EnvironmentPool is required")}
	}
	allErrs := apivalidation.ValidateObjectMeta(&p.ObjectMeta, false, validatePoolObjectName, field.NewPath("metadata"))
	return append(allErrs, validatePoolSpec(&p.Spec, field.NewPath("spec"))...)
}

// ValidateEnvironmentPoolUpdate checks a changed pool. A new template
// applies to standbys created from then on; existing ones keep theirs.
func ValidateEnvironmentPoolUpdate(newPool, oldPool *EnvironmentPool) field.ErrorList {
	if newPool == nil || oldPool == nil {
		return field.ErrorList{field.Required(nil, "both the new and the old EnvironmentPool are required")}
	}
	allErrs := apivalidation.ValidateObjectMetaUpdate(&newPool.ObjectMeta, &oldPool.ObjectMeta, field.NewPath("metadata"))
	return append(allErrs, validatePoolSpec(&newPool.Spec, field.NewPath("spec"))...)
}

func validatePoolSpec(spec *EnvironmentPoolSpec, path *field.Path) field.ErrorList {
	var allErrs field.ErrorList
	if spec.Size < 0 || spec.Size > MaxPoolSize {
		allErrs = append(allErrs, field.Invalid(path.Child("size"), spec.Size, fmt.Sprintf("must be between 0 and %d", MaxPoolSize)))
	}
	allErrs = append(allErrs, validateEnum(path.Child("standby"), spec.Standby, StandbyPaused, StandbyRunning)...)
	tpl := path.Child("template")
	t := &spec.Template
	if t.PoolRef != nil {
		allErrs = append(allErrs, field.Forbidden(tpl.Child("poolRef"), "a standby claims from no pool"))
	}
	if t.Standby != nil {
		allErrs = append(allErrs, field.Forbidden(tpl.Child("standby"), "berth sets it on each standby"))
	}
	if t.Lease != nil {
		allErrs = append(allErrs, field.Forbidden(tpl.Child("lease"), "a standby has no holder to renew it"))
	}
	if t.TTLSecondsAfterReady != nil {
		allErrs = append(allErrs, field.Forbidden(tpl.Child("ttlSecondsAfterReady"), "a standby would expire while it waits"))
	}
	if t.PoolRef == nil && t.Standby == nil {
		allErrs = append(allErrs, validateSpec(t, tpl)...)
	}
	return allErrs
}

// validatePoolObjectName: a pool's name prefixes its standbys' names.
func validatePoolObjectName(name string, prefix bool) []string {
	if prefix {
		return []string{"generateName is not supported for an EnvironmentPool"}
	}
	var msgs []string
	if len(name) > MaxPoolNameLength {
		msgs = append(msgs, validation.MaxLenError(MaxPoolNameLength))
	}
	return append(msgs, dns1123LabelFormat(name)...)
}
