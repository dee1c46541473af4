package probe

import (
	"testing"
	"time"
)

// steps feeds a run of results through next and worthTelling and returns,
// per step, readiness and whether the controller was told.
func steps(results string, success, failure int) (ready, told string) {
	var s Status
	at := time.Unix(0, 0)
	for _, c := range results {
		r := Result{Success: c == 's'}
		if c == 'f' {
			r.Message = "HTTP probe failed with status 503"
		}
		if c == 'g' {
			r.Message = "dial tcp 172.18.0.3:8080: connect: connection refused"
		}
		prev := s
		at = at.Add(time.Second)
		s = s.next(r, at, success, failure)
		ready += map[bool]string{true: "R", false: "-"}[s.Ready]
		told += map[bool]string{true: "!", false: "."}[worthTelling(prev, s)]
	}
	return ready, told
}

func TestThresholdsAndNotifications(t *testing.T) {
	cases := []struct {
		name             string
		results          string // s success, f failure, g failure with another message
		success, failure int
		ready, told      string
	}{
		{"ready at once", "sss", 1, 3, "RRR", "!.."},
		{"needs two successes", "ssss", 2, 3, "-RRR", ".!.."},
		{"broken run of successes", "sfsss", 2, 3, "---RR", ".!.!."},
		{"unready after three failures", "sfffff", 1, 3, "RRR---", "!!.!.."},
		{"short failure runs keep ready", "sffsffs", 1, 3, "RRRRRRR", "!!..!.."},
		{"starts not ready while failing", "fffff", 1, 3, "-----", "!...."},
		{"message change is news", "ffgg", 1, 3, "----", "!.!."},
		{"threshold one", "sfsf", 1, 1, "R-R-", "!!!!"},
		{"zero thresholds act as one", "sf", 0, 0, "R-", "!!"},
	}
	for _, c := range cases {
		ready, told := steps(c.results, c.success, c.failure)
		if ready != c.ready || told != c.told {
			t.Errorf("%s: %s with success=%d failure=%d: ready %s told %s, want ready %s told %s",
				c.name, c.results, c.success, c.failure, ready, told, c.ready, c.told)
		}
	}
}

func TestStatusCounts(t *testing.T) {
	var s Status
	at := time.Unix(100, 0)
	s = s.next(Result{Success: true}, at, 1, 3)
	s = s.next(Result{Message: "boom"}, at.Add(time.Second), 1, 3)
	s = s.next(Result{}, at.Add(2*time.Second), 1, 3)
	want := Status{Known: true, Ready: true, ConsecutiveFailures: 2, Message: "probe failed", LastProbe: at.Add(2 * time.Second)}
	if s != want {
		t.Errorf("got %+v, want %+v", s, want)
	}
	s = s.next(Result{Success: true}, at.Add(3*time.Second), 1, 3)
	if s.ConsecutiveSuccesses != 1 || s.ConsecutiveFailures != 0 || s.Message != "" {
		t.Errorf("after a success: %+v", s)
	}
}
