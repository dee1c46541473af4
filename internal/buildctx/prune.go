package buildctx

import (
	"cmp"
	"slices"
	"time"
)

// Image is one image berth built, as the prune decision sees it.
type Image struct {
	ID   string
	Size int64
	// LastUsed is when it was last built or needed by a spec (its creation
	// time when nothing more recent is known).
	LastUsed time.Time
	// InUse: a current spec or a container needs it; never pruned.
	InUse bool
}

// Prune returns the images to remove, oldest use first, until what is
// left fits budget bytes. Images in use are kept even when they alone
// exceed the budget. budget <= 0 disables pruning.
func Prune(images []Image, budget int64) []Image {
	if budget <= 0 {
		return nil
	}
	var total int64
	for _, im := range images {
		total += im.Size
	}
	if total <= budget {
		return nil
	}
	cands := slices.Clone(images)
	slices.SortStableFunc(cands, func(a, b Image) int {
		if c := a.LastUsed.Compare(b.LastUsed); c != 0 {
			return c
		}
		return cmp.Compare(a.ID, b.ID)
	})
	var out []Image
	for _, im := range cands {
		if total <= budget {
			break
		}
		if im.InUse {
			continue
		}
		out = append(out, im)
		total -= im.Size
	}
	return out
}
