package dashboard

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"berth.dev/berth/apis/v1alpha1"
	"berth.dev/berth/internal/admission"
	"berth.dev/berth/internal/governor"
	"berth.dev/berth/internal/informer"
)

// TestEngineShowsAdmission: the Engine page's admission panel shows the
// budget, the admitted requests, the daemon's memory and the queue, as
// the ledger's own metrics report them through the registry.
func TestEngineShowsAdmission(t *testing.T) {
	const gi = int64(1) << 30
	reg := prometheus.NewRegistry()
	l := admission.NewLedger(2*gi, 0.9)
	if err := admission.RegisterMetrics(reg, l); err != nil {
		t.Fatal(err)
	}
	l.SetUsage(admission.Usage{Used: 19 * gi / 2, Total: 10 * gi})
	l.Evaluate([]admission.Candidate{{Name: "a", UID: "1", Requests: gi, Admitted: true}, {Name: "b", UID: "2", Requests: gi}})

	s := newSampler(reg, 10)
	s.take(time.Now())
	ss, _ := s.snapshot()
	live := buildEngineLive(ss, 10, governor.Stats{}, informer.Stats{})
	if a := live.Admission; !a.Known || a.Budget != 2*gi || a.Admitted != gi || a.Queue != 1 || !a.UnderPressure {
		t.Fatalf("admission view %+v", a)
	}
	p, err := newPages()
	if err != nil {
		t.Fatal(err)
	}
	var b bytes.Buffer
	if err := p.sets["engine"].ExecuteTemplate(&b, "layout", pageData{Page: "engine", Data: engineData{Live: live}}); err != nil {
		t.Fatal(err)
	}
	out := b.String()
	for _, want := range []string{"Memory admission", `id="admission-budget">2 GiB`, "(50% of the budget)", "9.5 GiB of 10 GiB", "above 90%", `id="admission-queue">1 `} {
		if !strings.Contains(out, want) {
			t.Errorf("engine page lacks %q", want)
		}
	}
}

// TestQueuedRowSaysWhy: the overview's row of a Queued Environment says
// what admission waits for, not a Ready message it has none of.
func TestQueuedRowSaysWhy(t *testing.T) {
	env := &v1alpha1.Environment{
		ObjectMeta: metav1.ObjectMeta{Name: "q"},
		Spec:       v1alpha1.EnvironmentSpec{Services: []v1alpha1.Service{{Name: "app", Image: "x"}}},
		Status: v1alpha1.EnvironmentStatus{Phase: v1alpha1.PhaseQueued, Conditions: []metav1.Condition{{
			Type: v1alpha1.ConditionAdmitted, Status: metav1.ConditionFalse, Reason: "InsufficientMemory",
			Message: "needs 1Gi, free 0 of budget 2Gi, position 1 of 1",
		}}},
	}
	if got, want := rowOf(env).Status, "InsufficientMemory: needs 1Gi, free 0 of budget 2Gi, position 1 of 1"; got != want {
		t.Errorf("row status %q, want %q", got, want)
	}
	if got := condClass("Admitted", "False"); got != "wait" {
		t.Errorf("Admitted False is %q, want wait", got)
	}
	if got := phaseClass(string(v1alpha1.PhaseQueued)); got != "wait" {
		t.Errorf("Queued is %q", got)
	}
}
