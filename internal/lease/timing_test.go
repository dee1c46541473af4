package lease

import (
	"testing"
	"time"
)

func TestRenewInterval(t *testing.T) {
	d := 30 * time.Second
	if got := renewInterval(d, 0); got != 10*time.Second {
		t.Errorf("no jitter: got %s, want 10s", got)
	}
	if got := renewInterval(d, 0.5); got != 9*time.Second {
		t.Errorf("half jitter: got %s, want 9s", got)
	}
	// The jitter only shortens: never past a third of the duration,
	// never below 80% of it.
	for _, r := range []float64{0, 0.1, 0.37, 0.99999} {
		got := renewInterval(d, r)
		if got > 10*time.Second || got < 8*time.Second {
			t.Errorf("r=%v: %s outside [8s, 10s]", r, got)
		}
	}
}

func TestRetryDelay(t *testing.T) {
	d := 30 * time.Second
	want := []time.Duration{500 * time.Millisecond, time.Second, 2 * time.Second, 4 * time.Second, 8 * time.Second, 10 * time.Second, 10 * time.Second}
	for i, w := range want {
		if got := retryDelay(i+1, d); got != w {
			t.Errorf("failure %d: got %s, want %s", i+1, got, w)
		}
	}
	// A short lease caps the retries at its renewal period.
	if got := retryDelay(3, 5*time.Second); got != 5*time.Second/3 {
		t.Errorf("5s lease, third failure: got %s, want %s", got, 5*time.Second/3)
	}
}

func TestDurationSeconds(t *testing.T) {
	for d, want := range map[time.Duration]int64{30 * time.Second: 30, 5500 * time.Millisecond: 6, time.Nanosecond: 1} {
		if got := durationSeconds(d); got != want {
			t.Errorf("%s: got %d, want %d", d, got, want)
		}
	}
}
