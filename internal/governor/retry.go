package governor

import (
	"context"
	"math/rand/v2"
	"time"
)

// retryJitter spreads retries ±20% so callers that failed together do not
// come back together.
const retryJitter = 0.2

// backoffDelay is the wait before retry number attempt (0-based) with
// jitter; ok is false when the schedule is used up.
func backoffDelay(schedule []time.Duration, attempt int, r float64) (d time.Duration, ok bool) {
	if attempt < 0 || attempt >= len(schedule) {
		return 0, false
	}
	base := schedule[attempt]
	f := 1 + retryJitter*(2*r-1)
	return time.Duration(float64(base) * f), true
}

func jitterRand() float64 { return rand.Float64() }

// sleepCtx waits d or until ctx ends.
func sleepCtx(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Jitter spreads d by the retry jitter (±20%), for callers with their own
// backoff schedule (the informer's stream reopen) that must not come back
// in step either.
func Jitter(d time.Duration) time.Duration {
	return time.Duration(float64(d) * (1 + retryJitter*(2*jitterRand()-1)))
}

// Sleep waits d or until ctx ends, whichever is first.
func Sleep(ctx context.Context, d time.Duration) error { return sleepCtx(ctx, d) }
