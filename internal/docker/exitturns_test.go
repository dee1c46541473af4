package docker

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

func TestStoresEndpointCount(t *testing.T) {
	for v, want := range map[string]bool{
		"":     true, // not known yet: the careful way
		"1.41": true, // Docker 20.10
		"1.43": true, // 24.0
		"1.48": true, // 28.0
		"1.49": false,
		"1.51": false,
		"1.52": false,
	} {
		if got := StoresEndpointCount(v); got != want {
			t.Errorf("StoresEndpointCount(%q) = %v, want %v", v, got, want)
		}
	}
}

// TestExitTurnsOneAtATimePerKey: holders of one key never overlap, holders
// of different keys do, and every entry is dropped once released.
func TestExitTurnsOneAtATimePerKey(t *testing.T) {
	var turns exitTurns
	ctx := context.Background()
	var inA, maxA, inAll, maxAll atomic.Int32
	bump := func(in, peak *atomic.Int32) {
		n := in.Add(1)
		for {
			p := peak.Load()
			if n <= p || peak.CompareAndSwap(p, n) {
				return
			}
		}
	}
	var wg sync.WaitGroup
	for i := 0; i < 8; i++ {
		key := "a"
		if i%2 == 1 {
			key = "b"
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			release, err := turns.take(ctx, key)
			if err != nil {
				t.Error(err)
				return
			}
			if key == "a" {
				bump(&inA, &maxA)
			}
			bump(&inAll, &maxAll)
			time.Sleep(20 * time.Millisecond)
			inAll.Add(-1)
			if key == "a" {
				inA.Add(-1)
			}
			release()
		}()
	}
	wg.Wait()
	if got := maxA.Load(); got != 1 {
		t.Errorf("holders of key a at once: %d, want 1", got)
	}
	if got := maxAll.Load(); got != 2 {
		t.Errorf("holders of keys a and b at once: %d, want 2 (one each)", got)
	}
	if len(turns.turns) != 0 || len(turns.refs) != 0 {
		t.Errorf("entries left after every release: %v %v", turns.turns, turns.refs)
	}
}

// TestExitTurnsWaitEndsWithContext: a waiter whose context ends gets its
// error, holds nothing, and the key's holder can still release and be
// followed.
func TestExitTurnsWaitEndsWithContext(t *testing.T) {
	var turns exitTurns
	release, err := turns.take(context.Background(), "env")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	if _, err := turns.take(ctx, "env"); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("waiter with an ended context: %v, want DeadlineExceeded", err)
	}
	release()
	next, err := turns.take(context.Background(), "env")
	if err != nil {
		t.Fatal(err)
	}
	next()
	if len(turns.turns) != 0 {
		t.Errorf("entries left: %v", turns.turns)
	}
}
