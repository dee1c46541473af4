package plan

import (
	"math"
	"testing"
	"time"
)

func TestBackoffDelay(t *testing.T) {
	b := DefaultBackoff()
	tests := []struct {
		n    int32
		want time.Duration
	}{
		{-1, 0}, {0, 0},
		{1, 10 * time.Second}, {2, 20 * time.Second}, {3, 40 * time.Second}, {4, 80 * time.Second},
		{5, 160 * time.Second}, {6, 300 * time.Second}, {7, 300 * time.Second},
		{100, 300 * time.Second}, {math.MaxInt32, 300 * time.Second},
	}
	for _, tt := range tests {
		if got := b.Delay(tt.n); got != tt.want {
			t.Errorf("Delay(%d) = %s, want %s", tt.n, got, tt.want)
		}
	}
}

func TestBackoffCustomAndZeroPolicy(t *testing.T) {
	b := BackoffPolicy{Initial: time.Second, Max: 3 * time.Second}
	for n, want := range map[int32]time.Duration{1: time.Second, 2: 2 * time.Second, 3: 3 * time.Second, 9: 3 * time.Second} {
		if got := b.Delay(n); got != want {
			t.Errorf("custom Delay(%d) = %s, want %s", n, got, want)
		}
	}
	if got := (BackoffPolicy{}).Delay(2); got != 20*time.Second {
		t.Errorf("zero policy Delay(2) = %s, want the kubelet's 20s", got)
	}
	if got := (BackoffPolicy{Initial: time.Minute, Max: time.Second}).Delay(3); got != time.Minute {
		t.Errorf("a cap below the initial delay must not go under it, got %s", got)
	}
}

func TestBackoffStreak(t *testing.T) {
	b := DefaultBackoff()
	tests := []struct {
		name  string
		prior int32
		ran   time.Duration
		want  int32
	}{
		{"first crash", 0, time.Second, 1},
		{"quick crash grows the streak", 3, time.Second, 4},
		{"just under the reset", 5, 10*time.Minute - time.Second, 6},
		{"ten minutes running resets", 5, 10 * time.Minute, 1},
		{"long run resets", 9, time.Hour, 1},
		{"corrupt prior", -4, time.Second, 1},
	}
	for _, tt := range tests {
		if got := b.Streak(tt.prior, tt.ran); got != tt.want {
			t.Errorf("%s: Streak(%d, %s) = %d, want %d", tt.name, tt.prior, tt.ran, got, tt.want)
		}
	}
}
