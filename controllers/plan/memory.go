package plan

import (
	"time"

	"berth.dev/berth/apis/v1alpha1"
)

// ServiceMemory is what the previous status recorded about one service.
// Restart counting and crash-loop back-off need history that Docker does not
// keep (it overwrites StartedAt on every start), so it lives in the
// Environment's status and survives a manager restart with it.
type ServiceMemory struct {
	ContainerID string
	// StartedAt of the run the status described, at the second precision
	// the API stores.
	StartedAt    time.Time
	RestartCount int32
	// RestartStreak is how many restarts in a row, each after a short run
	// that crashed, led to the run that started at StartedAt: the position
	// in the back-off curve (status.services[].restartStreak). A run of
	// BackoffPolicy.Reset or longer clears it; an exit inside a Docker
	// daemon outage leaves it as it was.
	RestartStreak int32
	// LastCrashTime is when the last exit counted in the streak happened.
	LastCrashTime time.Time
	LastExitCode  *int32
	// Precise says StartedAt is Docker's own timestamp, as the running
	// controller remembers it (RememberRuns), not the second the stored
	// status keeps.
	Precise bool
	// ExitedAt is the FinishedAt of the run at StartedAt when the
	// controller saw it exited, at Docker's precision: after a restart the
	// cache may not know when the previous run ended.
	ExitedAt time.Time
	// RestartedExit is the FinishedAt of the exit berth last restarted this
	// container after, and RestartIssued when it did. Until the cache shows
	// the new run, it still shows that exit; restarting it again would be
	// a second Restarted event for one restart.
	RestartedExit time.Time
	RestartIssued time.Time
}

// restartExpectation bounds how long a restart berth issued may go unseen
// by the cache before the plan trusts the cache again (a start that Docker
// accepted but the container did not survive, with the events lost).
const restartExpectation = 30 * time.Second

// MemoryFromStatus reads ServiceMemory back from a status ComputeStatus
// wrote.
func MemoryFromStatus(st v1alpha1.EnvironmentStatus) map[string]ServiceMemory {
	out := make(map[string]ServiceMemory, len(st.Services))
	for _, s := range st.Services {
		m := ServiceMemory{
			ContainerID:   s.ContainerID,
			RestartCount:  s.RestartCount,
			RestartStreak: max(s.RestartStreak, 0),
		}
		if s.StartedAt != nil {
			m.StartedAt = s.StartedAt.Time
		}
		if s.LastCrashTime != nil {
			m.LastCrashTime = s.LastCrashTime.Time
		}
		if s.LastExitCode != nil {
			code := *s.LastExitCode
			m.LastExitCode = &code
		}
		out[s.Name] = m
		replicaMemory(out, s)
	}
	return out
}

// RememberRuns is the memory of st, a status ComputeStatus computed from
// obs, with each service's StartedAt at Docker's full precision. The
// controller keeps it between reconciles because the stored status has only
// seconds: a container that crashed and was restarted within the second it
// started would look like the same run, so the restart would go uncounted
// and the crash-loop back-off would not grow (berth restarted such a
// container at once, again and again, until a start fell into a new
// second). A restarted manager falls back to MemoryFromStatus.
//
// It also keeps what the status cannot: when the described run ended, and a
// restart berth issued that the cache has not shown yet (from the memory
// obs was planned with).
func RememberRuns(st v1alpha1.EnvironmentStatus, obs Observed) map[string]ServiceMemory {
	out := MemoryFromStatus(st)
	for name, m := range out {
		for _, c := range obs.Containers {
			if c.ID != m.ContainerID {
				continue
			}
			if !m.StartedAt.IsZero() && c.StartedAt.Truncate(time.Second).Equal(m.StartedAt) {
				m.StartedAt, m.Precise = c.StartedAt, true
				if c.exited() && c.FinishedAt.After(c.StartedAt) {
					m.ExitedAt = c.FinishedAt
				}
			}
			if prev, ok := obs.Memory[name]; ok && prev.ContainerID == c.ID && c.exited() &&
				!prev.RestartedExit.IsZero() && !c.FinishedAt.After(prev.RestartedExit) {
				m.RestartedExit, m.RestartIssued = prev.RestartedExit, prev.RestartIssued
			}
			out[name] = m
		}
	}
	return out
}

// MarkRestarted records in memory that berth restarted service's container
// id after the exit that finished at exitedAt, at now.
func MarkRestarted(memory map[string]ServiceMemory, service, id string, exitedAt, now time.Time) {
	m, ok := memory[service]
	if !ok || m.ContainerID != id {
		// Another replica of the service (see replicaMemoryKey).
		service, m, ok = replicaMemoryByID(memory, service, id)
		if !ok {
			return
		}
	}
	m.RestartedExit, m.RestartIssued = exitedAt, now
	memory[service] = m
}

// restartPending reports that berth already restarted c after the exit the
// cache still shows: the cache has not caught up with the start yet.
func restartPending(c ObservedContainer, m ServiceMemory, now time.Time) bool {
	return m.ContainerID == c.ID && !m.RestartedExit.IsZero() && !c.FinishedAt.After(m.RestartedExit) &&
		now.Sub(m.RestartIssued) < restartExpectation
}

// memoryFor picks the memory source: the observation's if the caller filled
// it, else the status it came with.
func memoryFor(obs Observed, st v1alpha1.EnvironmentStatus) map[string]ServiceMemory {
	mem := obs.Memory
	if mem == nil {
		mem = MemoryFromStatus(st)
	}
	return forgiveOutageCrashes(mem, obs.Outages)
}

// forgiveOutageCrashes takes back a crash counted before berth knew it was
// the daemon's: a daemon shutting down stops containers and sends their die
// events while its event stream still works, so berth may count the exit
// (and restart) before the stream breaks and the outage begins. Once the
// outage is known, the crash at LastCrashTime inside it is taken off the
// streak; clearing LastCrashTime makes that happen once.
func forgiveOutageCrashes(mem map[string]ServiceMemory, outages []Outage) map[string]ServiceMemory {
	var out map[string]ServiceMemory
	for name, m := range mem {
		if m.RestartStreak <= 0 || !inOutage(outages, m.LastCrashTime) {
			continue
		}
		if out == nil {
			// The caller's map may be shared (the controller keeps it).
			out = make(map[string]ServiceMemory, len(mem))
			for k, v := range mem {
				out[k] = v
			}
		}
		m.RestartStreak--
		m.LastCrashTime = time.Time{}
		out[name] = m
	}
	if out == nil {
		return mem
	}
	return out
}

// runInfo is a container's current run, placed in its history.
type runInfo struct {
	restarts     int32     // restarts of this container so far
	loopRestarts int32     // crash-loop restarts that led to the current run
	lastCrash    time.Time // when the last crash counted in loopRestarts happened
	newRun       bool      // the container was restarted since memory was written
}

// trackRun compares a container with the memory of its service. A new
// container starts a new history (a recreated container is a new one, as a
// new pod is); a later StartedAt on the same container means berth restarted
// it, so the previous run crashed and the streak grows unless that run was
// long enough to count as healthy, or ended inside a Docker daemon outage
// (the daemon stopped it; it did not crash).
func trackRun(c ObservedContainer, m ServiceMemory, b BackoffPolicy, outages []Outage) runInfo {
	if m.ContainerID != c.ID {
		return runInfo{}
	}
	later := c.StartedAt.Truncate(time.Second).After(m.StartedAt.Truncate(time.Second))
	if m.Precise {
		later = c.StartedAt.After(m.StartedAt)
	}
	if !c.hasRun() || m.StartedAt.IsZero() || !later {
		return runInfo{restarts: m.RestartCount, loopRestarts: m.RestartStreak, lastCrash: m.LastCrashTime}
	}
	// Docker keeps the previous run's FinishedAt while the container runs
	// again, but the cache learns it only from an inspect after the start
	// event; what the controller saw before the restart comes first.
	prevEnd := c.StartedAt
	switch {
	case !m.ExitedAt.IsZero():
		prevEnd = m.ExitedAt
	case c.FinishedAt.After(m.StartedAt) && c.FinishedAt.Before(c.StartedAt):
		prevEnd = c.FinishedAt
	}
	run := runInfo{restarts: m.RestartCount + 1, newRun: true}
	if inOutage(outages, prevEnd) {
		run.loopRestarts, run.lastCrash = m.RestartStreak, m.LastCrashTime
		return run
	}
	run.loopRestarts, run.lastCrash = b.Streak(m.RestartStreak, prevEnd.Sub(m.StartedAt)), prevEnd
	return run
}

// restartDue is when an exited container may be started again, and the
// crash streak its exit completes. An exit inside a daemon outage is no
// crash: it restarts at once and leaves the streak as it was.
func restartDue(c ObservedContainer, run runInfo, b BackoffPolicy, outages []Outage) (due time.Time, streak int32, outage bool) {
	end := c.FinishedAt
	if end.IsZero() {
		end = c.StartedAt
	}
	if inOutage(outages, c.FinishedAt) {
		return end, run.loopRestarts, true
	}
	ran := time.Duration(0)
	if c.hasRun() && c.FinishedAt.After(c.StartedAt) {
		ran = c.FinishedAt.Sub(c.StartedAt)
	}
	streak = b.Streak(run.loopRestarts, ran)
	return end.Add(b.RestartDelay(streak)), streak, false
}
