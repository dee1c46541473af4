package governor

import (
	"container/list"
	"context"
	"sync"
	"time"

	"golang.org/x/time/rate"
)

// Lane is the admission class of a call. Lanes share one token bucket, so
// call starts are spaced whatever their kind, but they differ in which
// concurrency budget they draw on and in priority.
type Lane int

const (
	// LaneWrite: reconcile mutations (create, start, remove, ...). Highest
	// priority, may use every slot of the shared cap.
	LaneWrite Lane = iota
	// LaneLong: container stop, whose HTTP call lasts as long as the
	// container takes to exit (up to its grace period). It has its own cap
	// so a slow stop never blocks the daemon's other traffic (except under
	// desktop, where every call counts against the 3), and write priority
	// because it is teardown work.
	LaneLong
	// LaneRead: inspect, list, info and probe execs. Shares the cap with
	// writes but may never hold the slots reserved for writes, so probe and
	// informer traffic cannot starve reconcile writes.
	LaneRead
	// LaneStream: events, logs, wait, pulls. Takes a token to start but no
	// slot: a stream may stay open for hours. Its token comes first: a
	// stream start is rare, and the informer's event streams are what let
	// the controller see its writes land. Queued behind writes and reads
	// under a slow bucket (desktop), they could wait forever while a
	// controller that cannot see its starts keeps re-planning them.
	LaneStream
	// LaneBackground: work nobody waits for (a pool refilling its
	// standbys). Callers do not name it: a write or read whose context is
	// marked WithBackground is moved here. It holds a shared slot, is
	// admitted only while no write or read waits, and at most
	// backgroundCap at a time, so a claim or an apply arriving finds the
	// daemon nearly free.
	LaneBackground
	numLanes
)

// backgroundCap is how many background calls may be in flight at once.
const backgroundCap = 1

func (l Lane) String() string {
	switch l {
	case LaneWrite:
		return "write"
	case LaneLong:
		return "long"
	case LaneRead:
		return "read"
	case LaneBackground:
		return "background"
	default:
		return "stream"
	}
}

// readCap is how many of limit slots reads may hold: a third of the slots
// (at least one) stays for writes, except at limit 1 where the single slot
// is shared and writes only win by queue priority.
func readCap(limit int) int {
	n := limit - (limit+2)/3
	if n < 1 {
		n = 1
	}
	return n
}

type waiter struct {
	lane    Lane
	ready   chan struct{}
	granted bool
	elem    *list.Element
}

// gate admits calls: a call waits until its lane has a free slot and the
// token bucket has a token, and the highest-priority eligible waiter is
// admitted first. Doing both checks in one place is what keeps call starts
// spaced: a token taken long before a slot frees would let calls bunch up.
type gate struct {
	mu      sync.Mutex
	limit   int // shared cap of writes and reads
	longCap int
	// longShares makes stops count against the shared cap too (desktop:
	// at most 3 calls of any kind at the daemon, whatever they cost).
	longShares bool
	lim        *rate.Limiter // nil: no rate limit
	queues     [numLanes]*list.List
	inflight   [numLanes]int
	peak       int // high-water mark of writes+reads in flight
	timer      *time.Timer
	timerAt    time.Time
	closed     bool
}

func newGate(limit, longCap int, longShares bool, qps float64, burst int) *gate {
	g := &gate{limit: max(limit, 1), longCap: max(longCap, 1), longShares: longShares}
	if qps > 0 {
		g.lim = rate.NewLimiter(rate.Limit(qps), max(burst, 1))
		// Start with a single token, not a full bucket: a burst at
		// start-up is exactly the storm the limiter is for.
		g.lim.AllowN(time.Now(), max(burst, 1)-1)
	}
	for i := range g.queues {
		g.queues[i] = list.New()
	}
	return g
}

// admission is what a granted call learned from the gate, for stats and AIMD.
type admission struct {
	waited    time.Duration
	saturated bool // the shared cap was full when this call was admitted
	// inflight is how many calls held shared slots once this one was
	// admitted, itself included (its lane's own when it holds none).
	inflight int
}

// acquire blocks until the call may start or ctx ends. release must be
// called exactly once when the call has finished.
func (g *gate) acquire(ctx context.Context, l Lane) (release func(), adm admission, err error) {
	start := time.Now()
	w := &waiter{lane: l, ready: make(chan struct{})}
	g.mu.Lock()
	w.elem = g.queues[l].PushBack(w)
	g.dispatchLocked(start)
	g.mu.Unlock()

	select {
	case <-w.ready:
	case <-ctx.Done():
		g.mu.Lock()
		if w.granted {
			// Granted while we were giving up: hand the slot back.
			g.inflight[l]--
		} else {
			g.queues[l].Remove(w.elem)
		}
		g.dispatchLocked(time.Now())
		g.mu.Unlock()
		return nil, admission{}, ctx.Err()
	}
	adm.waited = time.Since(start)
	g.mu.Lock()
	// Demand exceeds capacity when others still queue for a slot or the
	// lane's own cap is full; only then is a higher limit worth trying.
	shared := g.sharedLocked()
	adm.inflight = shared
	if l == LaneLong && !g.longShares {
		adm.inflight = g.inflight[LaneLong]
	}
	adm.saturated = g.queues[LaneWrite].Len()+g.queues[LaneRead].Len() > 0 ||
		shared >= g.limit || (l == LaneRead && g.inflight[LaneRead] >= readCap(g.limit))
	g.mu.Unlock()
	var once sync.Once
	release = func() {
		once.Do(func() {
			g.mu.Lock()
			g.inflight[l]--
			g.dispatchLocked(time.Now())
			g.mu.Unlock()
		})
	}
	return release, adm, nil
}

// eligibleLocked returns the waiter to admit next, by lane priority, among
// queue heads whose lane has capacity.
// sharedLocked is the number of calls holding shared slots.
func (g *gate) sharedLocked() int {
	n := g.inflight[LaneWrite] + g.inflight[LaneRead] + g.inflight[LaneBackground]
	if g.longShares {
		n += g.inflight[LaneLong]
	}
	return n
}

func (g *gate) eligibleLocked() *waiter {
	shared := g.sharedLocked()
	for _, l := range [...]Lane{LaneStream, LaneWrite, LaneLong, LaneRead, LaneBackground} {
		front := g.queues[l].Front()
		if front == nil {
			continue
		}
		switch l {
		case LaneWrite:
			if shared >= g.limit {
				continue
			}
		case LaneLong:
			if g.inflight[LaneLong] >= g.longCap || (g.longShares && shared >= g.limit) {
				continue
			}
		case LaneRead:
			if shared >= g.limit || g.inflight[LaneRead] >= readCap(g.limit) {
				continue
			}
		case LaneBackground:
			if shared >= g.limit || g.inflight[LaneBackground] >= backgroundCap ||
				g.queues[LaneWrite].Len() > 0 || g.queues[LaneRead].Len() > 0 {
				continue
			}
		}
		return front.Value.(*waiter)
	}
	return nil
}

func (g *gate) dispatchLocked(now time.Time) {
	for {
		w := g.eligibleLocked()
		if w == nil {
			return
		}
		if g.lim != nil {
			tokens := g.lim.TokensAt(now)
			if tokens < 1 {
				wait := time.Duration((1 - tokens) / float64(g.lim.Limit()) * float64(time.Second))
				g.armLocked(now, wait)
				return
			}
			g.lim.AllowN(now, 1)
		}
		g.queues[w.lane].Remove(w.elem)
		g.inflight[w.lane]++
		if s := g.sharedLocked(); s > g.peak {
			g.peak = s
		}
		w.granted = true
		close(w.ready)
	}
}

// armLocked makes sure dispatch runs again when the next token is due.
func (g *gate) armLocked(now time.Time, wait time.Duration) {
	if g.closed {
		return
	}
	// Round up so the timer never fires a hair before the token exists.
	wait += time.Millisecond
	at := now.Add(wait)
	if g.timer != nil && !g.timerAt.IsZero() && !g.timerAt.After(at) {
		return
	}
	g.timerAt = at
	if g.timer == nil {
		g.timer = time.AfterFunc(wait, g.onTimer)
		return
	}
	g.timer.Reset(wait)
}

func (g *gate) onTimer() {
	g.mu.Lock()
	g.timerAt = time.Time{}
	g.dispatchLocked(time.Now())
	g.mu.Unlock()
}

// setLimit changes the shared cap (AIMD). Calls already in flight above a
// lowered cap finish normally; no new one starts until they drain below it.
func (g *gate) setLimit(n int) {
	g.mu.Lock()
	g.limit = max(n, 1)
	g.dispatchLocked(time.Now())
	g.mu.Unlock()
}

type gateSnapshot struct {
	limit    int
	inflight [numLanes]int
	waiting  [numLanes]int
	peak     int
}

func (g *gate) snapshot() gateSnapshot {
	g.mu.Lock()
	defer g.mu.Unlock()
	s := gateSnapshot{limit: g.limit, inflight: g.inflight, peak: g.peak}
	for i, q := range g.queues {
		s.waiting[i] = q.Len()
	}
	return s
}

func (g *gate) close() {
	g.mu.Lock()
	g.closed = true
	if g.timer != nil {
		g.timer.Stop()
	}
	g.mu.Unlock()
}
