package buildctx

import (
	"slices"
	"testing"
	"time"
)

func ids(ims []Image) []string {
	var out []string
	for _, im := range ims {
		out = append(out, im.ID)
	}
	return out
}

func TestPruneOldestFirstUntilWithinBudget(t *testing.T) {
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	ims := []Image{
		{ID: "new", Size: 100, LastUsed: t0.Add(3 * time.Hour)},
		{ID: "old", Size: 100, LastUsed: t0},
		{ID: "mid", Size: 100, LastUsed: t0.Add(time.Hour)},
		{ID: "oldest-in-use", Size: 100, LastUsed: t0.Add(-time.Hour), InUse: true},
	}
	for _, tc := range []struct {
		budget int64
		want   []string
	}{
		{400, nil},
		{0, nil}, // disabled
		{350, []string{"old"}},
		{200, []string{"old", "mid"}},
		{1, []string{"old", "mid", "new"}}, // in use stays even over budget
	} {
		if got := ids(Prune(ims, tc.budget)); !slices.Equal(got, tc.want) {
			t.Errorf("budget %d: prune %v, want %v", tc.budget, got, tc.want)
		}
	}
}
