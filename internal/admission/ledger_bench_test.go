package admission

import (
	"fmt"
	"testing"
)

// BenchmarkEvaluate is one pass over a queue the size of a busy manager's
// store (500 Environments, half admitted), the work of every admission
// decision and of every meter tick.
func BenchmarkEvaluate(b *testing.B) {
	l := NewLedger(250*gi, 0.9)
	cands := make([]Candidate, 500)
	for i := range cands {
		cands[i] = cand(fmt.Sprintf("env-%03d", i), gi, i)
		cands[i].Admitted = i%2 == 0
	}
	b.ReportAllocs()
	for b.Loop() {
		l.Evaluate(cands)
	}
}
