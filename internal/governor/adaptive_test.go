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
		a.observe(*now, op, d, false, saturated)
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
	a.observe(now, "container_start", time.Second, true, true) // halves to 4
	now = now.Add(2 * aimdWindow)                              // past the hold
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
	a.observe(now, "container_start", time.Second, true, true)
	if got := a.current(); got != 3 {
		t.Fatalf("limit after an error = %d, want 3", got)
	}
	// A second error within the hold window is the same congestion event.
	a.observe(now.Add(100*time.Millisecond), "container_start", time.Second, true, true)
	if got := a.current(); got != 3 {
		t.Fatalf("limit after a second error in the hold window = %d, want 3", got)
	}
	a.observe(now.Add(2*aimdWindow), "container_start", time.Second, true, true)
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
				a.observe(now, "container_inspect", 2*time.Millisecond, false, true)
			} else {
				a.observe(now, "container_start", 600*time.Millisecond, false, true)
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
