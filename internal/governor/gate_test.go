package governor

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

func TestReadCapReservesWriteSlots(t *testing.T) {
	cases := map[int]int{1: 1, 2: 1, 3: 2, 4: 2, 6: 4, 8: 5}
	for limit, want := range cases {
		if got := readCap(limit); got != want {
			t.Errorf("readCap(%d) = %d, want %d", limit, got, want)
		}
		if limit > 1 && readCap(limit) >= limit {
			t.Errorf("readCap(%d) leaves no slot for writes", limit)
		}
	}
}

// TestGateCapsConcurrency runs many callers through a gate and checks the
// in-flight count never passes the cap.
func TestGateCapsConcurrency(t *testing.T) {
	g := newGate(3, 3, false, 0, 0)
	defer g.close()
	var cur, peak atomic.Int32
	var wg sync.WaitGroup
	for i := 0; i < 30; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			l := LaneWrite
			if i%2 == 0 {
				l = LaneRead
			}
			rel, _, err := g.acquire(context.Background(), l)
			if err != nil {
				t.Error(err)
				return
			}
			n := cur.Add(1)
			for {
				p := peak.Load()
				if n <= p || peak.CompareAndSwap(p, n) {
					break
				}
			}
			time.Sleep(5 * time.Millisecond)
			cur.Add(-1)
			rel()
		}(i)
	}
	wg.Wait()
	if p := peak.Load(); p > 3 || p < 2 {
		t.Fatalf("peak in flight %d, want 2..3", p)
	}
	if s := g.snapshot(); s.peak > 3 {
		t.Fatalf("gate peak %d > 3", s.peak)
	}
}

// TestGateSpacesStarts checks the token bucket spaces grants by 1/qps.
func TestGateSpacesStarts(t *testing.T) {
	const qps = 20 // 50 ms apart
	g := newGate(10, 10, false, qps, 1)
	defer g.close()
	var mu sync.Mutex
	var starts []time.Time
	var wg sync.WaitGroup
	for i := 0; i < 8; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			rel, _, err := g.acquire(context.Background(), LaneRead)
			if err != nil {
				t.Error(err)
				return
			}
			mu.Lock()
			starts = append(starts, time.Now())
			mu.Unlock()
			rel()
		}()
	}
	wg.Wait()
	sortTimes(starts)
	for i := 1; i < len(starts); i++ {
		// Grants are scheduled from the bucket's own clock; a goroutine may
		// note its time a little late but never before its grant.
		if gap := starts[i].Sub(starts[i-1]); gap < 45*time.Millisecond {
			t.Errorf("starts %d and %d only %s apart", i-1, i, gap)
		}
	}
}

// TestGateWritesBeatReads fills the cap, queues reads then a write, and
// checks the write is admitted first when a slot frees.
func TestGateWritesBeatReads(t *testing.T) {
	g := newGate(2, 2, false, 0, 0)
	defer g.close()
	ctx := context.Background()
	r1, _, _ := g.acquire(ctx, LaneWrite)
	r2, _, _ := g.acquire(ctx, LaneWrite)
	order := make(chan Lane, 3)
	var wg sync.WaitGroup
	start := func(l Lane) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			rel, _, err := g.acquire(ctx, l)
			if err != nil {
				t.Error(err)
				return
			}
			order <- l
			time.Sleep(10 * time.Millisecond)
			rel()
		}()
	}
	start(LaneRead)
	start(LaneRead)
	waitFor(t, func() bool { return g.snapshot().waiting[LaneRead] == 2 })
	start(LaneWrite)
	waitFor(t, func() bool { return g.snapshot().waiting[LaneWrite] == 1 })
	r1()
	if got := <-order; got != LaneWrite {
		t.Fatalf("first admitted after a slot freed: %s, want write", got)
	}
	r2()
	wg.Wait()
}

// TestGateReadsNeverTakeReservedSlot: with limit 3, reads alone never hold
// more than 2 slots, so a write is admitted at once.
func TestGateReadsNeverTakeReservedSlot(t *testing.T) {
	g := newGate(3, 3, false, 0, 0)
	defer g.close()
	ctx := context.Background()
	var rels []func()
	for i := 0; i < 2; i++ {
		rel, _, err := g.acquire(ctx, LaneRead)
		if err != nil {
			t.Fatal(err)
		}
		rels = append(rels, rel)
	}
	blocked := make(chan struct{})
	go func() {
		rel, _, err := g.acquire(ctx, LaneRead)
		if err == nil {
			rel()
		}
		close(blocked)
	}()
	waitFor(t, func() bool { return g.snapshot().waiting[LaneRead] == 1 })
	wctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	rel, _, err := g.acquire(wctx, LaneWrite)
	if err != nil {
		t.Fatalf("write not admitted while reads hold their share: %v", err)
	}
	rel()
	for _, r := range rels {
		r()
	}
	<-blocked
}

func TestGateAcquireRespectsContext(t *testing.T) {
	g := newGate(1, 1, false, 0, 0)
	defer g.close()
	rel, _, _ := g.acquire(context.Background(), LaneWrite)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	if _, _, err := g.acquire(ctx, LaneWrite); err == nil {
		t.Fatal("acquire on a full gate returned without waiting for the context")
	}
	if s := g.snapshot(); s.waiting[LaneWrite] != 0 {
		t.Fatalf("abandoned waiter left in queue: %+v", s)
	}
	rel()
	rel2, _, err := g.acquire(context.Background(), LaneWrite)
	if err != nil {
		t.Fatal(err)
	}
	rel2()
}

// TestGateStreamsTakeNoSlot: streams are admitted while the cap is full.
func TestGateStreamsTakeNoSlot(t *testing.T) {
	g := newGate(1, 1, false, 0, 0)
	defer g.close()
	rel, _, _ := g.acquire(context.Background(), LaneWrite)
	defer rel()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	srel, _, err := g.acquire(ctx, LaneStream)
	if err != nil {
		t.Fatalf("stream blocked by the shared cap: %v", err)
	}
	srel()
	lrel, _, err := g.acquire(ctx, LaneLong)
	if err != nil {
		t.Fatalf("stop blocked by the shared cap: %v", err)
	}
	lrel()
}

func TestGateSetLimitAdmitsWaiters(t *testing.T) {
	g := newGate(1, 1, false, 0, 0)
	defer g.close()
	rel, _, _ := g.acquire(context.Background(), LaneWrite)
	defer rel()
	got := make(chan struct{})
	go func() {
		r, _, err := g.acquire(context.Background(), LaneWrite)
		if err == nil {
			r()
		}
		close(got)
	}()
	waitFor(t, func() bool { return g.snapshot().waiting[LaneWrite] == 1 })
	g.setLimit(2)
	select {
	case <-got:
	case <-time.After(5 * time.Second):
		t.Fatal("raising the limit did not admit the waiter")
	}
}

func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal("condition not reached within 10s")
		}
		time.Sleep(time.Millisecond)
	}
}

func sortTimes(ts []time.Time) {
	for i := 1; i < len(ts); i++ {
		for j := i; j > 0 && ts[j].Before(ts[j-1]); j-- {
			ts[j], ts[j-1] = ts[j-1], ts[j]
		}
	}
}

// TestGateDesktopStopsShareCap: with longShares, a stop holds one of the
// shared slots, so no more than the limit of calls of any kind run.
func TestGateDesktopStopsShareCap(t *testing.T) {
	g := newGate(2, 2, true, 0, 0)
	defer g.close()
	ctx := context.Background()
	r1, _, _ := g.acquire(ctx, LaneLong)
	r2, _, _ := g.acquire(ctx, LaneWrite)
	wctx, cancel := context.WithTimeout(ctx, 50*time.Millisecond)
	defer cancel()
	if _, _, err := g.acquire(wctx, LaneWrite); err == nil {
		t.Fatal("a third call was admitted past a cap of 2 shared with a stop")
	}
	r1()
	r3, _, err := g.acquire(ctx, LaneWrite)
	if err != nil {
		t.Fatal(err)
	}
	r2()
	r3()
}

// TestGateStreamsGetTheNextToken: under a slow bucket, a stream start
// queued behind waiting writes and reads gets the next token. Starved, the
// informer's event streams would never open while a controller that cannot
// see its writes land keeps queueing more.
func TestGateStreamsGetTheNextToken(t *testing.T) {
	g := newGate(3, 3, false, 5, 1) // one token per 200 ms, no burst
	defer g.close()
	ctx := context.Background()
	first, _, err := g.acquire(ctx, LaneWrite) // spends the only token
	if err != nil {
		t.Fatal(err)
	}
	defer first()
	order := make(chan Lane, 3)
	var wg sync.WaitGroup
	start := func(l Lane) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			rel, _, err := g.acquire(ctx, l)
			if err != nil {
				t.Error(err)
				return
			}
			order <- l
			rel()
		}()
	}
	start(LaneWrite)
	start(LaneRead)
	waitFor(t, func() bool { s := g.snapshot(); return s.waiting[LaneWrite] == 1 && s.waiting[LaneRead] == 1 })
	start(LaneStream)
	waitFor(t, func() bool { return g.snapshot().waiting[LaneStream] == 1 })
	if got := <-order; got != LaneStream {
		t.Fatalf("next token went to %s, want the stream", got)
	}
	wg.Wait()
}
