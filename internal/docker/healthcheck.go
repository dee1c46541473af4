package docker

import (
	"slices"
	"time"

	"github.com/moby/moby/api/types/container"
)

// HealthcheckSpec is the check Docker runs in a container (compose's
// healthcheck). Zero fields inherit the image's HEALTHCHECK; Test [NONE]
// turns it off.
type HealthcheckSpec struct {
	Test        []string
	Interval    time.Duration
	Timeout     time.Duration
	StartPeriod time.Duration
	Retries     int
}

// healthConfig is Docker's form of h; nil keeps the image's.
func (h *HealthcheckSpec) healthConfig() *container.HealthConfig {
	if h == nil {
		return nil
	}
	return &container.HealthConfig{
		Test:        slices.Clone(h.Test),
		Interval:    h.Interval,
		Timeout:     h.Timeout,
		StartPeriod: h.StartPeriod,
		Retries:     h.Retries,
	}
}
