package governor

import (
	"sync"
	"time"
)

// AIMD tuning. The daemon's latency is judged per operation against a
// baseline, because an inspect (milliseconds) and a start (most of a second
// here) have nothing in common.
const (
	aimdWindow = time.Second
	// A sample is a spike when it exceeds spikeFactor x baseline plus
	// spikeSlack; the slack keeps millisecond jitter on fast calls from
	// counting.
	spikeFactor = 2.5
	spikeSlack  = 50 * time.Millisecond
	// More than this share of spikes in a window is congestion.
	spikeShare = 0.25
	// Baselines are the minimum over the current and previous epoch, so a
	// lasting change in the daemon's speed is accepted after at most two
	// epochs while a burst of injected or transient latency is not.
	baselineEpoch = 30 * time.Second
	// Below this many samples a window says nothing about latency.
	minWindowSamples = 3
)

// aimd is the adaptive profile's controller: increase of the concurrency
// limit while calls stay near their baseline latency and the limit is
// actually in use, multiplicative decrease (halving) on transient errors or
// latency spikes. The increase starts slow-start style (doubling per
// window) until the first decrease, then is additive (one per window): a
// large batch at start-up reaches the cap in a few windows, not one
// window per call slot, and a daemon that showed congestion is probed
// gently from then on.
type aimd struct {
	mu        sync.Mutex
	min, max  int
	limit     int
	base      map[string]*baseline
	winStart  time.Time
	samples   int
	spikes    int
	saturated bool
	// slowStart: no decrease yet, so the limit doubles per healthy,
	// saturated window.
	slowStart bool
	// holdUntil ignores signals right after a decrease: the calls already
	// in flight still carry the old congestion.
	holdUntil time.Time
	onChange  func(limit int, why string)
}

type baseline struct {
	epochStart time.Time
	cur, prev  time.Duration // 0 = no sample
}

func (b *baseline) observe(now time.Time, d time.Duration) {
	if now.Sub(b.epochStart) >= baselineEpoch {
		b.prev, b.cur, b.epochStart = b.cur, 0, now
	}
	if b.cur == 0 || d < b.cur {
		b.cur = d
	}
}

func (b *baseline) value() time.Duration {
	switch {
	case b.prev == 0:
		return b.cur
	case b.cur == 0:
		return b.prev
	default:
		return min(b.cur, b.prev)
	}
}

func newAIMD(initial, lo, hi int, now time.Time, onChange func(int, string)) *aimd {
	return &aimd{
		min: lo, max: hi, limit: min(max(initial, lo), hi),
		base: map[string]*baseline{}, winStart: now, onChange: onChange,
		slowStart: true,
	}
}

// observe feeds one finished call: its operation, latency, whether it failed
// transiently, and whether the shared cap was full when it was admitted.
func (a *aimd) observe(now time.Time, op string, d time.Duration, transient, saturated bool) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if now.Before(a.holdUntil) {
		return
	}
	if transient {
		a.decreaseLocked(now, "transient error")
		return
	}
	b := a.base[op]
	if b == nil {
		b = &baseline{epochStart: now}
		a.base[op] = b
	}
	ref := b.value()
	b.observe(now, d)
	a.samples++
	if ref > 0 && float64(d) > spikeFactor*float64(ref)+float64(spikeSlack) {
		a.spikes++
	}
	if saturated {
		a.saturated = true
	}
	if now.Sub(a.winStart) < aimdWindow {
		return
	}
	switch {
	case a.samples >= minWindowSamples && float64(a.spikes) > spikeShare*float64(a.samples):
		a.decreaseLocked(now, "latency spike")
	case a.saturated && a.samples >= minWindowSamples && a.limit < a.max:
		if a.slowStart {
			a.limit = min(a.limit*2, a.max)
			a.notifyLocked("healthy and saturated (slow start)")
		} else {
			a.limit++
			a.notifyLocked("healthy and saturated")
		}
		a.resetLocked(now)
	default:
		a.resetLocked(now)
	}
}

func (a *aimd) decreaseLocked(now time.Time, why string) {
	next := max(a.limit/2, a.min)
	a.slowStart = false
	a.resetLocked(now)
	a.holdUntil = now.Add(aimdWindow)
	if next != a.limit {
		a.limit = next
		a.notifyLocked(why)
	}
}

func (a *aimd) resetLocked(now time.Time) {
	a.winStart, a.samples, a.spikes, a.saturated = now, 0, 0, false
}

func (a *aimd) notifyLocked(why string) {
	if a.onChange != nil {
		a.onChange(a.limit, why)
	}
}

func (a *aimd) current() int {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.limit
}
