package v1alpha1

import (
	"fmt"
	"slices"

	"k8s.io/apimachinery/pkg/api/resource"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/apimachinery/pkg/util/validation/field"
)

var (
	// minMemory is the smallest memory limit (and reservation) the Docker
	// daemon accepts; below it container create fails.
	minMemory = resource.MustParse("6Mi")
	// minCPU is Docker's smallest NanoCPUs step (0.01 CPU).
	minCPU = resource.MustParse("10m")
	// maxCPU is a sanity bound: Docker itself refuses more CPUs than the
	// host has, which only the manager can know.
	maxCPU = resource.MustParse("64")
)

var supportedResources = []ResourceName{ResourceCPU, ResourceMemory}

func validateResources(r *ResourceRequirements, p *field.Path) field.ErrorList {
	limits, allErrs := validateResourceList(r.Limits, p.Child("limits"), true)
	requests, reqErrs := validateResourceList(r.Requests, p.Child("requests"), false)
	allErrs = append(allErrs, reqErrs...)

	for _, name := range supportedResources {
		req, hasReq := requests[name]
		lim, hasLim := limits[name]
		if hasReq && hasLim && req.Cmp(lim) > 0 {
			allErrs = append(allErrs, field.Invalid(p.Child("requests").Key(string(name)), quantityText(r.Requests[name]),
				fmt.Sprintf("must be less than or equal to the %s limit (%s)", name, quantityText(r.Limits[name]))))
		}
	}
	return allErrs
}

// validateResourceList parses every quantity and returns the valid ones, so
// requests can be compared with limits without reporting a bad value twice.
func validateResourceList(list ResourceList, p *field.Path, isLimit bool) (map[ResourceName]resource.Quantity, field.ErrorList) {
	var allErrs field.ErrorList
	parsed := map[ResourceName]resource.Quantity{}

	// Sorted so that the same spec always gives the same error list.
	names := make([]ResourceName, 0, len(list))
	for name := range list {
		names = append(names, name)
	}
	slices.Sort(names)

	for _, name := range names {
		raw := quantityText(list[name])
		kp := p.Key(string(name))
		if !slices.Contains(supportedResources, name) {
			allErrs = append(allErrs, field.NotSupported(kp, name, supportedResources))
			continue
		}
		q, err := resource.ParseQuantity(raw)
		if err != nil {
			allErrs = append(allErrs, field.Invalid(kp, raw, err.Error()))
			continue
		}
		if q.Sign() <= 0 {
			allErrs = append(allErrs, field.Invalid(kp, raw, "must be greater than zero"))
			continue
		}
		if msg := checkBounds(name, q, isLimit); msg != "" {
			allErrs = append(allErrs, field.Invalid(kp, raw, msg))
			continue
		}
		parsed[name] = q
	}
	return parsed, allErrs
}

func checkBounds(name ResourceName, q resource.Quantity, isLimit bool) string {
	switch name {
	case ResourceMemory:
		if q.Cmp(minMemory) < 0 {
			return "must be at least 6Mi (Docker's minimum)"
		}
	case ResourceCPU:
		if isLimit && q.Cmp(minCPU) < 0 {
			return "must be at least 10m (Docker's minimum)"
		}
		if q.Cmp(maxCPU) > 0 {
			return "must be at most 64"
		}
	}
	return ""
}

// quantityText is the quantity as the user wrote it: YAML 512Mi arrives as
// a string, YAML 2 as an int.
func quantityText(v intstr.IntOrString) string {
	return v.String()
}
