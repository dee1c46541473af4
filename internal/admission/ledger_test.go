package admission

import (
	"strings"
	"testing"
	"time"
)

const gi = int64(1) << 30

var t0 = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

func cand(name string, req int64, created int) Candidate {
	return Candidate{Name: name, UID: "uid-" + name, Requests: req, Created: t0.Add(time.Duration(created) * time.Second)}
}

func TestTwoFitTheThirdQueues(t *testing.T) {
	l := NewLedger(2*gi, 0.9)
	cands := []Candidate{cand("a", gi, 0), cand("b", gi, 1), cand("c", gi, 2)}
	for _, n := range []string{"a", "b"} {
		if d := l.Decide(cands, n); !d.Admitted || d.Reason != ReasonFits {
			t.Fatalf("%s: %+v, want admitted", n, d)
		}
	}
	d := l.Decide(cands, "c")
	if d.Admitted || d.Reason != ReasonInsufficientMemory || d.Position != 1 || d.Length != 1 || d.Free != 0 {
		t.Fatalf("c: %+v, want queued for memory at 1 of 1", d)
	}
	if want := "needs 1Gi, free 0 of budget 2Gi, position 1 of 1"; d.Message != want {
		t.Errorf("message %q, want %q", d.Message, want)
	}
	if s := l.Snapshot(); s.Admitted != 2*gi || s.QueueLength != 1 || s.Budget != 2*gi {
		t.Errorf("snapshot %+v", s)
	}

	// a is gone (deleted, torn down): c takes its room.
	l.Forget("a")
	out := l.Evaluate(cands[1:])
	if len(out.Newly) != 1 || out.Newly[0] != "c" || len(out.Queued) != 0 {
		t.Fatalf("after a left: %+v, want c admitted", out)
	}
	if d := l.Decide(cands[1:], "c"); !d.Admitted {
		t.Fatalf("c after a left: %+v", d)
	}
}

// A deleted Environment holds its room until its teardown is done and it
// is gone from the store: its containers still use memory.
func TestDeletingHoldsItsRoom(t *testing.T) {
	l := NewLedger(2*gi, 0)
	a := cand("a", 2*gi, 0)
	a.Admitted = true
	a.Deleting = true
	b := cand("b", gi, 1)
	if d := l.Decide([]Candidate{a, b}, "b"); d.Admitted {
		t.Fatalf("b admitted while a tears down: %+v", d)
	}
	if d := l.Decide([]Candidate{b}, "b"); !d.Admitted {
		t.Fatalf("b after a is gone: %+v", d)
	}
	// A deleted one that was never admitted takes no room and no place.
	c := cand("c", gi, 0)
	c.Deleting = true
	if out := l.Evaluate([]Candidate{c, b}); len(out.Queued) != 0 {
		t.Fatalf("a deleting queued one stays in the queue: %+v", out)
	}
}

// FIFO by creationTimestamp then name, whatever order the store lists them
// in, and the head blocks the small ones behind it.
func TestQueueOrderAndNoOvertaking(t *testing.T) {
	l := NewLedger(4*gi, 0)
	big := cand("big", 3*gi, 5)
	running := cand("running", 2*gi, 0)
	running.Admitted = true
	small2 := cand("small-b", gi, 7)
	small1 := cand("small-a", gi, 7) // same second: by name
	cands := []Candidate{small2, big, small1, running}
	out := l.Evaluate(cands)
	if len(out.Newly) != 0 {
		t.Fatalf("admitted %v past the head that does not fit", out.Newly)
	}
	if got := strings.Join(out.Queued, ","); got != "big,small-a,small-b" {
		t.Fatalf("queue %s, want big,small-a,small-b", got)
	}
	d := l.Decide(cands, "small-b")
	if d.Reason != ReasonQueuedBehind || d.Position != 3 || d.Length != 3 || !strings.Contains(d.Message, "big is ahead") {
		t.Fatalf("small-b: %+v", d)
	}
	if d := l.Decide(cands, "big"); d.Reason != ReasonInsufficientMemory || d.Position != 1 {
		t.Fatalf("big: %+v", d)
	}
	// The running one goes. A decision for small-b admits big and small-a
	// ahead of it and says so, so the caller can have theirs written.
	if d := l.Decide([]Candidate{small2, big, small1}, "small-b"); d.Admitted || strings.Join(d.Newly, ",") != "big,small-a" {
		t.Fatalf("small-b after the running one left: %+v", d)
	}
	l = NewLedger(4*gi, 0)
	// The same through Evaluate: big fits, then small-a; small-b waits.
	out = l.Evaluate([]Candidate{small2, big, small1})
	if got := strings.Join(out.Newly, ","); got != "big,small-a" {
		t.Fatalf("admitted %s, want big,small-a", got)
	}
	if got := strings.Join(out.Queued, ","); got != "small-b" {
		t.Fatalf("queued %s, want small-b", got)
	}
}

// Standbys (a pool's) queue behind every user Environment, even older ones.
func TestClassOrdersBeforeTime(t *testing.T) {
	l := NewLedger(gi, 0)
	standby := cand("standby", gi, 0)
	standby.Class = ClassStandby
	user := cand("user", gi, 9)
	out := l.Evaluate([]Candidate{standby, user})
	if len(out.Newly) != 1 || out.Newly[0] != "user" {
		t.Fatalf("%+v, want the user one first", out)
	}
}

// Two workers deciding at once: the second must see the first's admission
// before the store does.
func TestAdmissionIsRememberedUntilTheStoreHasIt(t *testing.T) {
	l := NewLedger(gi, 0)
	cands := []Candidate{cand("a", gi, 0), cand("b", gi, 1)}
	if d := l.Decide(cands, "a"); !d.Admitted {
		t.Fatal("a not admitted")
	}
	if d := l.Decide(cands, "b"); d.Admitted {
		t.Fatal("b admitted into the room a took")
	}
	// Deleted and created again under the same name: a new Environment,
	// queued like any other.
	again := cand("a", gi, 5)
	again.UID = "uid-a2"
	b := cands[1]
	b.Admitted = true
	if d := l.Decide([]Candidate{again, b}, "a"); d.Admitted {
		t.Fatalf("the new a inherited the old one's admission: %+v", d)
	}
}

// A restarted manager: what the store records as admitted counts first,
// even when the queue would order others before it.
func TestRestartCountsRecordedAdmissions(t *testing.T) {
	l := NewLedger(2*gi, 0)
	old := cand("old", gi, 0) // queued before the restart
	later := cand("later", 2*gi, 1)
	later.Admitted = true // admitted before old by an earlier budget
	if d := l.Decide([]Candidate{old, later}, "old"); d.Admitted || d.Free != 0 {
		t.Fatalf("old: %+v, want queued, nothing free", d)
	}
}

func TestPressureStopsAdmission(t *testing.T) {
	l := NewLedger(8*gi, 0.9)
	cands := []Candidate{cand("a", gi, 0)}
	l.SetUsage(Usage{Used: 95 * gi / 10, Total: 10 * gi})
	d := l.Decide(cands, "a")
	if d.Admitted || d.Reason != ReasonMemoryPressure {
		t.Fatalf("%+v, want MemoryPressure", d)
	}
	if !strings.Contains(d.Message, "above 90 %") || !strings.Contains(d.Message, "of total 10Gi") {
		t.Errorf("message %q", d.Message)
	}
	if !l.Snapshot().UnderPress {
		t.Error("snapshot does not say pressure")
	}
	if relieved := l.SetUsage(Usage{Used: 5 * gi, Total: 10 * gi}); !relieved {
		t.Error("pressure going away is not reported")
	}
	if d := l.Decide(cands, "a"); !d.Admitted {
		t.Fatalf("after pressure: %+v", d)
	}
	// An unknown total (the meter failed) does not stop admission.
	l.SetUsage(Usage{})
	if d := l.Decide([]Candidate{cand("b", gi, 1)}, "b"); !d.Admitted {
		t.Fatalf("unknown usage: %+v", d)
	}
}

func TestExceedsBudgetNeverBlocks(t *testing.T) {
	l := NewLedger(2*gi, 0)
	huge := cand("huge", 3*gi, 0)
	small := cand("small", gi, 1)
	cands := []Candidate{huge, small}
	if d := l.Decide(cands, "huge"); d.Admitted || d.Reason != ReasonExceedsBudget || !strings.Contains(d.Message, "needs 3Gi") {
		t.Fatalf("huge: %+v", d)
	}
	if d := l.Decide(cands, "small"); !d.Admitted {
		t.Fatalf("small behind one that never fits: %+v", d)
	}
}

func TestUnlimited(t *testing.T) {
	l := NewLedger(0, 0.9)
	if d := l.Decide([]Candidate{cand("a", 100*gi, 0)}, "a"); !d.Admitted || d.Reason != ReasonUnlimited {
		t.Fatalf("%+v", d)
	}
	// No budget still stops for pressure.
	l.SetUsage(Usage{Used: 95, Total: 100})
	d := l.Decide([]Candidate{cand("b", gi, 1)}, "b")
	if d.Admitted || d.Reason != ReasonMemoryPressure || !strings.Contains(d.Message, "needs 1Gi (no budget), position 1 of 1") {
		t.Fatalf("%+v", d)
	}
}

func TestValidateRequests(t *testing.T) {
	if errs := ValidateRequests(2*gi, 2*gi); len(errs) != 0 {
		t.Errorf("exactly the budget refused: %v", errs)
	}
	if errs := ValidateRequests(3*gi, 0); len(errs) != 0 {
		t.Errorf("unlimited refused: %v", errs)
	}
	errs := ValidateRequests(3*gi, 2*gi)
	if len(errs) != 1 {
		t.Fatalf("3Gi of 2Gi: %v", errs)
	}
	msg := errs.ToAggregate().Error()
	for _, want := range []string{"spec.services[*].resources", "3Gi", "2Gi", "--memory-budget"} {
		if !strings.Contains(msg, want) {
			t.Errorf("%q lacks %q", msg, want)
		}
	}
}

func TestParseMeminfo(t *testing.T) {
	u, err := ParseMeminfo(strings.NewReader("MemTotal:       24684000 kB\nMemFree:        20000000 kB\nMemAvailable:   23000000 kB\n"))
	if err != nil {
		t.Fatal(err)
	}
	if u.Total != 24684000<<10 || u.Used != (24684000-23000000)<<10 {
		t.Errorf("%+v", u)
	}
	for _, bad := range []string{"", "MemTotal: 10 kB\n", "MemTotal: x kB\nMemAvailable: 1 kB\n"} {
		if _, err := ParseMeminfo(strings.NewReader(bad)); err == nil {
			t.Errorf("%q parsed", bad)
		}
	}
}

// A budget that is a share of the daemon's memory is not known until the
// daemon answers: nothing new is admitted before, what the store records
// still counts, and setting it moves the queue.
func TestBudgetUnknownUntilSet(t *testing.T) {
	l := NewLedger(-1, 0.9)
	old := cand("old", gi, 0)
	old.Admitted = true
	cands := []Candidate{old, cand("a", gi, 1)}
	if d := l.Decide(cands, "a"); d.Admitted || d.Reason != ReasonBudgetUnknown {
		t.Fatalf("%+v", d)
	}
	if d := l.Decide(cands, "old"); !d.Admitted {
		t.Fatalf("a recorded admission lost: %+v", d)
	}
	if s := l.Snapshot(); s.Budget != 0 || s.QueueLength != 1 {
		t.Errorf("snapshot %+v", s)
	}
	l.SetBudget(2 * gi)
	if out := l.Evaluate(cands); len(out.Newly) != 1 || out.Newly[0] != "a" {
		t.Fatalf("after the budget is known: %+v", out)
	}
}
