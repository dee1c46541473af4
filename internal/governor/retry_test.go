package governor

import (
	"testing"
	"time"
)

func TestBackoffScheduleIsOneTwoFourWithJitter(t *testing.T) {
	want := []time.Duration{time.Second, 2 * time.Second, 4 * time.Second}
	for i, base := range want {
		lo, _ := backoffDelay(DefaultRetryBackoff, i, 0)
		mid, _ := backoffDelay(DefaultRetryBackoff, i, 0.5)
		hi, _ := backoffDelay(DefaultRetryBackoff, i, 0.999999)
		if mid != base {
			t.Errorf("retry %d: centre %s, want %s", i, mid, base)
		}
		if lo < base*8/10 || hi > base*12/10 || lo >= hi {
			t.Errorf("retry %d: jitter range %s..%s, want within ±20%% of %s", i, lo, hi, base)
		}
	}
	if _, ok := backoffDelay(DefaultRetryBackoff, 3, 0.5); ok {
		t.Error("a fourth retry was scheduled; the caller's backoff should take over after 1s, 2s, 4s")
	}
}
