package v1alpha1

import (
	"fmt"
	"net/url"
	"strconv"
	"strings"

	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/apimachinery/pkg/util/validation"
	"k8s.io/apimachinery/pkg/util/validation/field"
)

// Probe timing limits. A probe is a readiness signal, not a job.
const (
	// MaxProbeTimeoutSeconds: a check that has not answered within a
	// minute is hung, not slow. The timeout is how long one probe holds
	// its worker, a connection or a Docker exec (plus the exec's 30 s of
	// queueing slack), and how long a hostile answer has to arrive.
	MaxProbeTimeoutSeconds = 60
	// MaxProbePeriodSeconds: readiness refreshed less often than every
	// five minutes would report a dead service Ready for
	// failureThreshold times that long.
	MaxProbePeriodSeconds = 300
	// MaxProbeInitialDelaySeconds matches the longest grace period: an
	// hour covers the slowest first start (a database restoring a dump).
	MaxProbeInitialDelaySeconds = MaxTerminationGracePeriodSeconds
	// MaxProbeThreshold bounds successThreshold and failureThreshold: a
	// thousand one-second probes already tolerate a quarter of an hour
	// of failure.
	MaxProbeThreshold = 1000
)

func validateProbe(probe *Probe, s *Service, p *field.Path) field.ErrorList {
	var allErrs field.ErrorList

	var handlers []string
	if probe.Exec != nil {
		handlers = append(handlers, "exec")
		allErrs = append(allErrs, validateExec(probe.Exec, p.Child("exec"))...)
	}
	if probe.HTTPGet != nil {
		handlers = append(handlers, "httpGet")
		allErrs = append(allErrs, validateHTTPGet(probe.HTTPGet, s, p.Child("httpGet"))...)
	}
	if probe.TCPSocket != nil {
		handlers = append(handlers, "tcpSocket")
		allErrs = append(allErrs, validateProbePort(probe.TCPSocket.Port, s, p.Child("tcpSocket", "port"))...)
	}
	if probe.Log != nil {
		handlers = append(handlers, "log")
		allErrs = append(allErrs, validateLogAction(probe.Log, p.Child("log"))...)
	}
	switch {
	case len(handlers) == 0:
		allErrs = append(allErrs, field.Required(p, "must specify a handler: exec, httpGet, tcpSocket or log"))
	case len(handlers) > 1:
		for _, h := range handlers[1:] {
			allErrs = append(allErrs, field.Forbidden(p.Child(h),
				fmt.Sprintf("may not specify more than one handler (%s is already set)", handlers[0])))
		}
	}

	bounded := func(name string, v, limit int32) {
		switch {
		case v < 1:
			allErrs = append(allErrs, field.Invalid(p.Child(name), v, "must be at least 1"))
		case v > limit:
			allErrs = append(allErrs, field.Invalid(p.Child(name), v, fmt.Sprintf("must be at most %d", limit)))
		}
	}
	bounded("periodSeconds", probe.PeriodSeconds, MaxProbePeriodSeconds)
	bounded("timeoutSeconds", probe.TimeoutSeconds, MaxProbeTimeoutSeconds)
	bounded("successThreshold", probe.SuccessThreshold, MaxProbeThreshold)
	bounded("failureThreshold", probe.FailureThreshold, MaxProbeThreshold)
	switch d := probe.InitialDelaySeconds; {
	case d < 0:
		allErrs = append(allErrs, field.Invalid(p.Child("initialDelaySeconds"), d,
			"must be greater than or equal to 0"))
	case d > MaxProbeInitialDelaySeconds:
		allErrs = append(allErrs, field.Invalid(p.Child("initialDelaySeconds"), d,
			fmt.Sprintf("must be at most %d", MaxProbeInitialDelaySeconds)))
	}
	return allErrs
}

func validateExec(e *ExecAction, p *field.Path) field.ErrorList {
	cp := p.Child("command")
	if len(e.Command) == 0 {
		return field.ErrorList{field.Required(cp, "the command to run, e.g. [pg_isready, -U, postgres]")}
	}
	if e.Command[0] == "" {
		return field.ErrorList{field.Required(cp.Index(0), "the program to run")}
	}
	return nil
}

func validateHTTPGet(h *HTTPGetAction, s *Service, p *field.Path) field.ErrorList {
	var allErrs field.ErrorList
	pathPath := p.Child("path")
	switch {
	case !strings.HasPrefix(h.Path, "/"):
		allErrs = append(allErrs, field.Invalid(pathPath, h.Path, "must start with /"))
	default:
		if _, err := url.ParseRequestURI(h.Path); err != nil {
			allErrs = append(allErrs, field.Invalid(pathPath, h.Path, "must be a valid request path"))
		}
	}
	allErrs = append(allErrs, validateScheme(h, p)...)
	return append(allErrs, validateProbePort(h.Port, s, p.Child("port"))...)
}

// validateProbePort accepts a port number or the name of one of the
// service's own ports, the way Kubernetes probes do.
func validateProbePort(port intstr.IntOrString, s *Service, p *field.Path) field.ErrorList {
	if port.Type == intstr.Int {
		if port.IntVal < 1 || port.IntVal > 65535 {
			return field.ErrorList{field.Invalid(p, port.IntVal, validation.InclusiveRangeError(1, 65535))}
		}
		return nil
	}
	name := port.StrVal
	if name == "" {
		return field.ErrorList{field.Required(p, "a port number or the name of one of the service's ports")}
	}
	for _, sp := range s.Ports {
		if sp.Name == name {
			return nil
		}
	}
	detail := fmt.Sprintf("no port named %q in this service's ports", name)
	if _, err := strconv.Atoi(name); err == nil {
		// YAML "8080" is a string here; say why it did not count as a number.
		detail += "; write a port number without quotes"
	}
	return field.ErrorList{field.Invalid(p, name, detail)}
}
