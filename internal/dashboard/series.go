package dashboard

import (
	"math"
	"slices"
)

// Derivations of chart points from cumulative samples. A point is NaN when
// there is nothing to measure (no previous sample, no calls in the window),
// which the chart draws as a gap rather than as a misleading zero.

// rate is the per-second increase of a counter between samples; a counter
// going down (a restarted process) counts as zero, not negative.
func rate(ss []sample, f func(sample) float64) []float64 {
	out := make([]float64, len(ss))
	for i := range ss {
		out[i] = math.NaN()
		if i == 0 {
			continue
		}
		dt := ss[i].at.Sub(ss[i-1].at).Seconds()
		if dt <= 0 {
			continue
		}
		out[i] = max(f(ss[i])-f(ss[i-1]), 0) / dt
	}
	return out
}

// gauge is a gauge's value at every sample.
func gauge(ss []sample, f func(sample) float64) []float64 {
	out := make([]float64, len(ss))
	for i, s := range ss {
		out[i] = f(s)
	}
	return out
}

// latencyQuantile is the q-quantile of Docker call latency, in
// milliseconds, over the window samples before each point: per-step
// quantiles of a handful of calls would jump around.
func latencyQuantile(ss []sample, q float64, window int) []float64 {
	out := make([]float64, len(ss))
	for i := range ss {
		out[i] = math.NaN()
		if i == 0 {
			continue
		}
		h := ss[i].latency.sub(ss[max(0, i-window)].latency)
		out[i] = quantile(q, h) * 1000
	}
	return out
}

// meanWait is the average time a call waited at the governor between
// samples, in milliseconds.
func meanWait(ss []sample) []float64 {
	out := make([]float64, len(ss))
	for i := range ss {
		out[i] = math.NaN()
		if i == 0 {
			continue
		}
		if n := ss[i].waitCount - ss[i-1].waitCount; n > 0 {
			out[i] = (ss[i].waitSum - ss[i-1].waitSum) / n * 1000
		}
	}
	return out
}

// quantile estimates a quantile from histogram buckets by linear
// interpolation inside the bucket that holds it, as PromQL's
// histogram_quantile does; NaN when the histogram is empty.
func quantile(q float64, h histogram) float64 {
	if h.count <= 0 || len(h.bounds) == 0 {
		return math.NaN()
	}
	rank := q * h.count
	lower, below := 0.0, 0.0
	for i, upper := range h.bounds {
		c := h.counts[i]
		if c >= rank {
			if c <= below {
				return upper
			}
			return lower + (upper-lower)*(rank-below)/(c-below)
		}
		lower, below = upper, c
	}
	// Above the last bucket: the last bound is the best lower estimate.
	return h.bounds[len(h.bounds)-1]
}

// topOps are the operations with the most calls over the last window
// samples, busiest first.
func topOps(ss []sample, window, n int) []string {
	if len(ss) == 0 {
		return nil
	}
	last, first := ss[len(ss)-1], ss[max(0, len(ss)-1-window)]
	type opCount struct {
		op string
		n  float64
	}
	var ops []opCount
	for op, v := range last.calls {
		if d := v - first.calls[op]; d > 0 {
			ops = append(ops, opCount{op, d})
		}
	}
	slices.SortFunc(ops, func(a, b opCount) int {
		if a.n != b.n {
			if a.n > b.n {
				return -1
			}
			return 1
		}
		if a.op < b.op {
			return -1
		}
		return 1
	})
	var out []string
	for i := 0; i < len(ops) && i < n; i++ {
		out = append(out, ops[i].op)
	}
	return out
}

func sum(m map[string]float64) float64 {
	t := 0.0
	for _, v := range m {
		t += v
	}
	return t
}
