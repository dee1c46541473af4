package v1alpha1

// Healthcheck is compose's healthcheck: the check Docker itself runs in
// the container (an image's HEALTHCHECK, replaced or turned off). A
// service without a readinessProbe whose container has a healthcheck is
// Ready while Docker reports it healthy.
type Healthcheck struct {
	// Test is the check as compose writes it: [CMD, prog, arg...] runs a
	// program, [CMD-SHELL, "command line"] runs it with the image's shell,
	// [NONE] turns the image's HEALTHCHECK off. Empty keeps the image's
	// test (and overrides only the timings).
	// +optional
	// +listType=atomic
	Test []string `json:"test,omitempty"`
	// IntervalSeconds between checks; 0 keeps the image's (Docker: 30).
	// +optional
	IntervalSeconds int32 `json:"intervalSeconds,omitempty"`
	// TimeoutSeconds of one check; 0 keeps the image's (Docker: 30).
	// +optional
	TimeoutSeconds int32 `json:"timeoutSeconds,omitempty"`
	// Retries: consecutive failures that make the container unhealthy; 0
	// keeps the image's (Docker: 3).
	// +optional
	Retries int32 `json:"retries,omitempty"`
	// StartPeriodSeconds during which failures do not count; 0 keeps the
	// image's.
	// +optional
	StartPeriodSeconds int32 `json:"startPeriodSeconds,omitempty"`
	// Disable turns the image's HEALTHCHECK off (like test: [NONE]).
	// +optional
	Disable bool `json:"disable,omitempty"`
}

// Healthcheck test forms, as compose and Docker spell them.
const (
	HealthcheckCmd      = "CMD"
	HealthcheckCmdShell = "CMD-SHELL"
	HealthcheckNone     = "NONE"
)

// Disabled says whether h turns the container's healthcheck off.
func (h *Healthcheck) Disabled() bool {
	return h != nil && (h.Disable || (len(h.Test) > 0 && h.Test[0] == HealthcheckNone))
}

// LogAction is a readiness check on the container's output: Ready once
// Pattern has matched Occurrences lines of what the container wrote
// (stdout and stderr) since it started. A match, once made, stays made for
// the container's life.
type LogAction struct {
	// Pattern is a Go regular expression (RE2 syntax), matched against each
	// line without its newline.
	Pattern string `json:"pattern"`
	// Occurrences: how many matching lines make the container Ready.
	// Default 1. (The official Postgres image prints its ready line twice:
	// once for the init server, once for the real one.)
	// +optional
	Occurrences int32 `json:"occurrences,omitempty"`
}

// URIScheme is the scheme of an HTTP probe.
type URIScheme string

// URI schemes.
const (
	URISchemeHTTP  URIScheme = "HTTP"
	URISchemeHTTPS URIScheme = "HTTPS"
)
