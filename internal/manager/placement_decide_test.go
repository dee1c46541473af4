package manager

import (
	"math"
	"strings"
	"testing"
	"time"
)

func TestChoosePlacement(t *testing.T) {
	now := time.Unix(1700000000, 0)
	grace := 40 * time.Second
	fresh, stale := now.Add(-time.Second), now.Add(-41*time.Second)
	const gi = int64(1) << 30
	cases := []struct {
		name  string
		hosts []HostBudget
		want  string
		ok    bool
	}{
		{"most free wins", []HostBudget{
			{Name: "a", Budget: 4 * gi, Admitted: 3 * gi, Renewed: fresh}, // 1Gi free
			{Name: "b", Budget: 2 * gi, Admitted: 0, Renewed: fresh},      // 2Gi free
		}, "b", true},
		{"exact math: one byte more", []HostBudget{
			{Name: "a", Budget: 2*gi + 1, Admitted: gi, Renewed: fresh},
			{Name: "b", Budget: 2 * gi, Admitted: gi, Renewed: fresh},
		}, "a", true},
		{"tie goes to the first name", []HostBudget{
			{Name: "b", Budget: gi, Renewed: fresh},
			{Name: "a", Budget: gi, Renewed: fresh},
		}, "a", true},
		{"stale host skipped however free", []HostBudget{
			{Name: "a", Budget: 100 * gi, Renewed: stale},
			{Name: "b", Budget: gi, Admitted: gi, Renewed: fresh},
		}, "b", true},
		{"exactly grace old is still live", []HostBudget{{Name: "a", Budget: gi, Renewed: now.Add(-grace)}}, "a", true},
		{"unknown budget skipped", []HostBudget{
			{Name: "a", Budget: -1, Renewed: fresh},
			{Name: "b", Budget: gi, Admitted: gi + 5, Renewed: fresh},
		}, "b", true},
		{"no budget is the most room", []HostBudget{
			{Name: "a", Budget: 0, Admitted: 50 * gi, Renewed: fresh},
			{Name: "b", Budget: math.MaxInt64 - 1, Renewed: fresh},
		}, "a", true},
		{"over-committed hosts: the least negative", []HostBudget{
			{Name: "a", Budget: gi, Admitted: 3 * gi, Renewed: fresh},
			{Name: "b", Budget: gi, Admitted: 2 * gi, Renewed: fresh},
		}, "b", true},
		{"no live host", []HostBudget{{Name: "a", Budget: gi, Renewed: stale}, {Name: "b", Budget: gi}}, "", false},
		{"no host at all", nil, "", false},
	}
	for _, tc := range cases {
		got, ok := choosePlacement(tc.hosts, now, grace)
		if got != tc.want || ok != tc.ok {
			t.Errorf("%s: got (%q, %v), want (%q, %v)", tc.name, got, ok, tc.want, tc.ok)
		}
	}
}

func TestUnreachable(t *testing.T) {
	now := time.Unix(1700000000, 0)
	grace := 40 * time.Second
	hosts := map[string]HostBudget{
		"up":   {Name: "up", Renewed: now.Add(-39 * time.Second)},
		"down": {Name: "down", Renewed: now.Add(-95 * time.Second)},
	}
	if msg, down := unreachable("up", hosts, now, grace); down || msg != "" {
		t.Errorf("live host: %q %v", msg, down)
	}
	msg, down := unreachable("down", hosts, now, grace)
	if !down || !strings.Contains(msg, "host down was last seen 1m35s ago") || !strings.Contains(msg, "--host-grace 40s") {
		t.Errorf("stale host: %q %v", msg, down)
	}
	msg, down = unreachable("gone", hosts, now, grace)
	if !down || !strings.Contains(msg, "no manager serves host gone") {
		t.Errorf("absent host: %q %v", msg, down)
	}
	if m := noLiveHostMessage(nil, grace); !strings.Contains(m, "no host has a manager") {
		t.Errorf("no hosts: %q", m)
	}
}
