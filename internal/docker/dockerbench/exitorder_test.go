package dockerbench

import (
	"fmt"
	"sync"
	"testing"
	"time"
)

// TestExitOrderOneOfAnEnvironmentAtATime: every container is handed out
// once, never two of one Environment together, each Environment's last
// is flagged as such, and several workers do run at once.
func TestExitOrderOneOfAnEnvironmentAtATime(t *testing.T) {
	const envs, services, workers = 6, 4, 4
	ids := make([][]string, envs)
	for e := range ids {
		for s := 0; s < services; s++ {
			ids[e] = append(ids[e], fmt.Sprintf("e%d-s%d", e, s))
		}
	}
	order := newExitOrder(ids)
	var mu sync.Mutex
	seen := map[string]int{}
	out := make([]int, envs)
	lasts := make([]int, envs)
	handed := make([]int, envs)
	inFlight, peak := 0, 0
	var wg sync.WaitGroup
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				e, id, last, ok := order.take()
				if !ok {
					return
				}
				mu.Lock()
				seen[id]++
				out[e]++
				handed[e]++
				if out[e] > 1 {
					t.Errorf("two containers of environment %d out at once", e)
				}
				if last {
					lasts[e]++
					if handed[e] != services {
						t.Errorf("environment %d: %s flagged last after %d of %d", e, id, handed[e], services)
					}
				}
				inFlight++
				peak = max(peak, inFlight)
				mu.Unlock()
				time.Sleep(2 * time.Millisecond)
				mu.Lock()
				out[e]--
				inFlight--
				mu.Unlock()
				order.done(e)
			}
		}()
	}
	wg.Wait()
	if len(seen) != envs*services {
		t.Errorf("handed out %d distinct containers, want %d", len(seen), envs*services)
	}
	for id, n := range seen {
		if n != 1 {
			t.Errorf("%s handed out %d times", id, n)
		}
	}
	for e, n := range lasts {
		if n != 1 {
			t.Errorf("environment %d: %d containers flagged last, want 1", e, n)
		}
	}
	if peak < 2 {
		t.Errorf("at most %d container out at once with %d workers: the environments were not spread", peak, workers)
	}
}

// TestExitOrderLowestEnvironmentFirst: a single worker empties the
// Environments in their order.
func TestExitOrderLowestEnvironmentFirst(t *testing.T) {
	order := newExitOrder([][]string{{"a1", "a2"}, {"b1"}, {"c1", "c2"}})
	var got []string
	for {
		e, id, _, ok := order.take()
		if !ok {
			break
		}
		got = append(got, id)
		order.done(e)
	}
	if want := "[a1 a2 b1 c1 c2]"; fmt.Sprint(got) != want {
		t.Errorf("order %v, want %s", got, want)
	}
}
