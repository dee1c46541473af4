package v1alpha1

import (
	"strconv"
	"strings"

	"k8s.io/apimachinery/pkg/util/validation/field"
)

// maxSignal is the highest Linux signal number (SIGRTMAX).
const maxSignal = 64

// validateStopSignal accepts what Docker accepts as a stop signal: a name
// with or without SIG (any case), SIGRTMIN+n / SIGRTMAX-n, or a number.
// SIGSTOP and SIGTSTP-like stops are refused: the process would freeze, not
// stop, and every teardown would wait out the grace period.
func validateStopSignal(p *field.Path, s string) field.ErrorList {
	if s == "" {
		return nil
	}
	n, ok := parseSignal(s)
	switch {
	case !ok:
		return field.ErrorList{field.Invalid(p, s,
			"must be a signal name such as SIGTERM, SIGINT, SIGQUIT or SIGUSR1, or a number 1-64")}
	case n == 19 || n == 20 || n == 21 || n == 22: // STOP, TSTP, TTIN, TTOU
		return field.ErrorList{field.Invalid(p, s, "stops the process instead of ending it; use SIGTERM, SIGINT or SIGQUIT")}
	}
	return nil
}

// parseSignal returns the signal number of s, as Docker reads it.
func parseSignal(s string) (int, bool) {
	if n, err := strconv.Atoi(s); err == nil {
		return n, n >= 1 && n <= maxSignal
	}
	name := strings.TrimPrefix(strings.ToUpper(s), "SIG")
	for _, rt := range []struct {
		prefix string
		base   int
		sign   int
	}{{"RTMIN+", 34, 1}, {"RTMAX-", 64, -1}} {
		if rest, ok := strings.CutPrefix(name, rt.prefix); ok {
			off, err := strconv.Atoi(rest)
			if err != nil || off < 1 || off > 15 {
				return 0, false
			}
			return rt.base + rt.sign*off, true
		}
	}
	switch name {
	case "RTMIN":
		return 34, true
	case "RTMAX":
		return 64, true
	}
	n, ok := signalNumbers[name]
	return n, ok
}

// signalNumbers are the Linux signal names Docker's engine accepts for a
// stop signal (moby's signal map), without the SIG prefix.
var signalNumbers = map[string]int{
	"HUP": 1, "INT": 2, "QUIT": 3, "ILL": 4, "TRAP": 5, "ABRT": 6, "IOT": 6, "BUS": 7, "FPE": 8,
	"KILL": 9, "USR1": 10, "SEGV": 11, "USR2": 12, "PIPE": 13, "ALRM": 14, "TERM": 15, "STKFLT": 16,
	"CHLD": 17, "CLD": 17, "CONT": 18, "STOP": 19, "TSTP": 20, "TTIN": 21, "TTOU": 22, "URG": 23,
	"XCPU": 24, "XFSZ": 25, "VTALRM": 26, "PROF": 27, "WINCH": 28, "IO": 29, "POLL": 29, "PWR": 30, "SYS": 31,
}
