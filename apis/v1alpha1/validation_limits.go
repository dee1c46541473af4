package v1alpha1

import (
	"encoding/json"
	"fmt"

	"k8s.io/apimachinery/pkg/util/validation/field"
)

// Size limits of a spec. They are far above what real stacks use (the
// largest Compose files in the wild have a few dozen services, a handful of
// ports and mounts each, and at most a few hundred environment variables)
// and keep one Environment from costing the manager, its store and the
// Docker daemon without bound. The README's Environment API section lists
// them; keep the two in step.
const (
	// MaxSpecBytes bounds the defaulted spec as JSON. 200 services of the
	// usual shape (a dozen env vars, two ports, a mount, a probe,
	// resources, a dependency) come to about 290 KB. The stored object
	// also holds status, managedFields and, after a client-side `apply`,
	// a copy of the spec in an annotation (which Kubernetes caps at
	// 256 KiB); all of it must fit etcd's 1.5 MiB request limit.
	MaxSpecBytes = 512 << 10
	// MaxServices fits one Environment's containers on its network: a /24
	// subnet (what berth carves from an address pool) holds 253.
	MaxServices = 200
	// MaxVolumes is one volume per service, on average.
	MaxVolumes = MaxServices
	// MaxPortsPerService covers a service that publishes a small range;
	// Docker starts a proxy process for every published port.
	MaxPortsPerService = 100
	// MaxEnvPerService is generous even for applications configured
	// entirely through their environment (a few hundred variables).
	MaxEnvPerService = 1000
	// MaxVolumeMountsPerService: a service mounts a few volumes.
	MaxVolumeMountsPerService = 64
	// MaxDependsOnPerService: a service can wait for every other one.
	MaxDependsOnPerService = MaxServices
	// MaxArgs bounds command, args and an exec probe's command, each.
	MaxArgs = 256
	// MaxStringBytes bounds each command and args item and each env
	// value. The kernel refuses to exec an argument or NAME=value string
	// over 128 KiB (MAX_ARG_STRLEN), which would only show when the
	// container fails to start; a larger configuration belongs in a
	// volume or the image.
	MaxStringBytes = 32 << 10
)

// validateSpecSize checks the limits that bound the rest of validation
// too. A spec over them is reported with those errors only: checking each
// of ten thousand services (and every dependency cycle among them) would
// cost work in proportion to the bloat and bury the one error that matters.
func validateSpecSize(spec *EnvironmentSpec, path *field.Path) field.ErrorList {
	var allErrs field.ErrorList
	if n := encodedSize(spec); n > MaxSpecBytes {
		e := field.TooLong(path, "", MaxSpecBytes)
		e.Detail = fmt.Sprintf("the spec is %d bytes as JSON; it may not be more than %d bytes (move large configuration into a volume or the image)", n, MaxSpecBytes)
		allErrs = append(allErrs, e)
	}
	if n := len(spec.Services); n > MaxServices {
		allErrs = append(allErrs, field.TooMany(path.Child("services"), n, MaxServices))
	}
	if n := len(spec.Volumes); n > MaxVolumes {
		allErrs = append(allErrs, field.TooMany(path.Child("volumes"), n, MaxVolumes))
	}
	return allErrs
}

// encodedSize is the length of spec as JSON, as the API server stores it.
func encodedSize(spec *EnvironmentSpec) int {
	b, err := json.Marshal(spec)
	if err != nil {
		// Every field of the spec encodes; should that ever change,
		// the error must not let the spec past the limit.
		return MaxSpecBytes + 1
	}
	return len(b)
}

// validateServiceLimits checks the per-service list and string limits.
func validateServiceLimits(s *Service, p *field.Path) field.ErrorList {
	var allErrs field.ErrorList
	tooMany := func(name string, n, limit int) {
		if n > limit {
			allErrs = append(allErrs, field.TooMany(p.Child(name), n, limit))
		}
	}
	tooMany("ports", len(s.Ports), MaxPortsPerService)
	tooMany("env", len(s.Env), MaxEnvPerService)
	tooMany("volumeMounts", len(s.VolumeMounts), MaxVolumeMountsPerService)
	tooMany("dependsOn", len(s.DependsOn), MaxDependsOnPerService)
	allErrs = append(allErrs, validateArgs(s.Command, p.Child("command"))...)
	allErrs = append(allErrs, validateArgs(s.Args, p.Child("args"))...)
	for i, e := range s.Env {
		if len(e.Value) > MaxStringBytes {
			allErrs = append(allErrs, field.TooLong(p.Child("env").Index(i).Child("value"), "", MaxStringBytes))
		}
	}
	if pr := s.ReadinessProbe; pr != nil && pr.Exec != nil {
		allErrs = append(allErrs, validateArgs(pr.Exec.Command, p.Child("readinessProbe", "exec", "command"))...)
	}
	return allErrs
}

// validateArgs checks an argument list's length and each item's size.
func validateArgs(args []string, p *field.Path) field.ErrorList {
	var allErrs field.ErrorList
	if len(args) > MaxArgs {
		allErrs = append(allErrs, field.TooMany(p, len(args), MaxArgs))
	}
	for i, a := range args {
		if len(a) > MaxStringBytes {
			allErrs = append(allErrs, field.TooLong(p.Index(i), "", MaxStringBytes))
		}
	}
	return allErrs
}
