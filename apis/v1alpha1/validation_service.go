package v1alpha1

import (
	"fmt"
	"path"
	"strings"

	"github.com/distribution/reference"
	"k8s.io/apimachinery/pkg/util/sets"
	"k8s.io/apimachinery/pkg/util/validation"
	"k8s.io/apimachinery/pkg/util/validation/field"
)

func validateService(s *Service, p *field.Path, ctx *specContext) field.ErrorList {
	var allErrs field.ErrorList

	if s.Build == nil || s.Image != "" {
		// compose's rule: image, build, or both.
		allErrs = append(allErrs, validateImage(p.Child("image"), s.Image)...)
	}
	if s.Build != nil {
		allErrs = append(allErrs, validateBuild(s.Build, p.Child("build"))...)
	}
	allErrs = append(allErrs, validateEnum(p.Child("imagePullPolicy"), s.ImagePullPolicy,
		PullAlways, PullIfNotPresent, PullNever)...)
	allErrs = append(allErrs, validateEnum(p.Child("restartPolicy"), s.RestartPolicy,
		RestartAlways, RestartOnFailure, RestartNever)...)
	if l := s.RestartLimit; l != nil {
		lp := p.Child("restartLimit")
		switch {
		case s.RestartPolicy != RestartOnFailure:
			allErrs = append(allErrs, field.Forbidden(lp,
				"may only be set with restartPolicy OnFailure (Always restarts after every exit, Never after none)"))
		case *l < 1 || *l > MaxRestartLimit:
			allErrs = append(allErrs, field.Invalid(lp, *l, validation.InclusiveRangeError(1, MaxRestartLimit)))
		}
	}
	if g := s.TerminationGracePeriodSeconds; g != nil && (*g < 0 || *g > MaxTerminationGracePeriodSeconds) {
		allErrs = append(allErrs, field.Invalid(p.Child("terminationGracePeriodSeconds"), *g,
			validation.InclusiveRangeError(0, MaxTerminationGracePeriodSeconds)))
	}
	allErrs = append(allErrs, validateStopSignal(p.Child("stopSignal"), s.StopSignal)...)

	allErrs = append(allErrs, validateEnv(s.Env, p.Child("env"))...)
	allErrs = append(allErrs, validatePorts(s.Ports, p.Child("ports"))...)
	allErrs = append(allErrs, validateResources(&s.Resources, p.Child("resources"))...)
	allErrs = append(allErrs, validateVolumeMounts(s.VolumeMounts, p.Child("volumeMounts"), ctx)...)
	if s.ReadinessProbe != nil {
		allErrs = append(allErrs, validateProbe(s.ReadinessProbe, s, p.Child("readinessProbe"))...)
	}
	if s.Healthcheck != nil {
		allErrs = append(allErrs, validateHealthcheck(s.Healthcheck, p.Child("healthcheck"))...)
	}
	allErrs = append(allErrs, validateDependsOn(s, p.Child("dependsOn"), ctx)...)
	allErrs = append(allErrs, validateSettings(s, p)...)
	allErrs = append(allErrs, validateServiceFiles(s, p, ctx)...)
	allErrs = append(allErrs, validateReplicas(s, p)...)
	return allErrs
}

// validateImage accepts what `docker run` accepts as a reference (short
// names like postgres:16 included), so a typo fails at apply time rather
// than as a pull error minutes later.
func validateImage(p *field.Path, image string) field.ErrorList {
	if image == "" {
		return field.ErrorList{field.Required(p, "")}
	}
	if _, err := reference.ParseNormalizedNamed(image); err != nil {
		return field.ErrorList{field.Invalid(p, image, err.Error())}
	}
	return nil
}

func validateEnv(env []EnvVar, p *field.Path) field.ErrorList {
	var allErrs field.ErrorList
	seen := sets.New[string]()
	for i, e := range env {
		namePath := p.Index(i).Child("name")
		switch {
		case e.Name == "":
			allErrs = append(allErrs, field.Required(namePath, ""))
			continue
		case strings.Contains(e.Name, "="):
			// Docker splits NAME=value at the first '=', so such a name
			// would silently become another variable.
			allErrs = append(allErrs, field.Invalid(namePath, e.Name, "must not contain '='"))
		default:
			for _, msg := range validation.IsEnvVarName(e.Name) {
				allErrs = append(allErrs, field.Invalid(namePath, e.Name, msg))
			}
		}
		if seen.Has(e.Name) {
			allErrs = append(allErrs, field.Duplicate(namePath, e.Name))
		}
		seen.Insert(e.Name)
	}
	return allErrs
}

func validateVolumeMounts(mounts []VolumeMount, p *field.Path, ctx *specContext) field.ErrorList {
	var allErrs field.ErrorList
	seen := sets.New[string]()
	for i, m := range mounts {
		mp := p.Index(i)
		switch {
		case m.Name == "":
			allErrs = append(allErrs, field.Required(mp.Child("name"), ""))
		case !ctx.volumes.Has(m.Name):
			nf := field.NotFound(mp.Child("name"), m.Name)
			nf.Detail = "volume not declared in spec.volumes"
			allErrs = append(allErrs, nf)
		}

		pathPath := mp.Child("mountPath")
		switch {
		case m.MountPath == "":
			allErrs = append(allErrs, field.Required(pathPath, ""))
			continue
		case !path.IsAbs(m.MountPath):
			allErrs = append(allErrs, field.Invalid(pathPath, m.MountPath, "must be an absolute path"))
		case path.Clean(m.MountPath) != m.MountPath:
			allErrs = append(allErrs, field.Invalid(pathPath, m.MountPath,
				fmt.Sprintf("must be a clean path (%s)", path.Clean(m.MountPath))))
		case m.MountPath == "/":
			allErrs = append(allErrs, field.Invalid(pathPath, m.MountPath, "must not be the container's root"))
		}
		if seen.Has(m.MountPath) {
			allErrs = append(allErrs, field.Duplicate(pathPath, m.MountPath))
		}
		seen.Insert(m.MountPath)
	}
	return allErrs
}
