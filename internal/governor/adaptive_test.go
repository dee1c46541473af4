package governor

import (
	"testing"
	"time"
)

// feed sends n samples of latency d for op, spread over one AIMD window.
func feed(a *aimd, now *time.Time, op string, d time.Duration, n int, saturated bool) {
	step := aimdWindow / time.Duration(n)
	for i := 0; i < n; i++ {
		*now = now.Add(step)
		a.observe(*now, op, d, 1, false, saturated)
	}
}

func TestAIMDGrowsWhileHealthyAndSaturated(t *testing.T) {
	now := time.Unix(1000, 0)
	a := newAIMD(2, 1, 8, now, nil)
	for i := 0; i < 10; i++ {
		feed(a, &now, "container_inspect", 2*time.Millisecond, 10, true)
	}
	if got := a.current(); got != 8 {
		t.Fatalf("limit after healthy saturated windows = %d, want the cap 8", got)
	}
}

// TestAIMDSlowStart: a large batch from start-up doubles the limit per
// healthy saturated window (2, 4, 8) until the first decrease; after it
// the limit grows by one per window.
func TestAIMDSlowStart(t *testing.T) {
	now := time.Unix(1000, 0)
	a := newAIMD(2, 1, 8, now, nil)
	for _, want := range []int{4, 8, 8} {
		feed(a, &now, "container_start", 300*time.Millisecond, 10, true)
		if got := a.current(); got != want {
			t.Fatalf("limit in slow start = %d, want %d", got, want)
		}
	}
	a.observe(now, "container_start", time.Second, 1, true, true) // halves to 4
	now = now.Add(2 * aimdWindow)                                 // past the hold
	feed(a, &now, "container_start", 300*time.Millisecond, 10, true)
	feed(a, &now, "container_start", 300*time.Millisecond, 10, true)
	if got := a.current(); got != 5 {
		t.Fatalf("limit one healthy window after a decrease = %d, want 5 (additive)", got)
	}
}

func TestAIMDHoldsWhenNotSaturated(t *testing.T) {
	now := time.Unix(1000, 0)
	a := newAIMD(2, 1, 8, now, nil)
	for i := 0; i < 5; i++ {
		feed(a, &now, "container_inspect", 2*time.Millisecond, 10, false)
	}
	if got := a.current(); got != 2 {
		t.Fatalf("limit grew to %d without demand", got)
	}
}

func TestAIMDHalvesOnLatencySpike(t *testing.T) {
	now := time.Unix(1000, 0)
	a := newAIMD(2, 1, 8, now, nil)
	for i := 0; i < 6; i++ {
		feed(a, &now, "container_inspect", 2*time.Millisecond, 10, true)
	}
	if a.current() != 8 {
		t.Fatalf("setup: limit %d, want 8", a.current())
	}
	feed(a, &now, "container_inspect", 400*time.Millisecond, 10, true)
	if got := a.current(); got != 4 {
		t.Fatalf("limit after a spiky window = %d, want 4", got)
	}
	// The baseline must not absorb the spike: more spiky windows keep
	// cutting down to the floor.
	for i := 0; i < 6; i++ {
		feed(a, &now, "container_inspect", 400*time.Millisecond, 10, true)
	}
	if got := a.current(); got != 1 {
		t.Fatalf("limit after sustained spikes = %d, want 1", got)
	}
	// Latency back to normal: additive increase again.
	for i := 0; i < 4; i++ {
		feed(a, &now, "container_inspect", 2*time.Millisecond, 10, true)
	}
	if got := a.current(); got < 3 {
		t.Fatalf("limit after recovery = %d, want it to grow again", got)
	}
}

func TestAIMDHalvesOnTransientError(t *testing.T) {
	now := time.Unix(1000, 0)
	a := newAIMD(6, 1, 8, now, nil)
	a.observe(now, "container_start", time.Second, 1, true, true)
	if got := a.current(); got != 3 {
		t.Fatalf("limit after an error = %d, want 3", got)
	}
	// A second error within the hold window is the same congestion event.
	a.observe(now.Add(100*time.Millisecond), "container_start", time.Second, 1, true, true)
	if got := a.current(); got != 3 {
		t.Fatalf("limit after a second error in the hold window = %d, want 3", got)
	}
	a.observe(now.Add(2*aimdWindow), "container_start", time.Second, 1, true, true)
	if got := a.current(); got != 1 {
		t.Fatalf("limit after a later error = %d, want 1", got)
	}
}

func TestAIMDBaselinesArePerOperation(t *testing.T) {
	now := time.Unix(1000, 0)
	a := newAIMD(2, 1, 8, now, nil)
	// Interleave fast inspects and slow starts: neither is a spike
	// relative to its own baseline.
	for w := 0; w < 6; w++ {
		for i := 0; i < 10; i++ {
			now = now.Add(aimdWindow / 10)
			if i%2 == 0 {
				a.observe(now, "container_inspect", 2*time.Millisecond, 1, false, true)
			} else {
				a.observe(now, "container_start", 600*time.Millisecond, 1, false, true)
			}
		}
	}
	if got := a.current(); got != 8 {
		t.Fatalf("limit with mixed healthy ops = %d, want 8", got)
	}
}

func TestAIMDAcceptsLastingSlowdown(t *testing.T) {
	now := time.Unix(1000, 0)
	a := newAIMD(4, 1, 8, now, nil)
	feed(a, &now, "container_inspect", 2*time.Millisecond, 10, true)
	// The daemon becomes slower for good; after two baseline epochs the
	// new latency is the baseline and the limit grows again.
	for i := 0; i < int(3*baselineEpoch/aimdWindow); i++ {
		feed(a, &now, "container_inspect", 300*time.Millisecond, 10, true)
	}
	low := a.current()
	for i := 0; i < 4; i++ {
		feed(a, &now, "container_inspect", 300*time.Millisecond, 10, true)
	}
	if got := a.current(); got <= low && got != 8 {
		t.Fatalf("limit stuck at %d after a lasting slowdown", got)
	}
}

// feedInFlight is feed with each call admitted among inflight calls.
func feedInFlight(a *aimd, now *time.Time, op string, d time.Duration, inflight, n int) {
	step := aimdWindow / time.Duration(n)
	for i := 0; i < n; i++ {
		*now = now.Add(step)
		a.observe(*now, op, d, inflight, false, true)
	}
}

// TestAIMDQueueingIsNoSpike: starts that take as much longer as there are
// more of them in flight (a daemon doing them one at a time) are the
// daemon being busy, not congested: the limit climbs to the cap and stays.
func TestAIMDQueueingIsNoSpike(t *testing.T) {
	now := time.Unix(1000, 0)
	a := newAIMD(2, 1, 8, now, nil)
	const one = 120 * time.Millisecond // a start alone
	for i := 0; i < 20; i++ {
		n := a.current()
		feedInFlight(a, &now, "container_start", time.Duration(n)*one, n, 10)
	}
	if got := a.current(); got != 8 {
		t.Fatalf("limit with latency in proportion to the calls in flight = %d, want the cap 8", got)
	}
}

// TestAIMDSlowerPerCallIsASpike: at the same calls in flight, starts that
// became three times slower each are congestion: the limit halves.
func TestAIMDSlowerPerCallIsASpike(t *testing.T) {
	now := time.Unix(1000, 0)
	var why string
	a := newAIMD(8, 1, 8, now, func(_ int, w string) { why = w })
	const one = 120 * time.Millisecond
	feedInFlight(a, &now, "container_start", 8*one, 8, 10)
	if got := a.current(); got != 8 {
		t.Fatalf("setup: limit %d, want 8", got)
	}
	feedInFlight(a, &now, "container_start", 3*8*one, 8, 10)
	if got := a.current(); got != 4 {
		t.Fatalf("limit after starts 3x slower at the same calls in flight = %d, want 4", got)
	}
	if want := "latency spike: container_start 10 of 10 calls"; why != want {
		t.Errorf("reason %q, want %q", why, want)
	}
}

func TestIsSpike(t *testing.T) {
	ref := sample{d: 100 * time.Millisecond, inflight: 2}
	for _, c := range []struct {
		s    sample
		want bool
	}{
		{sample{d: 290 * time.Millisecond, inflight: 1}, false}, // within 2.5x + slack
		{sample{d: 310 * time.Millisecond, inflight: 1}, true},  // fewer in flight: no discount
		{sample{d: 310 * time.Millisecond, inflight: 2}, true},
		{sample{d: 1000 * time.Millisecond, inflight: 8}, false}, // 4x the calls: up to 1.05 s
		{sample{d: 1100 * time.Millisecond, inflight: 8}, true},
		{sample{d: 250 * time.Millisecond, inflight: 0}, false}, // in flight unknown: as before
	} {
		if got := isSpike(ref, c.s); got != c.want {
			t.Errorf("isSpike(%v, %v) = %v, want %v", ref, c.s, got, c.want)
		}
	}
	if isSpike(sample{}, sample{d: time.Hour, inflight: 1}) {
		t.Error("a first sample (no baseline) counted as a spike")
	}
}

// TestAIMDOneFastCallIsNoBaseline: under a mixed load most creates take 60
// to 140 ms at 8 calls in flight and now and then one takes 14 ms (it ran
// while the starts around it waited). Measured against that one, half the
// creates would be spikes; against the typical create, none is, and the
// limit stays at the cap.
func TestAIMDOneFastCallIsNoBaseline(t *testing.T) {
	now := time.Unix(1000, 0)
	var why string
	a := newAIMD(8, 1, 8, now, func(_ int, w string) { why = w })
	creates := []time.Duration{14, 60, 70, 80, 90, 100, 110, 120, 130, 140}
	for w := 0; w < 10; w++ {
		for _, ms := range creates {
			now = now.Add(aimdWindow / time.Duration(len(creates)))
			a.observe(now, "container_create", ms*time.Millisecond, 8, false, true)
		}
	}
	if got := a.current(); got != 8 {
		t.Fatalf("limit with creates of a steady spread = %d, want the cap 8 (last change: %s)", got, why)
	}
}

// TestBaselineIsTheLowerEpochMedian: the reference is the median call of
// the faster of the two epochs, kept while the current epoch turns slow,
// and a new epoch's first calls only count once there are enough of them.
func TestBaselineIsTheLowerEpochMedian(t *testing.T) {
	now := time.Unix(1000, 0)
	b := &baseline{epochStart: now}
	if got := b.value(); got.d != 0 {
		t.Fatalf("reference with no calls = %v, want none", got)
	}
	for _, ms := range []time.Duration{10, 400, 20, 30, 40} { // median 30 ms at 1 in flight
		b.observe(now, sample{d: ms * time.Millisecond, inflight: 1})
	}
	if got, want := b.value(), (sample{d: 30 * time.Millisecond, inflight: 1}); got != want {
		t.Fatalf("reference = %v, want %v", got, want)
	}
	now = now.Add(baselineEpoch)
	for i := 0; i < 20; i++ { // a slow new epoch: 200 ms per slot at 4 in flight
		b.observe(now, sample{d: 800 * time.Millisecond, inflight: 4})
	}
	if got, want := b.value(), (sample{d: 30 * time.Millisecond, inflight: 1}); got != want {
		t.Fatalf("reference in a slower epoch = %v, want the previous epoch's %v", got, want)
	}
	now = now.Add(baselineEpoch)
	if got, want := b.value(), (sample{d: 30 * time.Millisecond, inflight: 1}); got != want {
		t.Fatalf("reference before the next epoch's first call = %v, want %v", got, want)
	}
	b.observe(now, sample{d: 800 * time.Millisecond, inflight: 4}) // rotates: prev = the slow epoch
	if got, want := b.value(), (sample{d: 800 * time.Millisecond, inflight: 4}); got != want {
		t.Fatalf("reference two epochs into a lasting slowdown = %v, want %v", got, want)
	}
}
