package v1alpha1

import (
	"strings"

	apiequality "k8s.io/apimachinery/pkg/api/equality"
	apivalidation "k8s.io/apimachinery/pkg/api/validation"
	"k8s.io/apimachinery/pkg/util/sets"
	"k8s.io/apimachinery/pkg/util/validation"
	"k8s.io/apimachinery/pkg/util/validation/field"
)

// Limits enforced by validation.
const (
	// MaxNameLength bounds Environment, service and volume names so that the
	// derived Docker names (berth_<env>_<service>) stay short and readable.
	MaxNameLength = 40
	// generatedSuffixLength is what the API server's name generator appends
	// to metadata.generateName.
	generatedSuffixLength = 5
	// MaxTerminationGracePeriodSeconds keeps a typo from stalling a teardown
	// for hours.
	MaxTerminationGracePeriodSeconds = 3600
	// MaxRestartLimit bounds restartLimit; more retries than this is no
	// limit in practice, which is what leaving it unset says.
	MaxRestartLimit = 10000
)

// ValidateEnvironment checks a defaulted Environment on create. Errors carry
// the exact field path (spec.services[1].ports[0].containerPort) so the user
// can find the line to fix.
func ValidateEnvironment(env *Environment) field.ErrorList {
	if env == nil {
		return field.ErrorList{field.Required(nil, "an Environment is required")}
	}
	allErrs := apivalidation.ValidateObjectMeta(&env.ObjectMeta, false, validateEnvironmentName, field.NewPath("metadata"))
	allErrs = append(allErrs, validateSpec(&env.Spec, field.NewPath("spec"))...)
	return append(allErrs, validateClaimOnCreate(&env.Spec, field.NewPath("spec"))...)
}

// ValidateStoredEnvironment is ValidateEnvironment without the rules that
// hold for a create only (a claimant's spec left to its pool and berth):
// what a controller checks of a stored Environment, whose binding or
// template copy is berth's own later write.
func ValidateStoredEnvironment(env *Environment) field.ErrorList {
	if env == nil {
		return field.ErrorList{field.Required(nil, "an Environment is required")}
	}
	allErrs := apivalidation.ValidateObjectMeta(&env.ObjectMeta, false, validateEnvironmentName, field.NewPath("metadata"))
	return append(allErrs, validateSpec(&env.Spec, field.NewPath("spec"))...)
}

// ValidateEnvironmentUpdate checks a defaulted Environment replacing oldEnv.
// The whole spec may change (changed services are recreated), except while
// the Environment is being deleted. An unchanged spec is not validated
// again: it was accepted before, and re-checking it against rules tightened
// since would block metadata-only updates such as the controller removing
// its finalizer, leaving the object stuck in deletion.
func ValidateEnvironmentUpdate(newEnv, oldEnv *Environment) field.ErrorList {
	if newEnv == nil || oldEnv == nil {
		return field.ErrorList{field.Required(nil, "both the new and the old Environment are required")}
	}
	allErrs := apivalidation.ValidateObjectMetaUpdate(&newEnv.ObjectMeta, &oldEnv.ObjectMeta, field.NewPath("metadata"))
	if apiequality.Semantic.DeepEqual(newEnv.Spec, oldEnv.Spec) {
		return allErrs
	}
	specPath := field.NewPath("spec")
	if oldEnv.DeletionTimestamp != nil {
		return append(allErrs, field.Forbidden(specPath, "may not change while the Environment is being deleted"))
	}
	allErrs = append(allErrs, validateSpec(&newEnv.Spec, specPath)...)
	allErrs = append(allErrs, validateHostUpdate(&newEnv.Spec, &oldEnv.Spec, specPath.Child("host"))...)
	return append(allErrs, validatePoolFieldsUpdate(&newEnv.Spec, &oldEnv.Spec, specPath)...)
}

// validateEnvironmentName is the metadata name rule, in the shape
// ValidateObjectMeta expects. A generateName prefix must leave room for the
// generated suffix.
func validateEnvironmentName(name string, prefix bool) []string {
	limit := MaxNameLength
	if prefix {
		limit -= generatedSuffixLength
		// The prefix is completed by a suffix, so a trailing dash is fine.
		if strings.HasSuffix(name, "-") {
			name = name[:len(name)-1] + "a"
		}
	}
	var msgs []string
	if len(name) > limit {
		msgs = append(msgs, validation.MaxLenError(limit))
	}
	return append(msgs, dns1123LabelFormat(name)...)
}

// dns1123LabelFormat is IsDNS1123Label without its length message, which
// would quote Kubernetes' 63 where berth's limit is lower.
func dns1123LabelFormat(name string) []string {
	var msgs []string
	for _, msg := range validation.IsDNS1123Label(name) {
		if msg != validation.MaxLenError(validation.DNS1123LabelMaxLength) {
			msgs = append(msgs, msg)
		}
	}
	return msgs
}

// validateName checks a service or volume name.
func validateName(path *field.Path, name string) field.ErrorList {
	if name == "" {
		return field.ErrorList{field.Required(path, "")}
	}
	var allErrs field.ErrorList
	if len(name) > MaxNameLength {
		allErrs = append(allErrs, field.TooLong(path, name, MaxNameLength))
	}
	for _, msg := range dns1123LabelFormat(name) {
		allErrs = append(allErrs, field.Invalid(path, name, msg))
	}
	return allErrs
}

// specContext is what the checks of one service need to know about the
// rest of the Environment.
//
// +k8s:openapi-gen=false
// +k8s:deepcopy-gen=false
type specContext struct {
	// services maps each name to its first declaration; duplicates are
	// reported once and otherwise ignored.
	services map[string]*Service
	volumes  sets.Set[string]
	// files and secrets are the names declared in spec.files and
	// spec.secrets.
	files, secrets sets.Set[string]
}

func validateSpec(spec *EnvironmentSpec, path *field.Path) field.ErrorList {
	if errs := validateSpecSize(spec, path); len(errs) > 0 {
		return errs
	}
	var allErrs field.ErrorList
	ctx := specContext{services: map[string]*Service{}, volumes: sets.New[string]()}

	volPath := path.Child("volumes")
	for i, v := range spec.Volumes {
		namePath := volPath.Index(i).Child("name")
		allErrs = append(allErrs, validateName(namePath, v.Name)...)
		if v.Name != "" && ctx.volumes.Has(v.Name) {
			allErrs = append(allErrs, field.Duplicate(namePath, v.Name))
		}
		ctx.volumes.Insert(v.Name)
		allErrs = append(allErrs, validateVolumeSource(&spec.Volumes[i], volPath.Index(i))...)
	}
	allErrs = append(allErrs, validateFilesAndSecrets(spec, path, &ctx)...)

	svcPath := path.Child("services")
	if len(spec.Services) == 0 && spec.PoolRef == nil {
		allErrs = append(allErrs, field.Required(svcPath, "at least one service is required"))
	}
	for i := range spec.Services {
		s := &spec.Services[i]
		namePath := svcPath.Index(i).Child("name")
		allErrs = append(allErrs, validateName(namePath, s.Name)...)
		if _, dup := ctx.services[s.Name]; dup && s.Name != "" {
			allErrs = append(allErrs, field.Duplicate(namePath, s.Name))
			continue
		}
		ctx.services[s.Name] = s
	}
	for i := range spec.Services {
		allErrs = append(allErrs, validateService(&spec.Services[i], svcPath.Index(i), &ctx)...)
		allErrs = append(allErrs, validateServiceLimits(&spec.Services[i], svcPath.Index(i))...)
	}
	allErrs = append(allErrs, validateHostPortConflicts(spec.Services, svcPath)...)
	allErrs = append(allErrs, validateNetworks(spec, path)...)
	allErrs = append(allErrs, validateDependencyCycles(spec.Services, svcPath)...)

	if ttl := spec.TTLSecondsAfterReady; ttl != nil && *ttl < 1 {
		allErrs = append(allErrs, field.Invalid(path.Child("ttlSecondsAfterReady"), *ttl, "must be at least 1 when set"))
	}
	allErrs = append(allErrs, validateLeaseBinding(spec.Lease, path.Child("lease"))...)
	allErrs = append(allErrs, validatePoolFields(spec, path)...)
	return append(allErrs, validateHost(spec.Host, path.Child("host"))...)
}

// validateEnum reports an empty value as Required and any other value
// outside allowed as NotSupported, listing the allowed values.
func validateEnum[T ~string](path *field.Path, value T, allowed ...T) field.ErrorList {
	if value == "" {
		return field.ErrorList{field.Required(path, "")}
	}
	for _, a := range allowed {
		if value == a {
			return nil
		}
	}
	return field.ErrorList{field.NotSupported(path, value, allowed)}
}
