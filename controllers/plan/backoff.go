package plan

import "time"

// BackoffPolicy is the kubelet's CrashLoopBackOff: the first crash of a
// streak restarts at once, the next waits Initial, each further consecutive
// crash doubles the wait up to Max, and a run of at least Reset counts as healthy, so the next crash
// starts over at Initial. The same curve spaces image pull retries.
type BackoffPolicy struct {
	Initial time.Duration
	Max     time.Duration
	Reset   time.Duration
}

// DefaultBackoff is the kubelet's: 10 s doubling to 5 min, reset after
// 10 min of running.
func DefaultBackoff() BackoffPolicy {
	return BackoffPolicy{Initial: 10 * time.Second, Max: 5 * time.Minute, Reset: 10 * time.Minute}
}

func (b BackoffPolicy) withDefaults() BackoffPolicy {
	d := DefaultBackoff()
	if b.Initial <= 0 {
		b.Initial = d.Initial
	}
	if b.Max <= 0 {
		b.Max = d.Max
	}
	if b.Max < b.Initial {
		b.Max = b.Initial
	}
	if b.Reset <= 0 {
		b.Reset = d.Reset
	}
	return b
}

// Delay is how long after the n-th consecutive failure the next attempt
// waits: Initial·2^(n-1), capped at Max. n < 1 means no failure, no wait.
func (b BackoffPolicy) Delay(n int32) time.Duration {
	b = b.withDefaults()
	if n < 1 {
		return 0
	}
	d := b.Initial
	// Doubling stops at the cap, so a huge n cannot overflow.
	for i := int32(1); i < n && d < b.Max; i++ {
		d *= 2
	}
	return min(d, b.Max)
}

// RestartDelay is the wait before restarting a container whose exit made a
// crash streak of n: none for the first crash (kubelet restarts at once,
// so a container killed from outside is back within seconds), then
// Initial, doubling up to Max.
func (b BackoffPolicy) RestartDelay(n int32) time.Duration { return b.Delay(n - 1) }

// Streak is the consecutive crash count once a run that lasted ran has
// crashed, given the crashes that came before that run. A long enough run
// proves the container can work, so its crash starts a new streak.
func (b BackoffPolicy) Streak(prior int32, ran time.Duration) int32 {
	b = b.withDefaults()
	if ran >= b.Reset || prior < 0 {
		return 1
	}
	return prior + 1
}
