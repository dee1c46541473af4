package v1alpha1

import (
	"path"
	"path/filepath"
	"regexp"
	"strings"

	"k8s.io/apimachinery/pkg/util/validation"
	"k8s.io/apimachinery/pkg/util/validation/field"
)

// buildArgName is what a Dockerfile ARG name may be: Docker takes any
// word, but a name with '=' or spaces could never be referenced.
var buildArgName = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)

// buildTarget is a stage name as `FROM ... AS name` accepts it.
var buildTarget = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_.-]*$`)

// RelativePathMessage is the reason a relative host path is refused: the
// server cannot know what it was relative to.
const RelativePathMessage = "must be an absolute path on the manager's host (`berth apply -f` resolves a relative path against the directory of the YAML file; kubectl sends it unchanged)"

func validateBuild(b *Build, p *field.Path) field.ErrorList {
	var allErrs field.ErrorList
	cp := p.Child("context")
	switch {
	case b.Context == "":
		allErrs = append(allErrs, field.Required(cp, "the build context directory"))
	case len(b.Context) > MaxBuildPathLength:
		allErrs = append(allErrs, field.TooLong(cp, "", MaxBuildPathLength))
	case strings.ContainsRune(b.Context, 0):
		allErrs = append(allErrs, field.Invalid(cp, b.Context, "must not contain NUL"))
	case !filepath.IsAbs(b.Context):
		allErrs = append(allErrs, field.Invalid(cp, b.Context, RelativePathMessage))
	}
	// The context is a host path the manager reads: --allow-host-path
	// governs it in ValidatePolicy (validatePolicyHostPaths).

	dp := p.Child("dockerfile")
	if d := b.Dockerfile; d != "" {
		clean := path.Clean(filepath.ToSlash(d))
		switch {
		case len(d) > MaxBuildPathLength:
			allErrs = append(allErrs, field.TooLong(dp, "", MaxBuildPathLength))
		case strings.ContainsRune(d, 0):
			allErrs = append(allErrs, field.Invalid(dp, d, "must not contain NUL"))
		case path.IsAbs(clean) || filepath.IsAbs(d):
			allErrs = append(allErrs, field.Invalid(dp, d, "must be a path relative to the build context"))
		case clean == ".." || strings.HasPrefix(clean, "../"):
			allErrs = append(allErrs, field.Invalid(dp, d, "must stay inside the build context (no ..)"))
		case clean == ".":
			allErrs = append(allErrs, field.Invalid(dp, d, "must name a file"))
		}
	}

	ap := p.Child("args")
	if len(b.Args) > MaxBuildArgs {
		allErrs = append(allErrs, field.TooMany(ap, len(b.Args), MaxBuildArgs))
	}
	for _, k := range sortedKeys(b.Args) {
		v := b.Args[k]
		kp := ap.Key(k)
		if !buildArgName.MatchString(k) || len(k) > validation.DNS1123SubdomainMaxLength {
			allErrs = append(allErrs, field.Invalid(kp, k, "must be a build argument name: letters, digits and '_', not starting with a digit, at most 253 characters"))
		}
		if len(v) > MaxBuildArgValueLen {
			allErrs = append(allErrs, field.TooLong(kp, "", MaxBuildArgValueLen))
		}
	}

	if t := b.Target; t != "" {
		tp := p.Child("target")
		switch {
		case len(t) > MaxBuildTargetLen:
			allErrs = append(allErrs, field.TooLong(tp, "", MaxBuildTargetLen))
		case !buildTarget.MatchString(t):
			allErrs = append(allErrs, field.Invalid(tp, t, "must be a stage name (letters, digits, '_', '.', '-')"))
		}
	}
	return allErrs
}
