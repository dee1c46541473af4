package governor

import (
	"testing"
	"time"
)

func TestProfilesResolve(t *testing.T) {
	d, err := resolveLimits(ProfileDesktop, 0, 0)
	if err != nil {
		t.Fatal(err)
	}
	if d.initial != 3 || d.max != 3 || d.adaptive || d.burst != 1 {
		t.Fatalf("desktop = %+v", d)
	}
	if interval := time.Duration(float64(time.Second) / d.qps); interval < 500*time.Millisecond {
		t.Fatalf("desktop spaces calls %s apart, the seed requires >= 0.5s", interval)
	}
	a, err := resolveLimits("", 0, 0)
	if err != nil || !a.adaptive || a.max != DefaultMaxInFlight || a.profile != ProfileAdaptive {
		t.Fatalf("default profile = %+v, %v; want adaptive with cap %d", a, err, DefaultMaxInFlight)
	}
	a, _ = resolveLimits(ProfileAdaptive, 5, 0)
	if a.max != 5 || a.initial > 5 {
		t.Fatalf("adaptive with --docker-max-inflight 5 = %+v", a)
	}
	c, _ := resolveLimits(ProfileCI, 6, 7)
	if c.initial != 6 || c.max != 6 || c.qps != 7 {
		t.Fatalf("ci with overrides = %+v", c)
	}
	u, _ := resolveLimits(ProfileCI, 0, -1)
	if u.qps != 0 {
		t.Fatalf("negative qps should disable the bucket: %+v", u)
	}
	if _, err := resolveLimits("turbo", 0, 0); err == nil {
		t.Fatal("unknown profile accepted")
	}
	if _, err := resolveLimits(ProfileCI, -1, 0); err == nil {
		t.Fatal("negative max in-flight accepted")
	}
}
