package main

import (
	"cmp"
	"fmt"
	"io"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	"berth.dev/berth/internal/docker/faultproxy"
)

// phase is the calls of one part of a run (converge or teardown).
type phase struct {
	name     string
	took     time.Duration
	calls    int
	byKind   map[string]int
	from, to time.Time
}

// callReport is what a proxy record says about a run.
type callReport struct {
	phases []*phase
	total  int
	// peak is the most non-stream calls at the daemon at once, over the
	// whole run (start-up included): [Start, Answered] of each.
	peak int
	// minGap is the smallest distance between two consecutive call starts
	// of the whole run, streams included (they take a token too); -1 when
	// there were fewer than two calls. gapAt is the later of the two.
	minGap time.Duration
	gapAt  faultproxy.Request
}

// analyse splits the record by the run's four moments and measures it.
func analyse(reqs []faultproxy.Request, res convergeResult, n int) callReport {
	rep := callReport{total: len(reqs), minGap: -1}
	rep.phases = []*phase{
		{name: "converge", took: res.up, from: res.applied, to: res.ready, byKind: map[string]int{}},
		{name: "teardown", took: res.down, from: res.deleted, to: res.gone, byKind: map[string]int{}},
	}
	for _, r := range reqs {
		for _, p := range rep.phases {
			if !r.Start.Before(p.from) && !r.Start.After(p.to) {
				p.calls++
				p.byKind[callKind(r.Method, r.URI)]++
			}
		}
	}
	rep.peak = peakInFlight(reqs)
	sorted := slices.Clone(reqs)
	slices.SortFunc(sorted, func(a, b faultproxy.Request) int { return a.Start.Compare(b.Start) })
	for i := 1; i < len(sorted); i++ {
		if g := sorted[i].Start.Sub(sorted[i-1].Start); rep.minGap < 0 || g < rep.minGap {
			rep.minGap, rep.gapAt = g, sorted[i]
		}
	}
	return rep
}

// peakInFlight sweeps the non-stream calls' [Start, Answered] intervals;
// a call the daemon never answered counts until the proxy let it go.
func peakInFlight(reqs []faultproxy.Request) int {
	type edge struct {
		at time.Time
		d  int
	}
	var edges []edge
	for _, r := range reqs {
		if r.Stream {
			continue
		}
		end := r.Answered
		if end.IsZero() {
			end = r.End
		}
		edges = append(edges, edge{r.Start, 1}, edge{end, -1})
	}
	// An end and a start at the same instant do not overlap.
	slices.SortFunc(edges, func(a, b edge) int { return cmp.Or(a.at.Compare(b.at), cmp.Compare(a.d, b.d)) })
	cur, peak := 0, 0
	for _, e := range edges {
		cur += e.d
		peak = max(peak, cur)
	}
	return peak
}

// callKind names a Docker API call without its object: "GET
// /containers/{id}/json". Image names may hold slashes; they become one
// {name}.
func callKind(method, uri string) string {
	path, _, _ := strings.Cut(uri, "?")
	if strings.HasPrefix(path, "/v") {
		if i := strings.Index(path[1:], "/"); i >= 0 {
			path = path[i+1:]
		}
	}
	seg := strings.Split(strings.Trim(path, "/"), "/")
	fixed := map[string]bool{"json": true, "create": true, "prune": true, "load": true, "search": true, "get": true}
	switch {
	case len(seg) >= 2 && seg[0] == "images" && !fixed[seg[1]]:
		last := seg[len(seg)-1]
		if last == "json" || last == "history" || last == "push" || last == "tag" {
			seg = []string{"images", "{name}", last}
		} else {
			seg = []string{"images", "{name}"}
		}
	case len(seg) >= 2 && (seg[0] == "containers" || seg[0] == "networks" || seg[0] == "volumes" || seg[0] == "exec") && !fixed[seg[1]]:
		seg[1] = "{id}"
	}
	return method + " /" + strings.Join(seg, "/")
}

func (rep callReport) print(w io.Writer, n int) {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintf(tw, "phase\ttime\tcalls\tper container\n")
	for _, p := range rep.phases {
		fmt.Fprintf(tw, "%s\t%s\t%d\t%.1f\n", p.name, p.took.Round(10*time.Millisecond), p.calls, float64(p.calls)/float64(max(n, 1)))
	}
	tw.Flush()
	for _, p := range rep.phases {
		fmt.Fprintf(w, "\n%s calls by kind:\n", p.name)
		kinds := make([]string, 0, len(p.byKind))
		for k := range p.byKind {
			kinds = append(kinds, k)
		}
		slices.SortFunc(kinds, func(a, b string) int { return cmp.Or(cmp.Compare(p.byKind[b], p.byKind[a]), cmp.Compare(a, b)) })
		for _, k := range kinds {
			fmt.Fprintf(tw, "  %d\t%s\n", p.byKind[k], k)
		}
		tw.Flush()
	}
	fmt.Fprintf(w, "\nwhole run (manager start-up included): %d calls, peak in flight %d (limit %d), closest call starts %s apart (limit %s)",
		rep.total, rep.peak, desktopMaxInFlight, rep.minGap.Round(time.Millisecond), desktopMinSpacing)
	if rep.minGap >= 0 {
		fmt.Fprintf(w, ", at %s %s", rep.gapAt.Method, rep.gapAt.URI)
	}
	fmt.Fprintln(w)
}
