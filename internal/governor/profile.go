package governor

import (
	"fmt"
	"time"
)

// Profile names a set of governor limits, chosen with --docker-profile.
type Profile string

const (
	// ProfileDesktop is the seed's numbers, for Docker Desktop and other
	// fragile daemons: at most 3 calls in flight and call starts at least
	// 0.5 s apart.
	ProfileDesktop Profile = "desktop"
	// ProfileCI is fixed limits measured on a 2-core CI machine (see
	// ciMaxInFlight).
	ProfileCI Profile = "ci"
	// ProfileAdaptive starts modest and moves the concurrency limit with
	// AIMD on the daemon's latency and errors, never above the hard cap.
	ProfileAdaptive Profile = "adaptive"
)

// Profiles lists the valid profile names, for flag help and validation.
var Profiles = []Profile{ProfileDesktop, ProfileCI, ProfileAdaptive}

const (
	// desktopInterval is the seed's 0.5 s between call starts plus 50 ms
	// for the hop between the governor's grant and the daemon's accept:
	// a goroutine woken late would otherwise let two requests reach the
	// daemon closer than 0.5 s apart.
	desktopInterval = 550 * time.Millisecond
	desktopInFlight = 3

	// ciMaxInFlight: measured with `go run ./hack/bench docker` on the
	// 2-core CI machine (Debian engine 20.10, 40-container batches of
	// create+start then stop+remove, 3 rounds, mean): 3 in flight 11.5 s,
	// 4 in flight 10.3 s, 5 in flight 12.1 s, against 10.2 s for direct
	// calls all at once and 12.1 s for direct calls 3 or 4 at a time. The
	// daemon serialises most of a start, so past 4 more concurrency only
	// queues inside the daemon. The token bucket is a guard against a
	// runaway loop and does not bind in normal work.
	ciMaxInFlight = 4
	ciQPS         = 200
	ciBurst       = 50

	// DefaultMaxInFlight is the adaptive profile's hard cap.
	DefaultMaxInFlight = 8
	adaptiveInitial    = 2
	adaptiveQPS        = 200
	adaptiveBurst      = 50
)

// limits are a profile's numbers after flag overrides.
type limits struct {
	profile  Profile
	adaptive bool
	initial  int // concurrency limit at start (fixed profiles: always)
	max      int // hard cap (adaptive)
	longCap  int // concurrent container stops
	// stopsShareCap counts stops against the shared cap (desktop).
	stopsShareCap bool
	qps           float64
	burst         int
}

// resolveLimits applies explicit --docker-max-inflight / --docker-qps
// overrides (0 = the profile's own) to a profile. qps < 0 disables the
// token bucket.
func resolveLimits(p Profile, maxInFlight int, qps float64) (limits, error) {
	if maxInFlight < 0 {
		return limits{}, fmt.Errorf("docker max in-flight %d: must not be negative", maxInFlight)
	}
	var l limits
	switch p {
	case ProfileDesktop:
		l = limits{initial: desktopInFlight, qps: float64(time.Second) / float64(desktopInterval), burst: 1, stopsShareCap: true}
	case ProfileCI:
		l = limits{initial: ciMaxInFlight, qps: ciQPS, burst: ciBurst}
	case ProfileAdaptive, "":
		p = ProfileAdaptive
		l = limits{adaptive: true, initial: adaptiveInitial, max: DefaultMaxInFlight, qps: adaptiveQPS, burst: adaptiveBurst}
	default:
		return limits{}, fmt.Errorf("docker profile %q: want one of %v", p, Profiles)
	}
	l.profile = p
	if maxInFlight > 0 {
		if l.adaptive {
			l.max = maxInFlight
			l.initial = min(l.initial, maxInFlight)
		} else {
			l.initial = maxInFlight
		}
	}
	if !l.adaptive {
		l.max = l.initial
	}
	switch {
	case qps < 0:
		l.qps, l.burst = 0, 0
	case qps > 0:
		l.qps = qps
		// A burst of a fifth of a second's worth keeps an override's
		// spacing close to what was asked for.
		l.burst = max(1, int(qps/5))
	}
	// Stops get the hard cap: 8 under the default (adaptive) profile.
	// Measured on the 2-core machine (Debian engine 20.10, 40 containers,
	// `go run ./hack/bench docker --sizes 40 --direct-workers 4,8,16,0
	// --profiles adaptive --throughput-duration 0`, one round on a shared
	// daemon): direct stop+remove took 3.85 s at 4 in flight, 2.90 s at 8,
	// 2.72 s at 16 and 2.81 s all at once. A stop mostly waits for the
	// process to exit, so past 8 more only queues in the daemon; below it
	// teardown is a third slower. The ci profile keeps its measured 4,
	// desktop its shared 3.
	l.longCap = l.max
	return l, nil
}

// CheckLimits reports whether a profile and its overrides make a valid
// governor, for config validation before New.
func CheckLimits(p Profile, maxInFlight int, qps float64) error {
	_, err := resolveLimits(p, maxInFlight, qps)
	return err
}
