package v1alpha1

import (
	"fmt"
	"regexp"

	"k8s.io/apimachinery/pkg/util/validation/field"
)

// Limits of the waits.
const (
	// MaxLogPatternBytes bounds a log probe's regular expression: RE2
	// runs in time linear in the line, but its program grows with the
	// pattern, and one line of a log is what a readiness pattern needs.
	MaxLogPatternBytes = 1024
	// MaxLogOccurrences bounds how many matching lines a log probe waits
	// for; a readiness line printed more than a thousand times is not a
	// readiness line.
	MaxLogOccurrences = 1000
	// MaxHealthcheckRetries is the probe's threshold limit: Docker's
	// retries are its failureThreshold.
	MaxHealthcheckRetries = MaxProbeThreshold
	// MaxHealthcheckStartPeriodSeconds matches the probe's initial delay.
	MaxHealthcheckStartPeriodSeconds = MaxProbeInitialDelaySeconds
)

// validateHealthcheck checks compose's healthcheck: the test's form and the
// timings against the probe's maxima (0 keeps the image's value).
func validateHealthcheck(h *Healthcheck, p *field.Path) field.ErrorList {
	var allErrs field.ErrorList
	tp := p.Child("test")
	if len(h.Test) > 0 {
		switch h.Test[0] {
		case HealthcheckNone:
			if len(h.Test) > 1 {
				allErrs = append(allErrs, field.Invalid(tp, h.Test, "[NONE] takes no arguments"))
			}
		case HealthcheckCmd:
			if len(h.Test) < 2 || h.Test[1] == "" {
				allErrs = append(allErrs, field.Required(tp.Index(1), "the program to run after CMD"))
			}
		case HealthcheckCmdShell:
			if len(h.Test) != 2 || h.Test[1] == "" {
				allErrs = append(allErrs, field.Invalid(tp, h.Test, `CMD-SHELL takes exactly one command line, e.g. [CMD-SHELL, "pg_isready -U postgres"]`))
			}
		default:
			allErrs = append(allErrs, field.NotSupported(tp.Index(0), h.Test[0],
				[]string{HealthcheckCmd, HealthcheckCmdShell, HealthcheckNone}))
		}
		allErrs = append(allErrs, validateArgs(h.Test, tp)...)
	}
	if h.Disable && len(h.Test) > 0 && h.Test[0] != HealthcheckNone {
		allErrs = append(allErrs, field.Invalid(p.Child("disable"), h.Disable, "may not be set together with a test other than [NONE]"))
	}
	bounded := func(name string, v, limit int32) {
		switch {
		case v < 0:
			allErrs = append(allErrs, field.Invalid(p.Child(name), v, "must be greater than or equal to 0"))
		case v > limit:
			allErrs = append(allErrs, field.Invalid(p.Child(name), v, fmt.Sprintf("must be at most %d", limit)))
		}
	}
	bounded("intervalSeconds", h.IntervalSeconds, MaxProbePeriodSeconds)
	bounded("timeoutSeconds", h.TimeoutSeconds, MaxProbeTimeoutSeconds)
	bounded("retries", h.Retries, MaxHealthcheckRetries)
	bounded("startPeriodSeconds", h.StartPeriodSeconds, MaxHealthcheckStartPeriodSeconds)
	return allErrs
}

// validateLogAction checks a log probe: a pattern that compiles, within
// the bounds.
func validateLogAction(l *LogAction, p *field.Path) field.ErrorList {
	var allErrs field.ErrorList
	pp := p.Child("pattern")
	switch {
	case l.Pattern == "":
		allErrs = append(allErrs, field.Required(pp, "a regular expression matched against each line of the container's output"))
	case len(l.Pattern) > MaxLogPatternBytes:
		allErrs = append(allErrs, field.TooLong(pp, "", MaxLogPatternBytes))
	default:
		if _, err := regexp.Compile(l.Pattern); err != nil {
			allErrs = append(allErrs, field.Invalid(pp, l.Pattern, "must be a valid regular expression (RE2): "+err.Error()))
		}
	}
	switch o := l.Occurrences; {
	case o < 1:
		allErrs = append(allErrs, field.Invalid(p.Child("occurrences"), o, "must be at least 1"))
	case o > MaxLogOccurrences:
		allErrs = append(allErrs, field.Invalid(p.Child("occurrences"), o, fmt.Sprintf("must be at most %d", MaxLogOccurrences)))
	}
	return allErrs
}

// validateScheme checks an HTTP probe's scheme and its TLS flag.
func validateScheme(h *HTTPGetAction, p *field.Path) field.ErrorList {
	switch h.Scheme {
	case "", URISchemeHTTP:
		if h.InsecureSkipVerify {
			return field.ErrorList{field.Invalid(p.Child("insecureSkipVerify"), true, "applies only to scheme HTTPS")}
		}
	case URISchemeHTTPS:
	default:
		return field.ErrorList{field.NotSupported(p.Child("scheme"), h.Scheme, []string{string(URISchemeHTTP), string(URISchemeHTTPS)})}
	}
	return nil
}

// healthcheckReady says whether a dependency on target's Ready can be
// met without a readinessProbe: the spec has a healthcheck that is not
// turned off (one without a test says the image has its own; an image's
// HEALTHCHECK itself is not known at admission).
func healthcheckReady(target *Service) bool {
	return target.Healthcheck != nil && !target.Healthcheck.Disabled()
}
