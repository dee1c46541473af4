package v1alpha1

import (
	"strings"
	"testing"

	"k8s.io/apimachinery/pkg/util/validation/field"
)

func TestValidateStopSignalAccepts(t *testing.T) {
	for _, s := range []string{"", "SIGTERM", "SIGINT", "SIGQUIT", "SIGUSR1", "SIGUSR2", "SIGHUP", "SIGKILL",
		"sigint", "TERM", "quit", "SIGRTMIN+3", "SIGRTMAX-1", "RTMIN", "15", "3", "64"} {
		env := validEnv()
		env.Spec.Services[2].StopSignal = s
		if errs := ValidateEnvironment(env); len(errs) != 0 {
			t.Errorf("stopSignal %q: unexpected errors: %v", s, errs)
		}
	}
}

func TestValidateStopSignalRejects(t *testing.T) {
	const path = "spec.services[2].stopSignal"
	for _, tc := range []struct{ signal, detail string }{
		{"SIGFOO", "signal name such as SIGTERM"},
		{"TERMINATE", "signal name such as SIGTERM"},
		{"SIG", "signal name such as SIGTERM"},
		{"0", "signal name such as SIGTERM"},
		{"65", "signal name such as SIGTERM"},
		{"-15", "signal name such as SIGTERM"},
		{"SIGRTMIN+16", "signal name such as SIGTERM"},
		{"SIGRTMIN+x", "signal name such as SIGTERM"},
		{"SIG TERM", "signal name such as SIGTERM"},
		{"SIGSTOP", "stops the process instead of ending it"},
		{"SIGTSTP", "stops the process instead of ending it"},
		{"19", "stops the process instead of ending it"},
	} {
		env := validEnv()
		env.Spec.Services[2].StopSignal = tc.signal
		errs := ValidateEnvironment(env)
		if len(errs) != 1 {
			t.Errorf("stopSignal %q: got %d errors, want 1: %v", tc.signal, len(errs), errs)
			continue
		}
		e := errs[0]
		if e.Field != path || e.Type != field.ErrorTypeInvalid || !strings.Contains(e.Detail, tc.detail) {
			t.Errorf("stopSignal %q: got %s %s %q, want %s Invalid containing %q", tc.signal, e.Field, e.Type, e.Detail, path, tc.detail)
		}
	}
}
