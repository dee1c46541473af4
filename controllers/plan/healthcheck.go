package plan

import (
	"slices"
	"time"

	"berth.dev/berth/apis/v1alpha1"
)

// Healthcheck is the check Docker runs in the container, as the spec's
// healthcheck asks for it (compose's healthcheck, Docker's HealthConfig).
// Zero fields inherit the image's HEALTHCHECK; Test [NONE] turns it off.
type Healthcheck struct {
	Test        []string      `json:",omitempty"`
	Interval    time.Duration `json:",omitempty"`
	Timeout     time.Duration `json:",omitempty"`
	StartPeriod time.Duration `json:",omitempty"`
	Retries     int           `json:",omitempty"`
}

// buildHealthcheck is the service's healthcheck, or nil when the spec has
// none (the image's HEALTHCHECK then applies as it is, and the spec hash
// of containers from before the field stays the same).
func buildHealthcheck(svc *v1alpha1.Service) *Healthcheck {
	h := svc.Healthcheck
	if h == nil {
		return nil
	}
	if h.Disabled() {
		// Timings of a check that never runs mean nothing; one spelling
		// of "off" keeps disable and [NONE] from hashing differently.
		return &Healthcheck{Test: []string{v1alpha1.HealthcheckNone}}
	}
	sec := func(n int32) time.Duration { return time.Duration(n) * time.Second }
	return &Healthcheck{
		Test:        slices.Clone(h.Test),
		Interval:    sec(h.IntervalSeconds),
		Timeout:     sec(h.TimeoutSeconds),
		StartPeriod: sec(h.StartPeriodSeconds),
		Retries:     int(h.Retries),
	}
}
