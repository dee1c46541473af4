package v1alpha1

import (
	"k8s.io/apimachinery/pkg/util/validation"
	"k8s.io/apimachinery/pkg/util/validation/field"
)

// validateReplicas checks service.replicas and what it rules out: a fixed
// host port, which only one container can bind.
func validateReplicas(s *Service, p *field.Path) field.ErrorList {
	if s.Replicas == nil {
		return nil
	}
	rp := p.Child("replicas")
	n := *s.Replicas
	switch {
	case n == 0:
		return field.ErrorList{field.Invalid(rp, n,
			"must be at least 1: berth does not keep a service with no container; delete the service from the spec instead")}
	case n < 0 || n > MaxReplicas:
		return field.ErrorList{field.Invalid(rp, n, validation.InclusiveRangeError(1, MaxReplicas))}
	case n == 1:
		return nil
	}
	var allErrs field.ErrorList
	for j, port := range s.Ports {
		if port.HostPort != nil && *port.HostPort > 0 {
			allErrs = append(allErrs, field.Invalid(p.Child("ports").Index(j).Child("hostPort"), *port.HostPort,
				"a host port can be published by one container only; use hostPort 0 or omit it with replicas > 1"))
		}
	}
	return allErrs
}
