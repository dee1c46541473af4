package lease

import "time"

// Renewal timing, kept pure so it is tested without a clock.

// renewFraction of the duration is the nominal renewal period: two
// renewals can fail in a row before the lease is in danger.
const renewFraction = 3

// jitterFraction spreads renewals of many holders (parallel CI jobs
// started together) over the last fifth of each period; the jitter only
// shortens the period, never lengthens it past duration/3.
const jitterFraction = 0.2

// renewInterval is the wait before the next renewal after a successful
// one; r is a random number in [0, 1).
func renewInterval(d time.Duration, r float64) time.Duration {
	base := d / renewFraction
	return base - time.Duration(float64(base)*jitterFraction*r)
}

// firstRetry is the first wait after a failed renewal.
const firstRetry = 500 * time.Millisecond

// retryDelay is the wait after the failures-th failure in a row (1, 2, …):
// doubling from firstRetry, never longer than the renewal period, so a
// manager that comes back (after a restart) is renewed against soon.
func retryDelay(failures int, d time.Duration) time.Duration {
	limit := d / renewFraction
	delay := firstRetry
	for i := 1; i < failures && delay < limit; i++ {
		delay *= 2
	}
	if delay > limit {
		delay = limit
	}
	return delay
}

// durationSeconds is d in whole seconds, rounded up (the API counts
// seconds; a lease never gets shorter than asked).
func durationSeconds(d time.Duration) int64 {
	s := int64(d / time.Second)
	if d%time.Second != 0 {
		s++
	}
	return s
}
