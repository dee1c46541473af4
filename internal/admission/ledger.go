package admission

import (
	"cmp"
	"fmt"
	"slices"
	"sync"
	"time"

	"k8s.io/apimachinery/pkg/api/resource"
)

// Reasons of the Admitted condition.
const (
	// ReasonFits: admitted, its requests fit the budget.
	ReasonFits = "Fits"
	// ReasonAlreadyRunning: admitted because it had containers before
	// admission was recorded (an Environment from an older berth).
	ReasonAlreadyRunning = "AlreadyRunning"
	// ReasonUnlimited: admitted, the manager has no budget (--memory-budget 0).
	ReasonUnlimited = "Unlimited"
	// ReasonInsufficientMemory: queued, its requests do not fit what is free.
	ReasonInsufficientMemory = "InsufficientMemory"
	// ReasonMemoryPressure: queued, the daemon's memory use is above the
	// pressure threshold.
	ReasonMemoryPressure = "MemoryPressure"
	// ReasonQueuedBehind: queued, it would fit but an earlier one waits.
	ReasonQueuedBehind = "QueuedBehind"
	// ReasonExceedsBudget: never admitted, its requests exceed the budget.
	ReasonExceedsBudget = "ExceedsBudget"
	// ReasonBudgetUnknown: queued, the budget is a share of the daemon's
	// memory and the daemon has not told it yet.
	ReasonBudgetUnknown = "BudgetUnknown"
)

// Class orders kinds of Environments in the queue; lower goes first.
type Class int

const (
	// ClassUser is an Environment a user asked for.
	ClassUser Class = 0
	// ClassStandby is a pool's unclaimed standby Environment, which
	// must not take room ahead of users' ones.
	ClassStandby Class = 1
)

// Candidate is one Environment as admission sees it.
type Candidate struct {
	Name string
	UID  string
	// Requests is its memory requests in bytes (plan.MemoryRequests).
	Requests int64
	Created  time.Time
	Class    Class
	// Admitted: the store records its admission, or it already runs
	// containers.
	Admitted bool
	// Deleting: deletion was requested. It is never admitted now; if it
	// was, it holds its room until its teardown is done and it is gone.
	Deleting bool
}

// Usage is one reading of the daemon's memory; Total 0 is unknown.
type Usage struct {
	Used, Total int64
}

// Decision is admission's answer for one Environment.
type Decision struct {
	Admitted bool
	Reason   string
	Message  string
	// Requests, Free and Budget are bytes; Position is the 1-based place
	// in a queue of Length (0 when not queued).
	Requests, Free, Budget int64
	Position, Length       int
	// Newly are the others this decision's pass over the queue admitted
	// (room had freed without an Evaluate): the caller enqueues them so
	// their admission is written.
	Newly []string
}

// Snapshot is the ledger's figures, for metrics and the dashboard.
type Snapshot struct {
	Budget      int64
	Admitted    int64 // requests of the admitted Environments
	Used, Total int64 // the daemon's memory, Total 0 when unknown
	Pressure    float64
	QueueLength int
	UnderPress  bool
}

// Ledger keeps the admissions this manager made that the store may not
// show yet (two workers deciding at once must not both take the last
// room), and the latest memory reading. Everything else comes from the
// candidates each call is given: the store is the record.
type Ledger struct {
	mu sync.Mutex
	// budget is bytes, 0 is unlimited, -1 not known yet; pressure is the
	// fraction of total memory in use above which nothing new is
	// admitted, 0 is off.
	budget   int64
	pressure float64
	usage    Usage
	// admitted is name → UID of the admissions this process made.
	admitted map[string]string
	last     Snapshot
}

// NewLedger is a ledger of budget bytes (0: unlimited; negative: not
// known yet, see SetBudget) that stops admitting while memory use is above
// pressure (a fraction, 0: never).
func NewLedger(budget int64, pressure float64) *Ledger {
	l := &Ledger{budget: max(budget, -1), pressure: pressure, admitted: map[string]string{}}
	l.last = Snapshot{Budget: max(l.budget, 0), Pressure: pressure}
	return l
}

// SetBudget fixes a budget that was not known at start (a share of the
// daemon's memory, known once the daemon answers).
func (l *Ledger) SetBudget(budget int64) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.budget = max(budget, 0)
	l.last.Budget = l.budget
}

// SetUsage records the latest reading of the daemon's memory. It reports
// whether the pressure went away with it: the queue may move now.
func (l *Ledger) SetUsage(u Usage) (relieved bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	was := l.underPressure()
	l.usage = u
	l.last.Used, l.last.Total = u.Used, u.Total
	l.last.UnderPress = l.underPressure()
	return was && !l.last.UnderPress
}

func (l *Ledger) underPressure() bool {
	return l.pressure > 0 && l.usage.Total > 0 && float64(l.usage.Used) > l.pressure*float64(l.usage.Total)
}

// Snapshot is the figures of the last evaluation and reading.
func (l *Ledger) Snapshot() Snapshot {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.last
}

// Forget drops what the ledger remembers of name: it was deleted and its
// teardown is done.
func (l *Ledger) Forget(name string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	delete(l.admitted, name)
}

// Outcome is one evaluation of the whole queue.
type Outcome struct {
	// Newly are the Environments admitted by this evaluation.
	Newly []string
	// Queued are those still waiting, in queue order.
	Queued []string
	// Snapshot is the figures after it.
	Snapshot Snapshot
}

// Evaluate admits, in queue order, every waiting candidate that fits,
// and reports who was admitted and who still waits. The controller calls
// it when room may have freed, and writes the admissions it reports.
func (l *Ledger) Evaluate(cands []Candidate) Outcome {
	l.mu.Lock()
	defer l.mu.Unlock()
	ev := l.evaluate(cands)
	out := Outcome{Newly: ev.newly, Snapshot: l.last}
	for _, c := range ev.queue {
		out.Queued = append(out.Queued, c.Name)
	}
	return out
}

// Decide evaluates the queue and answers for the candidate called name,
// which must be among cands.
func (l *Ledger) Decide(cands []Candidate, name string) Decision {
	l.mu.Lock()
	defer l.mu.Unlock()
	ev := l.evaluate(cands)
	var self *Candidate
	for i := range cands {
		if cands[i].Name == name {
			self = &cands[i]
		}
	}
	if self == nil {
		return Decision{Reason: ReasonQueuedBehind, Message: "not known to admission yet"}
	}
	d := Decision{Requests: self.Requests, Budget: max(l.budget, 0), Free: max(l.budget-ev.admittedSum, 0)}
	for _, n := range ev.newly {
		if n != name {
			d.Newly = append(d.Newly, n)
		}
	}
	switch {
	case !l.isAdmitted(self) && l.budget < 0:
		d.Reason = ReasonBudgetUnknown
		d.Message = "waiting for the Docker daemon to report its memory: the budget (--memory-budget) is a share of it"
		return d
	case l.isAdmitted(self) && l.budget == 0:
		d.Admitted, d.Reason, d.Message = true, ReasonUnlimited, "the manager has no memory budget (--memory-budget 0)"
		return d
	case l.isAdmitted(self):
		d.Admitted, d.Reason = true, ReasonFits
		d.Message = fmt.Sprintf("requests %s fit: %s of budget %s admitted", quantity(self.Requests), quantity(ev.admittedSum), quantity(l.budget))
		return d
	case l.budget > 0 && self.Requests > l.budget:
		d.Reason = ReasonExceedsBudget
		d.Message = fmt.Sprintf("needs %s of memory requests, more than the whole budget %s (--memory-budget); it can never be admitted: lower its services' resources.requests.memory",
			quantity(self.Requests), quantity(l.budget))
		return d
	}
	d.Length = len(ev.queue)
	for i, c := range ev.queue {
		if c.Name == name {
			d.Position = i + 1
		}
	}
	where := fmt.Sprintf("needs %s, free %s of budget %s, position %d of %d", quantity(d.Requests), quantity(d.Free), quantity(l.budget), d.Position, d.Length)
	if l.budget == 0 {
		where = fmt.Sprintf("needs %s (no budget), position %d of %d", quantity(d.Requests), d.Position, d.Length)
	}
	switch {
	case l.underPressure():
		d.Reason = ReasonMemoryPressure
		d.Message = fmt.Sprintf("the daemon's memory use %s of total %s is above %g %% (--memory-pressure); %s",
			quantity(l.usage.Used), quantity(l.usage.Total), l.pressure*100, where)
	case l.budget > 0 && d.Requests > d.Free:
		d.Reason, d.Message = ReasonInsufficientMemory, where
	default:
		d.Reason = ReasonQueuedBehind
		d.Message = fmt.Sprintf("%s; it fits, but %s is ahead and waits (no overtaking)", where, ev.queue[0].Name)
	}
	return d
}

// evaluation is one pass over the candidates.
type evaluation struct {
	admittedSum int64
	queue       []Candidate // still waiting, in order; without those exceeding the budget
	newly       []string
}

func (l *Ledger) isAdmitted(c *Candidate) bool {
	uid, ok := l.admitted[c.Name]
	return c.Admitted || (ok && uid == c.UID)
}

func (l *Ledger) evaluate(cands []Candidate) evaluation {
	var ev evaluation
	known := make(map[string]string, len(cands))
	var waiting []Candidate
	for i := range cands {
		c := &cands[i]
		known[c.Name] = c.UID
		switch {
		case l.isAdmitted(c):
			ev.admittedSum += c.Requests
		case !c.Deleting:
			waiting = append(waiting, *c)
		}
	}
	// What the store no longer has, or has under a new UID (deleted and
	// created again), is no admission of this process any more.
	for name, uid := range l.admitted {
		if got, ok := known[name]; !ok || got != uid {
			delete(l.admitted, name)
		}
	}
	slices.SortFunc(waiting, func(a, b Candidate) int {
		return cmp.Or(cmp.Compare(a.Class, b.Class), a.Created.Compare(b.Created), cmp.Compare(a.Name, b.Name))
	})
	blocked := l.underPressure() || l.budget < 0
	for _, c := range waiting {
		if l.budget > 0 && c.Requests > l.budget {
			continue // never fits; must not hold up the queue
		}
		if !blocked && (l.budget == 0 || ev.admittedSum+c.Requests <= l.budget) {
			l.admitted[c.Name] = c.UID
			ev.admittedSum += c.Requests
			ev.newly = append(ev.newly, c.Name)
			continue
		}
		blocked = true
		ev.queue = append(ev.queue, c)
	}
	l.last.Budget, l.last.Pressure = max(l.budget, 0), l.pressure
	l.last.Admitted, l.last.QueueLength = ev.admittedSum, len(ev.queue)
	l.last.UnderPress = l.underPressure()
	return ev
}

// quantity writes bytes the way specs write them (1Gi, 512Mi).
func quantity(b int64) string {
	return resource.NewQuantity(b, resource.BinarySI).String()
}

// Budget is the budget in bytes (0: unlimited) and whether it is known
// yet: a share of the daemon's memory is known once the daemon answered.
func (l *Ledger) Budget() (int64, bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return max(l.budget, 0), l.budget >= 0
}
