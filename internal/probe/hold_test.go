package probe

import (
	"testing"
	"time"
)

// TestManagerHoldKeepsResults: a held Environment's workers skip their
// turns, so failures while held (a paused container) neither count nor
// change the result; resumed, probing goes on from the kept result.
func TestManagerHoldKeepsResults(t *testing.T) {
	f := newFixture(t)
	f.exec.set("c1", true)
	f.m.Sync("pool-a", []Spec{f.spec("db", "c1", execSpecProbe(1, 1))})
	if st := f.settle("c1", 1); !st.Ready {
		t.Fatalf("not ready after a success: %+v", st)
	}
	f.m.Hold("pool-a", true)
	f.exec.set("c1", false)
	for i := 0; i < 3; i++ {
		f.clock.Step(2 * time.Second)
		eventually(t, "worker to sleep again", func() bool { return f.clock.Waiters() >= 1 })
	}
	if n := f.exec.count("c1"); n != 1 {
		t.Fatalf("probed %d times while held, want no probe after the first", n)
	}
	if st, _ := f.m.Result("c1"); !st.Ready {
		t.Fatalf("held result lost its readiness: %+v", st)
	}
	f.m.Hold("pool-a", false)
	f.clock.Step(2 * time.Second)
	if st := f.settle("c1", 2); st.Ready {
		t.Fatalf("a failure after resuming did not count: %+v", st)
	}
}
