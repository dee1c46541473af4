package v1alpha1

import (
	"k8s.io/apimachinery/pkg/util/validation"
	"k8s.io/apimachinery/pkg/util/validation/field"
)

// ValidateHostName checks a Docker host's name (spec.host, status.host,
// the manager's --host): a DNS subdomain (lower-case letters, digits, '-'
// and '.', at most 253 characters), so it reads the same in a label, a
// Lease name and a column. It returns the reasons it is not one.
func ValidateHostName(host string) []string {
	if host == "" {
		return []string{"must not be empty"}
	}
	return validation.IsDNS1123Subdomain(host)
}

func validateHost(host string, path *field.Path) field.ErrorList {
	if host == "" {
		return nil
	}
	var allErrs field.ErrorList
	for _, msg := range ValidateHostName(host) {
		allErrs = append(allErrs, field.Invalid(path, host, msg))
	}
	return allErrs
}

// validateHostUpdate keeps spec.host as created: the Environment's
// containers are on the host it was bound to, and moving them is not
// something berth does.
func validateHostUpdate(newSpec, oldSpec *EnvironmentSpec, path *field.Path) field.ErrorList {
	if newSpec.Host != oldSpec.Host {
		return field.ErrorList{field.Invalid(path, newSpec.Host,
			"may not be set, changed or removed after create (it was "+quoteOrUnset(oldSpec.Host)+")")}
	}
	return nil
}

// validateStatusHostUpdate keeps status.host once written: the binding
// precedes every Docker object, so changing it would strand them.
func validateStatusHostUpdate(newSt, oldSt *EnvironmentStatus, path *field.Path) field.ErrorList {
	if oldSt.Host != "" && newSt.Host != oldSt.Host {
		return field.ErrorList{field.Invalid(path, newSt.Host, "may not change once set (bound to "+quoteOrUnset(oldSt.Host)+")")}
	}
	return validateHost(newSt.Host, path)
}

func quoteOrUnset(s string) string {
	if s == "" {
		return "unset"
	}
	return `"` + s + `"`
}
