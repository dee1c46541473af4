package compose

import (
	"math"
	"slices"
	"strings"
	"time"

	"github.com/compose-spec/compose-go/v2/types"

	"berth.dev/berth/apis/v1alpha1"
)

// mapHealthcheck maps compose's healthcheck onto the healthcheck field,
// which Docker runs as compose does.
func mapHealthcheck(sp string, h *types.HealthCheckConfig, r *refusals) *v1alpha1.Healthcheck {
	if h == nil {
		return nil
	}
	hp := sp + ".healthcheck"
	out := &v1alpha1.Healthcheck{Test: append([]string(nil), h.Test...), Disable: h.Disable}
	seconds := func(name string, d *types.Duration) int32 {
		if d == nil {
			return 0
		}
		n, _ := wholeSeconds(hp+"."+name, *d, r)
		return n
	}
	out.IntervalSeconds = seconds("interval", h.Interval)
	out.TimeoutSeconds = seconds("timeout", h.Timeout)
	out.StartPeriodSeconds = seconds("start_period", h.StartPeriod)
	if h.Retries != nil {
		out.Retries = int32(min(*h.Retries, math.MaxInt32))
	}
	return out
}

// wholeSeconds is d in seconds; a fraction is refused, since berth's
// fields count whole seconds and rounding would change what the file says.
func wholeSeconds(path string, d types.Duration, r *refusals) (int32, bool) {
	td := time.Duration(d)
	if td%time.Second != 0 {
		r.add(path, "%s: berth counts whole seconds", td)
		return 0, false
	}
	if td < 0 || td/time.Second > math.MaxInt32 {
		r.add(path, "%s: out of range", td)
		return 0, false
	}
	return int32(td / time.Second), true
}

// conditions maps compose's depends_on conditions onto berth's.
var conditions = map[string]v1alpha1.DependencyCondition{
	types.ServiceConditionStarted:               v1alpha1.DependencyStarted,
	types.ServiceConditionHealthy:               v1alpha1.DependencyReady,
	types.ServiceConditionCompletedSuccessfully: v1alpha1.DependencyCompleted,
}

// mapDependsOn maps depends_on in name order. An optional dependency
// (required: false) on a service the project does not have (a profile
// left it out) is dropped, as compose does.
func mapDependsOn(sp string, p *types.Project, s types.ServiceConfig, r *refusals) []v1alpha1.Dependency {
	var out []v1alpha1.Dependency
	for _, name := range sortedKeys(s.DependsOn) {
		d := s.DependsOn[name]
		dp := sp + ".depends_on." + name
		if _, ok := p.Services[name]; !ok && !d.Required {
			continue
		}
		// links: (refused on its own) adds a dependency with restart.
		if d.Restart && !slices.ContainsFunc(s.Links, func(l string) bool { return strings.Split(l, ":")[0] == name }) {
			r.add(dp+".restart", "berth does not restart a service when its dependency restarts")
		}
		c, ok := conditions[d.Condition]
		if !ok {
			r.add(dp+".condition", "%q: service_started, service_healthy or service_completed_successfully", d.Condition)
			continue
		}
		dep := v1alpha1.Dependency{Service: name}
		if c != v1alpha1.DependencyStarted {
			dep.Condition = c
		}
		out = append(out, dep)
	}
	return out
}
