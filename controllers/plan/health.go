package plan

import "berth.dev/berth/apis/v1alpha1"

// Docker's health states (State.Health.Status and the health_status
// events).
const (
	HealthStarting  = "starting"
	HealthHealthy   = "healthy"
	HealthUnhealthy = "unhealthy"
)

// healthGated says whether the container's readiness is Docker's health
// verdict: the service has no readinessProbe (a probe is the user's more
// specific word) and the container has a healthcheck (the image's
// HEALTHCHECK or the spec's), which Docker reports a state for. A
// container without one keeps the old meaning: running is Ready.
func healthGated(svc *v1alpha1.Service, c *ObservedContainer) bool {
	if svc.ReadinessProbe != nil {
		return false
	}
	if c.HealthUnknown && c.Health == "" {
		// A moment after a start: not Ready until the inspect says
		// whether a healthcheck decides.
		return true
	}
	switch c.Health {
	case HealthStarting, HealthHealthy, HealthUnhealthy:
		return true
	}
	return false // "" or Docker's "none"
}

// describeHealth adds what the healthcheck says to a running container's
// status. An unhealthy container is not restarted: Docker does not restart
// it either, and compose only reports it; it is not Ready, and once it had
// been healthy, the Environment is Degraded, as with a failing probe.
func describeHealth(f *serviceFacts, svc *v1alpha1.Service, c *ObservedContainer) {
	if !c.running() || !healthGated(svc, c) {
		return
	}
	switch c.Health {
	case "":
		f.probePending = true
		f.addMessage("waiting for Docker to report whether the container has a healthcheck")
	case HealthStarting:
		f.probePending = true
		f.addMessage("waiting for the container's healthcheck")
	case HealthUnhealthy:
		f.probeFailing = true
		f.regressed = c.HasBeenHealthy
		f.addMessage("healthcheck failing: Docker reports the container unhealthy")
	}
}

// DialsContainer says whether a readiness probe connects to the container
// (TCP or HTTP), so it needs the container's address on its network; exec
// and log probes do not.
func DialsContainer(p *v1alpha1.Probe) bool {
	return p != nil && (p.TCPSocket != nil || p.HTTPGet != nil)
}
