package plan

import "time"

// Outage is a stretch of time the Docker daemon was out of reach, as the
// Docker informer saw it: from an event stream's break until a full list
// succeeded again. A daemon restart stops every container inside one.
type Outage struct {
	Start time.Time
	End   time.Time
}

// outageLead widens an outage backwards. A daemon that shuts down stops
// every container first (each with its stop timeout, in parallel, within its
// 15 s default shutdown timeout) and keeps its event stream open meanwhile,
// so the exits come up to that long before the stream breaks (seen with
// Docker 20.10: kill and die events, then the stream's EOF). A real crash
// that close before a mere stream hiccup goes uncounted, which only delays a
// back-off by one crash.
const outageLead = 20 * time.Second

// inOutage reports whether an exit at t happened while the daemon was
// restarting or down: the daemon's doing, not a crash.
func inOutage(outages []Outage, t time.Time) bool {
	if t.IsZero() {
		return false
	}
	for _, o := range outages {
		if !t.Before(o.Start.Add(-outageLead)) && !t.After(o.End) {
			return true
		}
	}
	return false
}
