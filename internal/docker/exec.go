package docker

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/moby/moby/api/pkg/stdcopy"
	"github.com/moby/moby/client"

	"berth.dev/berth/internal/governor"
)

// maxExecOutput bounds what Exec keeps of a command's output: probes need
// a line for their message, not a log.
const maxExecOutput = 4096

// ExecResult is the outcome of a command run in a container.
type ExecResult struct {
	ExitCode int
	// Output is stdout then stderr, cut at 4 KiB.
	Output string
	// TimedOut: the command did not finish within the timeout. Docker
	// cannot kill an exec'd process; it runs on, and ExitCode is -1.
	TimedOut bool
}

// Exec runs cmd in a running container and waits up to timeout for it (an
// exec probe). Its calls run in the read lane: probe traffic must never
// starve reconcile writes. A container without this manager's identity is
// refused (ErrNotOwned).
func (c *Client) Exec(ctx context.Context, containerID string, cmd []string, timeout time.Duration) (ExecResult, error) {
	if len(cmd) == 0 {
		return ExecResult{}, &Error{Op: "exec_create", Object: containerID, Kind: ErrInvalid, Err: errors.New("empty command")}
	}
	id, err := c.ownedContainer(ctx, "exec_create", containerID)
	if err != nil {
		return ExecResult{}, fmt.Errorf("exec in %s: %w", shortID(containerID), err)
	}
	containerID = id
	if timeout <= 0 {
		timeout = 10 * time.Second
	}
	var execID string
	err = c.gov.Do(ctx, governor.Call{Op: "exec_create", Lane: governor.LaneRead, Object: containerID, Idempotent: true}, func(ctx context.Context, _ int) error {
		r, err := c.api.ExecCreate(ctx, containerID, client.ExecCreateOptions{Cmd: cmd, AttachStdout: true, AttachStderr: true})
		execID = r.ID
		return err
	})
	if err != nil {
		return ExecResult{}, fmt.Errorf("exec in %s: %w", shortID(containerID), err)
	}

	runCtx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	var stdout, stderr limitedBuffer
	timedOut := false
	done, err := c.gov.Stream(runCtx, "exec_start", containerID)
	if err != nil {
		return ExecResult{}, fmt.Errorf("exec in %s: %w", shortID(containerID), err)
	}
	att, err := c.api.ExecAttach(runCtx, execID, client.ExecAttachOptions{})
	if err != nil {
		done(err)
		_, kind := classify(ctx, err)
		return ExecResult{}, fmt.Errorf("exec in %s: %w", shortID(containerID), &Error{Op: "exec_start", Object: containerID, Kind: kind, Err: err})
	}
	stop := context.AfterFunc(runCtx, func() { att.Close() })
	_, copyErr := stdcopy.StdCopy(&stdout, &stderr, att.Reader)
	stop()
	att.Close()
	if runCtx.Err() != nil && ctx.Err() == nil {
		timedOut, copyErr = true, nil
	}
	done(copyErr)
	if ctx.Err() != nil {
		return ExecResult{}, ctx.Err()
	}
	if copyErr != nil && !errors.Is(copyErr, io.EOF) {
		return ExecResult{}, fmt.Errorf("exec in %s: read output: %w", shortID(containerID), copyErr)
	}
	res := ExecResult{Output: stdout.String() + stderr.String(), TimedOut: timedOut, ExitCode: -1}
	if len(res.Output) > maxExecOutput {
		res.Output = res.Output[:maxExecOutput]
	}
	if timedOut {
		return res, nil
	}
	err = c.gov.Do(ctx, governor.Call{Op: "exec_inspect", Lane: governor.LaneRead, Object: containerID, Idempotent: true}, func(ctx context.Context, _ int) error {
		r, err := c.api.ExecInspect(ctx, execID, client.ExecInspectOptions{})
		if err != nil {
			return err
		}
		if !r.Running {
			res.ExitCode = r.ExitCode
		}
		return nil
	})
	if err != nil {
		return res, fmt.Errorf("exec in %s: %w", shortID(containerID), err)
	}
	return res, nil
}

// limitedBuffer keeps the first maxExecOutput bytes and drops the rest
// without failing the copy.
type limitedBuffer struct{ bytes.Buffer }

func (b *limitedBuffer) Write(p []byte) (int, error) {
	if room := maxExecOutput - b.Len(); room > 0 {
		if len(p) > room {
			b.Buffer.Write(p[:room])
		} else {
			b.Buffer.Write(p)
		}
	}
	return len(p), nil
}
