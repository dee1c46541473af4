package manager

import (
	"cmp"
	"fmt"
	"math"
	"time"

	"berth.dev/berth/apis/v1alpha1"
	"berth.dev/berth/controllers/plan"
)

// HostBudget is one host's heartbeat as the placement reads it: the
// admission budget its manager published and when it last renewed it.
type HostBudget struct {
	Name string
	// Budget is the memory budget in bytes: 0 is none (unlimited),
	// negative not known yet (the daemon has not answered).
	Budget int64
	// Admitted is what the host has admitted, plus what was bound to it
	// and not admitted yet (the placement adds that).
	Admitted int64
	Renewed  time.Time
}

// live reports whether h renewed its heartbeat within grace of now.
func (h HostBudget) live(now time.Time, grace time.Duration) bool {
	return !h.Renewed.IsZero() && now.Sub(h.Renewed) <= grace
}

// free is budget − admitted; a host without a budget has all the room
// there is. It may be negative (over-committed).
func (h HostBudget) free() int64 {
	if h.Budget == 0 {
		return math.MaxInt64
	}
	return h.Budget - h.Admitted
}

// choosePlacement picks the live host with a known budget and the most
// free budget, the first by name on a tie. ok is false when no host is
// live: the Environment stays unbound.
func choosePlacement(hosts []HostBudget, now time.Time, grace time.Duration) (host string, ok bool) {
	var best *HostBudget
	for i := range hosts {
		h := &hosts[i]
		if !h.live(now, grace) || h.Budget < 0 {
			continue
		}
		if best == nil || h.free() > best.free() || (h.free() == best.free() && cmp.Less(h.Name, best.Name)) {
			best = h
		}
	}
	if best == nil {
		return "", false
	}
	return best.Name, true
}

// unreachable decides whether host has no live manager: its heartbeat is
// older than grace, or there is none. msg names the host and says how long
// ago it was last seen.
func unreachable(host string, hosts map[string]HostBudget, now time.Time, grace time.Duration) (msg string, down bool) {
	h, seen := hosts[host]
	if !seen || h.Renewed.IsZero() {
		return fmt.Sprintf("no manager serves host %s (no heartbeat in the cluster)", host), true
	}
	if h.live(now, grace) {
		return "", false
	}
	ago := now.Sub(h.Renewed).Round(time.Second)
	if ago <= grace {
		// Just past grace: whole seconds would read as within it.
		ago = now.Sub(h.Renewed).Round(10 * time.Millisecond)
	}
	return fmt.Sprintf("host %s was last seen %s ago (at %s; --host-grace %s); its containers are left where they are",
		host, ago, h.Renewed.UTC().Format(time.RFC3339), grace), true
}

// noLiveHostMessage is why an unpinned Environment stays unbound.
func noLiveHostMessage(hosts []HostBudget, grace time.Duration) string {
	if len(hosts) == 0 {
		return "not placed: no host has a manager (no berth-host-* heartbeat in the cluster)"
	}
	return fmt.Sprintf("not placed: none of the %d known hosts has a live manager with a known budget (heartbeats within --host-grace %s)", len(hosts), grace)
}

// freeStandbys counts, per pool and host, the standbys a claim could take
// (plan.StandbyAvailable, bound to a host): where an unpinned claimant
// should be placed, since it binds only a standby on its own host.
func freeStandbys(envs []*v1alpha1.Environment) map[string]map[string]int {
	out := map[string]map[string]int{}
	for _, e := range envs {
		if e.Status.Host == "" || !plan.StandbyAvailable(e) {
			continue
		}
		pool := e.Spec.Standby.Pool
		if out[pool] == nil {
			out[pool] = map[string]int{}
		}
		out[pool][e.Status.Host]++
	}
	return out
}

// placeClaimant is choosePlacement for an unpinned claimant of pool: among
// the live hosts with a free standby of it (free[pool]), the most free
// budget; with none, any live host (its claim then falls back to the
// pool's template there). The chosen host's count is taken, so a burst of
// claimants spreads over the standbys.
func placeClaimant(pool string, free map[string]map[string]int, hosts []HostBudget, now time.Time, grace time.Duration) (string, bool) {
	var with []HostBudget
	for _, h := range hosts {
		if free[pool][h.Name] > 0 {
			with = append(with, h)
		}
	}
	if host, ok := choosePlacement(with, now, grace); ok {
		free[pool][host]--
		return host, true
	}
	return choosePlacement(hosts, now, grace)
}
