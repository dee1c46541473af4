package main

import (
	"fmt"
	"os"
	"strings"
	"syscall"
)

// catchable are the signals --stop-signals may name. Whatever is caught and
// not a stop signal is logged and ignored, so a test can tell which signal
// a stop sent (the image's STOPSIGNAL, or the spec's).
var catchable = []struct {
	name string
	sig  syscall.Signal
}{
	{"SIGTERM", syscall.SIGTERM}, {"SIGINT", syscall.SIGINT}, {"SIGQUIT", syscall.SIGQUIT},
	{"SIGHUP", syscall.SIGHUP}, {"SIGUSR1", syscall.SIGUSR1}, {"SIGUSR2", syscall.SIGUSR2},
}

// defaultStopSignals end the app when --stop-signals is not given.
var defaultStopSignals = []os.Signal{syscall.SIGTERM, syscall.SIGINT}

// parseStopSignals reads a comma-separated list of signal names (with or
// without SIG, any case).
func parseStopSignals(list string) ([]os.Signal, error) {
	var out []os.Signal
	for _, f := range strings.Split(list, ",") {
		name := strings.ToUpper(strings.TrimSpace(f))
		if name == "" {
			continue
		}
		if !strings.HasPrefix(name, "SIG") {
			name = "SIG" + name
		}
		found := false
		for _, c := range catchable {
			if c.name == name {
				out, found = append(out, c.sig), true
			}
		}
		if !found {
			return nil, fmt.Errorf("--stop-signals: unknown signal %q (want a list of SIGTERM, SIGINT, SIGQUIT, SIGHUP, SIGUSR1, SIGUSR2)", f)
		}
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("--stop-signals: no signal given")
	}
	return out, nil
}

// caughtSignals are what the app listens for: the stop signals, plus
// SIGTERM and SIGINT, which are always caught (and ignored when they are
// not stop signals) so Docker's default stop signal is logged, not fatal.
func caughtSignals(stop []os.Signal) []os.Signal {
	out := append([]os.Signal{syscall.SIGTERM, syscall.SIGINT}, stop...)
	return out
}

// signalName is the SIGxxx name of s, for log lines tests match.
func signalName(s os.Signal) string {
	for _, c := range catchable {
		if c.sig == s {
			return c.name
		}
	}
	return s.String()
}
