package plan

import "time"

// Outage is a stretch of time the Docker daemon was out of reach, as the
// Docker informer saw it: from an event stream's break until a full list
// succeeded again. A daemon restart stops every container inside one.
type Outage struct {
	Start time.Time
	End   time.Time
}

// outageLead widens an outage backwards: the daemon's shutdown may stop a
// container a moment before the stream break reaches the manager, and the
// two times come from different clocks of one host.
const outageLead = 2 * time.Second

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
