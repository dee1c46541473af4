package v1alpha1

import (
	"strings"
	"testing"

	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/apimachinery/pkg/util/validation/field"
)

// withWaits gives db a compose healthcheck and a log probe, and api an
// HTTPS probe, as a platform spec would.
func withWaits(e *Environment) (db, api *Service) {
	db, api = &e.Spec.Services[1], &e.Spec.Services[2]
	db.Healthcheck = &Healthcheck{Test: []string{"CMD", "pg_isready", "-U", "postgres"}, IntervalSeconds: 2, TimeoutSeconds: 1, Retries: 3, StartPeriodSeconds: 5}
	db.ReadinessProbe = &Probe{Log: &LogAction{Pattern: "database system is ready to accept connections", Occurrences: 2}}
	api.ReadinessProbe = &Probe{HTTPGet: &HTTPGetAction{Path: "/healthz", Port: intstr.FromString("http"), Scheme: URISchemeHTTPS, InsecureSkipVerify: true}}
	setProbeDefaults(db.ReadinessProbe)
	setProbeDefaults(api.ReadinessProbe)
	return db, api
}

func TestValidateWaitsAccepts(t *testing.T) {
	for _, tc := range []struct {
		name   string
		mutate func(db, api *Service)
	}{
		{"all waits", func(_, _ *Service) {}},
		{"CMD-SHELL", func(db, _ *Service) { db.Healthcheck.Test = []string{"CMD-SHELL", "pg_isready -U postgres || exit 1"} }},
		{"NONE", func(db, _ *Service) { db.Healthcheck = &Healthcheck{Test: []string{"NONE"}} }},
		{"disable", func(db, _ *Service) { db.Healthcheck = &Healthcheck{Disable: true} }},
		{"timings only", func(db, _ *Service) {
			db.Healthcheck = &Healthcheck{IntervalSeconds: MaxProbePeriodSeconds, Retries: MaxHealthcheckRetries}
		}},
		{"occurrences defaulted", func(db, _ *Service) { db.ReadinessProbe.Log.Occurrences = 0; setProbeDefaults(db.ReadinessProbe) }},
		{"plain HTTP spelled out", func(_, api *Service) {
			api.ReadinessProbe.HTTPGet.Scheme = URISchemeHTTP
			api.ReadinessProbe.HTTPGet.InsecureSkipVerify = false
		}},
		{"HTTPS verified", func(_, api *Service) { api.ReadinessProbe.HTTPGet.InsecureSkipVerify = false }},
		{"Ready on a healthcheck", func(db, _ *Service) { db.ReadinessProbe = nil }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			env := validEnv()
			tc.mutate(withWaits(env))
			if errs := ValidateEnvironment(env); len(errs) != 0 {
				t.Errorf("unexpected errors:\n%s", dump(errs))
			}
		})
	}
}

func TestValidateWaitsRejects(t *testing.T) {
	const (
		required     = field.ErrorTypeRequired
		invalid      = field.ErrorTypeInvalid
		notSupported = field.ErrorTypeNotSupported
		forbidden    = field.ErrorTypeForbidden
		tooLong      = field.ErrorTypeTooLong
		tooMany      = field.ErrorTypeTooMany
	)
	db, api := "spec.services[1]", "spec.services[2]"
	hc, lp, hg := db+".healthcheck", db+".readinessProbe.log", api+".readinessProbe.httpGet"
	for _, tc := range []struct {
		name   string
		mutate func(db, api *Service)
		path   string
		typ    field.ErrorType
		detail string
	}{
		{"unknown test form", func(db, _ *Service) { db.Healthcheck.Test = []string{"pg_isready"} }, hc + ".test[0]", notSupported, `"CMD-SHELL"`},
		{"CMD without program", func(db, _ *Service) { db.Healthcheck.Test = []string{"CMD"} }, hc + ".test[1]", required, ""},
		{"CMD with empty program", func(db, _ *Service) { db.Healthcheck.Test = []string{"CMD", ""} }, hc + ".test[1]", required, ""},
		{"CMD-SHELL split", func(db, _ *Service) { db.Healthcheck.Test = []string{"CMD-SHELL", "pg_isready", "-U"} }, hc + ".test", invalid, "exactly one command line"},
		{"NONE with args", func(db, _ *Service) { db.Healthcheck.Test = []string{"NONE", "x"} }, hc + ".test", invalid, "no arguments"},
		{"disable with a test", func(db, _ *Service) { db.Healthcheck.Disable = true }, hc + ".disable", invalid, "[NONE]"},
		{"huge test", func(db, _ *Service) {
			db.Healthcheck.Test = []string{"CMD-SHELL", strings.Repeat("x", MaxStringBytes+1)}
		}, hc + ".test[1]", tooLong, ""},
		{"too many test args", func(db, _ *Service) {
			db.Healthcheck.Test = append([]string{"CMD"}, make([]string, MaxArgs)...)
			db.Healthcheck.Test[1] = "x"
		}, hc + ".test", tooMany, ""},
		{"negative interval", func(db, _ *Service) { db.Healthcheck.IntervalSeconds = -1 }, hc + ".intervalSeconds", invalid, "greater than or equal to 0"},
		{"long interval", func(db, _ *Service) { db.Healthcheck.IntervalSeconds = MaxProbePeriodSeconds + 1 }, hc + ".intervalSeconds", invalid, "at most 300"},
		{"long timeout", func(db, _ *Service) { db.Healthcheck.TimeoutSeconds = MaxProbeTimeoutSeconds + 1 }, hc + ".timeoutSeconds", invalid, "at most 60"},
		{"many retries", func(db, _ *Service) { db.Healthcheck.Retries = MaxHealthcheckRetries + 1 }, hc + ".retries", invalid, "at most 1000"},
		{"negative retries", func(db, _ *Service) { db.Healthcheck.Retries = -3 }, hc + ".retries", invalid, "greater than or equal to 0"},
		{"long start period", func(db, _ *Service) { db.Healthcheck.StartPeriodSeconds = MaxHealthcheckStartPeriodSeconds + 1 }, hc + ".startPeriodSeconds", invalid, "at most"},
		{"Ready on a disabled healthcheck", func(db, _ *Service) { db.ReadinessProbe = nil; db.Healthcheck = &Healthcheck{Disable: true} },
			api + ".dependsOn[0].condition", invalid, "never becomes Ready"},
		{"empty pattern", func(db, _ *Service) { db.ReadinessProbe.Log.Pattern = "" }, lp + ".pattern", required, "regular expression"},
		{"bad pattern", func(db, _ *Service) { db.ReadinessProbe.Log.Pattern = "ready (to" }, lp + ".pattern", invalid, "missing closing )"},
		{"Perl-only pattern", func(db, _ *Service) { db.ReadinessProbe.Log.Pattern = `(?<=a)b` }, lp + ".pattern", invalid, "RE2"},
		{"long pattern", func(db, _ *Service) { db.ReadinessProbe.Log.Pattern = strings.Repeat("a", MaxLogPatternBytes+1) }, lp + ".pattern", tooLong, ""},
		{"zero occurrences", func(db, _ *Service) { db.ReadinessProbe.Log.Occurrences = -1 }, lp + ".occurrences", invalid, "at least 1"},
		{"many occurrences", func(db, _ *Service) { db.ReadinessProbe.Log.Occurrences = MaxLogOccurrences + 1 }, lp + ".occurrences", invalid, "at most 1000"},
		{"log and exec", func(db, _ *Service) { db.ReadinessProbe.Exec = &ExecAction{Command: []string{"true"}} }, db + ".readinessProbe.log", forbidden, "exec is already set"},
		{"unknown scheme", func(_, api *Service) { api.ReadinessProbe.HTTPGet.Scheme = "https" }, hg + ".scheme", notSupported, `"HTTPS"`},
		{"skip verify on HTTP", func(_, api *Service) { api.ReadinessProbe.HTTPGet.Scheme = "" }, hg + ".insecureSkipVerify", invalid, "only to scheme HTTPS"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			env := validEnv()
			tc.mutate(withWaits(env))
			expectError(t, ValidateEnvironment(env), 1, tc.path, tc.typ, tc.detail)
		})
	}
}

func TestLogProbeOccurrencesDefault(t *testing.T) {
	env := validEnv()
	env.Spec.Services[1].ReadinessProbe = &Probe{Log: &LogAction{Pattern: "ready"}}
	SetDefaults(env)
	if got := env.Spec.Services[1].ReadinessProbe.Log.Occurrences; got != 1 {
		t.Errorf("occurrences defaulted to %d, want 1", got)
	}
}

func TestHealthcheckDisabled(t *testing.T) {
	for _, tc := range []struct {
		h    *Healthcheck
		want bool
	}{
		{nil, false},
		{&Healthcheck{}, false},
		{&Healthcheck{Test: []string{"CMD", "true"}}, false},
		{&Healthcheck{Disable: true}, true},
		{&Healthcheck{Test: []string{"NONE"}}, true},
	} {
		if got := tc.h.Disabled(); got != tc.want {
			t.Errorf("%+v.Disabled() = %v, want %v", tc.h, got, tc.want)
		}
	}
}
