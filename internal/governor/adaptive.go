package governor

import (
	"cmp"
	"slices"
	"sort"
	"strconv"
	"strings"
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
	// An operation's baseline is the median of the first calls of an
	// epoch (baselineSamples of them, at least minBaselineSamples), the
	// lower of the current and the previous epoch's: a lasting change in
	// the daemon's speed is accepted after at most two epochs, while a
	// burst of injected or transient latency, or congestion later in an
	// epoch, is not.
	baselineEpoch      = 30 * time.Second
	baselineSamples    = 128
	minBaselineSamples = 5
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
	mu       sync.Mutex
	min, max int
	limit    int
	base     map[string]*baseline
	winStart time.Time
	samples  int
	spikes   int
	// spikeOps counts the window's spikes by operation, for the log line
	// of a decrease: which calls the daemon got slow at.
	spikeOps  map[string]int
	saturated bool
	// slowStart: no decrease yet, so the limit doubles per healthy,
	// saturated window.
	slowStart bool
	// holdUntil ignores signals right after a decrease: the calls already
	// in flight still carry the old congestion.
	holdUntil time.Time
	onChange  func(limit int, why string)
}

// baseline is an operation's typical recent call. The median, not the
// fastest: under a mixed load a create that happened to run while the
// starts around it waited takes 14 ms where most take 60 to 140 ms at the
// same 8 calls in flight, and measured against that one every other
// create was a spike (100 Environments × 5 services: 6 to 11 decreases
// per run, the limit averaging 6 of 8; replayed against the median, none).
type baseline struct {
	epochStart time.Time
	cur, prev  epochCalls
}

// sample is one finished call: its latency and how many calls were in
// flight with it.
type sample struct {
	d        time.Duration
	inflight int
}

// epochCalls are the first calls of an epoch, as per-slot latencies
// (latency over the calls in flight) and in-flight counts, each kept
// sorted for its median.
type epochCalls struct {
	perSlot  []time.Duration
	inflight []int
}

func (e *epochCalls) add(s sample) {
	if len(e.perSlot) >= baselineSamples {
		return
	}
	n := max(s.inflight, 1)
	insertSorted(&e.perSlot, s.d/time.Duration(n))
	insertSorted(&e.inflight, n)
}

// median is the epoch's typical per-slot latency and calls in flight;
// ok is false while it has too few calls to tell.
func (e *epochCalls) median() (perSlot time.Duration, inflight int, ok bool) {
	if len(e.perSlot) < minBaselineSamples {
		return 0, 0, false
	}
	return e.perSlot[len(e.perSlot)/2], e.inflight[len(e.inflight)/2], true
}

func insertSorted[T cmp.Ordered](s *[]T, v T) {
	i, _ := slices.BinarySearch(*s, v)
	*s = slices.Insert(*s, i, v)
}

func (b *baseline) observe(now time.Time, s sample) {
	if now.Sub(b.epochStart) >= baselineEpoch {
		b.prev, b.cur, b.epochStart = b.cur, epochCalls{}, now
	}
	b.cur.add(s)
}

// value is the reference call: the typical per-slot latency times the
// typical calls in flight, of whichever epoch was faster per slot; zero
// while neither has enough calls.
func (b *baseline) value() sample {
	slot, n, ok := b.prev.median()
	if cs, cn, cok := b.cur.median(); cok && (!ok || cs < slot) {
		slot, n, ok = cs, cn, true
	}
	if !ok {
		return sample{}
	}
	return sample{d: slot * time.Duration(n), inflight: n}
}

// isSpike tells a call slower than its operation's baseline allows. The
// daemon does most of a create or start one call at a time, so n calls in
// flight take about n times as long each as one alone: that is queueing,
// which the cap already bounds, not congestion, and cutting the limit for
// it only idles the daemon (100 Environments × 5 services swung the limit
// between 2 and 7 every few seconds while direct calls at 8 were faster).
// So the allowance grows with the calls in flight beyond the baseline's
// own: a spike is a daemon slower per call, not merely busier.
func isSpike(ref, s sample) bool {
	if ref.d <= 0 {
		return false
	}
	scale := 1.0
	if ref.inflight > 0 && s.inflight > ref.inflight {
		scale = float64(s.inflight) / float64(ref.inflight)
	}
	return float64(s.d) > spikeFactor*scale*float64(ref.d)+float64(spikeSlack)
}

func newAIMD(initial, lo, hi int, now time.Time, onChange func(int, string)) *aimd {
	return &aimd{
		min: lo, max: hi, limit: min(max(initial, lo), hi),
		base: map[string]*baseline{}, winStart: now, onChange: onChange,
		slowStart: true,
	}
}

// observe feeds one finished call: its operation, latency, how many calls
// held the shared cap with it when it was admitted (itself included),
// whether it failed transiently, and whether the shared cap was full when
// it was admitted.
func (a *aimd) observe(now time.Time, op string, d time.Duration, inflight int, transient, saturated bool) {
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
	ref, s := b.value(), sample{d: d, inflight: inflight}
	b.observe(now, s)
	a.samples++
	if isSpike(ref, s) {
		a.spikes++
		if a.spikeOps == nil {
			a.spikeOps = map[string]int{}
		}
		a.spikeOps[op]++
	}
	if saturated {
		a.saturated = true
	}
	if now.Sub(a.winStart) < aimdWindow {
		return
	}
	switch {
	case a.samples >= minWindowSamples && float64(a.spikes) > spikeShare*float64(a.samples):
		a.decreaseLocked(now, "latency spike: "+a.spikeSummaryLocked())
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
	clear(a.spikeOps)
}

// spikeSummaryLocked names the window's spiking operations, most first:
// "container_start 5, network_inspect 1 of 9 calls".
func (a *aimd) spikeSummaryLocked() string {
	ops := make([]string, 0, len(a.spikeOps))
	for op := range a.spikeOps {
		ops = append(ops, op)
	}
	sort.Slice(ops, func(i, j int) bool {
		if a.spikeOps[ops[i]] != a.spikeOps[ops[j]] {
			return a.spikeOps[ops[i]] > a.spikeOps[ops[j]]
		}
		return ops[i] < ops[j]
	})
	parts := make([]string, len(ops))
	for i, op := range ops {
		parts[i] = op + " " + strconv.Itoa(a.spikeOps[op])
	}
	return strings.Join(parts, ", ") + " of " + strconv.Itoa(a.samples) + " calls"
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
