package plan

import (
	"fmt"
	"regexp"
	"strconv"
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
	// CrashLoopRestarts is how many restarts in a row, each after a short
	// run, led to the run that started at StartedAt: the position in the
	// back-off curve. A run of BackoffPolicy.Reset or longer clears it.
	CrashLoopRestarts int32
	LastExitCode      *int32
	// Precise says StartedAt is Docker's own timestamp, as the running
	// controller remembers it (RememberRuns), not the second the stored
	// status keeps.
	Precise bool
}

// crashLoopNote is how CrashLoopRestarts is kept in a service's status
// message: the status type has no field for it, and the message is written
// by ComputeStatus alone, so the round trip stays within this package.
const crashLoopNote = "crash-loop restarts: %d"

var crashLoopNoteRE = regexp.MustCompile(`crash-loop restarts: (\d+)`)

func formatCrashLoopNote(n int32) string { return fmt.Sprintf(crashLoopNote, n) }

func parseCrashLoopNote(msg string) int32 {
	m := crashLoopNoteRE.FindStringSubmatch(msg)
	if m == nil {
		return 0
	}
	n, err := strconv.ParseInt(m[1], 10, 32)
	if err != nil || n < 0 {
		return 0
	}
	return int32(n)
}

// MemoryFromStatus reads ServiceMemory back from a status ComputeStatus
// wrote.
func MemoryFromStatus(st v1alpha1.EnvironmentStatus) map[string]ServiceMemory {
	out := make(map[string]ServiceMemory, len(st.Services))
	for _, s := range st.Services {
		m := ServiceMemory{
			ContainerID:       s.ContainerID,
			RestartCount:      s.RestartCount,
			CrashLoopRestarts: parseCrashLoopNote(s.Message),
		}
		if s.StartedAt != nil {
			m.StartedAt = s.StartedAt.Time
		}
		if s.LastExitCode != nil {
			code := *s.LastExitCode
			m.LastExitCode = &code
		}
		out[s.Name] = m
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
func RememberRuns(st v1alpha1.EnvironmentStatus, obs Observed) map[string]ServiceMemory {
	out := MemoryFromStatus(st)
	for name, m := range out {
		for _, c := range obs.Containers {
			if c.ID == m.ContainerID && !m.StartedAt.IsZero() && c.StartedAt.Truncate(time.Second).Equal(m.StartedAt) {
				m.StartedAt, m.Precise = c.StartedAt, true
				out[name] = m
			}
		}
	}
	return out
}

// memoryFor picks the memory source: the observation's if the caller filled
// it, else the status it came with.
func memoryFor(obs Observed, st v1alpha1.EnvironmentStatus) map[string]ServiceMemory {
	if obs.Memory != nil {
		return obs.Memory
	}
	return MemoryFromStatus(st)
}

// runInfo is a container's current run, placed in its history.
type runInfo struct {
	restarts     int32 // restarts of this container so far
	loopRestarts int32 // crash-loop restarts that led to the current run
	newRun       bool  // the container was restarted since memory was written
}

// trackRun compares a container with the memory of its service. A new
// container starts a new history (a recreated container is a new one, as a
// new pod is); a later StartedAt on the same container means berth restarted
// it, so the previous run crashed and the streak grows unless that run was
// long enough to count as healthy.
func trackRun(c ObservedContainer, m ServiceMemory, b BackoffPolicy) runInfo {
	if m.ContainerID != c.ID {
		return runInfo{}
	}
	later := c.StartedAt.Truncate(time.Second).After(m.StartedAt.Truncate(time.Second))
	if m.Precise {
		later = c.StartedAt.After(m.StartedAt)
	}
	if !c.hasRun() || m.StartedAt.IsZero() || !later {
		return runInfo{restarts: m.RestartCount, loopRestarts: m.CrashLoopRestarts}
	}
	// Docker keeps the previous run's FinishedAt while the container runs
	// again; once the new run has ended too, the restart time bounds it.
	prevEnd := c.StartedAt
	if c.FinishedAt.After(m.StartedAt) && c.FinishedAt.Before(c.StartedAt) {
		prevEnd = c.FinishedAt
	}
	return runInfo{
		restarts:     m.RestartCount + 1,
		loopRestarts: b.Streak(m.CrashLoopRestarts, prevEnd.Sub(m.StartedAt)),
		newRun:       true,
	}
}

// restartDue is when an exited container may be started again, and the
// crash streak its exit completes.
func restartDue(c ObservedContainer, run runInfo, b BackoffPolicy) (time.Time, int32) {
	ran := time.Duration(0)
	if c.hasRun() && c.FinishedAt.After(c.StartedAt) {
		ran = c.FinishedAt.Sub(c.StartedAt)
	}
	streak := b.Streak(run.loopRestarts, ran)
	end := c.FinishedAt
	if end.IsZero() {
		end = c.StartedAt
	}
	return end.Add(b.RestartDelay(streak)), streak
}
