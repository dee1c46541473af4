package dashboard

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

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
