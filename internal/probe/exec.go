package probe

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// execSlack is how long past its timeout an exec probe may take: the
// Execer's calls queue behind the Docker governor, which ranks reconcile
// writes first, and that wait is not the probed program's fault. It only
// keeps a wedged daemon from holding a worker forever.
const execSlack = 30 * time.Second

// probeExec runs the command in the container; exit code 0 is success.
func probeExec(ctx context.Context, cmd []string, t Target, timeout time.Duration) Result {
	if len(cmd) == 0 {
		return failed("exec probe has no command")
	}
	if t.Execer == nil {
		return failed("exec probe: nothing to run commands in containers with")
	}
	if t.ContainerID == "" {
		return failed("exec probe: no container to run in")
	}
	ctx, cancel := context.WithTimeout(ctx, timeout+execSlack)
	defer cancel()
	r, err := t.Execer.Exec(ctx, t.ContainerID, cmd, timeout)
	switch {
	case err != nil && errors.Is(err, context.DeadlineExceeded):
		return failed(fmt.Sprintf("exec probe did not finish within %s: %s", timeout+execSlack, err))
	case err != nil:
		return failed("exec probe: " + err.Error())
	case r.TimedOut:
		return failed(fmt.Sprintf("exec probe timed out after %s", timeout))
	case r.ExitCode != 0:
		msg := fmt.Sprintf("exec probe failed with exit code %d", r.ExitCode)
		if line := firstLine(r.Output); line != "" {
			msg += ": " + line
		}
		return failed(msg)
	}
	return Result{Success: true}
}
