package informer

import (
	"sync"
	"time"
)

// Outage is a stretch of time the Docker daemon was out of reach: from the
// moment an event stream broke (or the first list failed) until a list
// succeeded again. A daemon restart stops every container inside one, so
// exits that fall in it are the daemon's doing, not crashes.
type Outage struct {
	Start time.Time
	End   time.Time
}

// maxOutages bounds the record: only recent outages matter (an exit is
// judged when it is observed, within seconds), and a flapping daemon must
// not grow the manager.
const maxOutages = 32

// outageLog records outages as the informer sees them. Times are the
// manager's clock; Docker's own timestamps (FinishedAt) come from the same
// host's clock for a local daemon.
type outageLog struct {
	mu     sync.Mutex
	lostAt time.Time // start of the outage in progress; zero when none
	done   []Outage
}

// lost marks the daemon out of reach from t, unless an outage is open.
func (o *outageLog) lost(t time.Time) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.lostAt.IsZero() {
		o.lostAt = t
	}
}

// answered closes the open outage at t: a full list just succeeded, so
// whatever the daemon did meanwhile is in the cache now.
func (o *outageLog) answered(t time.Time) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.lostAt.IsZero() {
		return
	}
	o.done = append(o.done, Outage{Start: o.lostAt, End: t})
	if extra := len(o.done) - maxOutages; extra > 0 {
		o.done = append([]Outage(nil), o.done[extra:]...)
	}
	o.lostAt = time.Time{}
}

// list returns the outages, oldest first; one still open ends at now. It
// is included because a resumed event stream can replay the daemon's own
// kills from its start-up before the relist that closes the outage.
func (o *outageLog) list(now time.Time) []Outage {
	o.mu.Lock()
	defer o.mu.Unlock()
	out := append([]Outage(nil), o.done...)
	if !o.lostAt.IsZero() {
		out = append(out, Outage{Start: o.lostAt, End: now})
	}
	return out
}

// Outages are the daemon outages this informer lived through, oldest
// first: each from an event stream's break (or a failed first list) to the
// next successful list (now, for one still open). A stream that breaks while the daemon stays up
// makes a short one, which is harmless: it only forgives a crash that
// happened in that second.
func (i *Informer) Outages() []Outage { return i.outages.list(time.Now()) }
