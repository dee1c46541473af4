package probe

import "time"

// Status is the readiness the Manager derived for one container from its
// probe results.
type Status struct {
	// Known: at least one probe has finished. Until then the container is
	// not ready (the initial delay may still be running).
	Known bool
	// Ready: the last run of results reached the success threshold and no
	// run of failures has reached the failure threshold since.
	Ready                bool
	ConsecutiveFailures  int
	ConsecutiveSuccesses int
	// Message is the last probe's failure message; empty after a success.
	Message   string
	LastProbe time.Time
}

// next folds one probe result into s the kubelet's way: a container starts
// not ready, turns ready after successThreshold successes in a row and not
// ready after failureThreshold failures in a row; shorter runs leave
// readiness as it was.
func (s Status) next(r Result, at time.Time, successThreshold, failureThreshold int) Status {
	s.Known = true
	s.LastProbe = at
	if r.Success {
		s.ConsecutiveSuccesses = saturatingInc(s.ConsecutiveSuccesses)
		s.ConsecutiveFailures = 0
		s.Message = ""
		if s.ConsecutiveSuccesses >= max(successThreshold, 1) {
			s.Ready = true
		}
	} else {
		s.ConsecutiveFailures = saturatingInc(s.ConsecutiveFailures)
		s.ConsecutiveSuccesses = 0
		s.Message = r.Message
		if s.Message == "" {
			s.Message = "probe failed"
		}
		if s.ConsecutiveFailures >= max(failureThreshold, 1) {
			s.Ready = false
		}
	}
	return s
}

// worthTelling says whether the controller should hear about a step from
// prev to cur: readiness flipped, a run of failures began, or the failure
// message changed (the status shows it). Repeats of the same answer are not
// news, so a steady container costs the controller nothing.
func worthTelling(prev, cur Status) bool {
	if prev.Ready != cur.Ready {
		return true
	}
	return cur.ConsecutiveFailures > 0 && (prev.ConsecutiveFailures == 0 || cur.Message != prev.Message)
}

// saturatingInc keeps a counter of a probe that runs for years from
// wrapping negative.
func saturatingInc(n int) int {
	if n >= 1<<30 {
		return n
	}
	return n + 1
}
