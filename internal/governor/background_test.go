package governor

import (
	"context"
	"testing"
	"time"
)

// TestGateBackgroundGoesLast: with a write waiting, a freed slot goes to
// the write, and the background call is admitted only once nobody else
// waits.
func TestGateBackgroundGoesLast(t *testing.T) {
	g := newGate(1, 1, false, 0, 0)
	defer g.close()
	ctx := context.Background()
	hold, _, _ := g.acquire(ctx, LaneWrite)
	order := make(chan Lane, 2)
	start := func(l Lane) {
		go func() {
			rel, _, err := g.acquire(ctx, l)
			if err != nil {
				t.Error(err)
				return
			}
			order <- l
			time.Sleep(5 * time.Millisecond)
			rel()
		}()
	}
	start(LaneBackground)
	waitFor(t, func() bool { return g.snapshot().waiting[LaneBackground] == 1 })
	start(LaneWrite)
	waitFor(t, func() bool { return g.snapshot().waiting[LaneWrite] == 1 })
	hold()
	if first, second := <-order, <-order; first != LaneWrite || second != LaneBackground {
		t.Fatalf("admitted %s then %s, want write then background", first, second)
	}
}

// TestGateBackgroundCap: background calls never hold more than
// backgroundCap slots, so user work always finds the rest free.
func TestGateBackgroundCap(t *testing.T) {
	g := newGate(3, 3, false, 0, 0)
	defer g.close()
	ctx := context.Background()
	rel, _, err := g.acquire(ctx, LaneBackground)
	if err != nil {
		t.Fatal(err)
	}
	got := make(chan struct{})
	go func() {
		r, _, err := g.acquire(ctx, LaneBackground)
		if err == nil {
			close(got)
			r()
		}
	}()
	waitFor(t, func() bool { return g.snapshot().waiting[LaneBackground] == 1 })
	w, _, err := g.acquire(ctx, LaneWrite)
	if err != nil {
		t.Fatal(err)
	}
	w()
	select {
	case <-got:
		t.Fatal("a second background call was admitted past the cap")
	case <-time.After(20 * time.Millisecond):
	}
	rel()
	<-got
}

func TestWithBackground(t *testing.T) {
	if IsBackground(context.Background()) {
		t.Fatal("a plain context is background")
	}
	if !IsBackground(WithBackground(context.Background())) {
		t.Fatal("WithBackground not seen")
	}
}
