package docker

import (
	"context"
	"errors"
	"fmt"
	"io"
	"sync"
	"time"

	"github.com/moby/moby/api/pkg/stdcopy"
	"github.com/moby/moby/client"

	"berth.dev/berth/internal/governor"
)

// TerminalSize is a terminal's size in characters.
type TerminalSize struct {
	Width, Height uint
}

// firstSizeWait is how long a terminal session waits for the client's
// first size before starting without one (Docker's default then). The
// remotecommand protocol sends it right after the streams open.
const firstSizeWait = time.Second

// ExecStreamOptions describe an interactive command (berth exec): its
// streams are the caller's, nothing is buffered here.
type ExecStreamOptions struct {
	Cmd []string
	// TTY runs the command on a terminal; its output then comes on Stdout
	// only, as a terminal has one output.
	TTY bool
	// Stdin, when set, is copied to the command until it ends; its end
	// closes the command's standard input.
	Stdin io.Reader
	// Stdout and Stderr receive the command's output; nil discards it.
	Stdout, Stderr io.Writer
	// Resize carries terminal size changes (TTY only), the first being the
	// initial size.
	Resize <-chan TerminalSize
}

// ExecStream runs a command in a running container with the caller's
// streams and returns its exit code once its output has ended. Create,
// resize and inspect run in the read lane, like probe execs, so a user's
// commands never starve reconcile writes; the attached session is a stream
// (a token, no slot), as it may last as long as the user stays. A
// container without this manager's identity is refused (ErrNotOwned).
func (c *Client) ExecStream(ctx context.Context, containerID string, o ExecStreamOptions) (int, error) {
	if len(o.Cmd) == 0 {
		return -1, &Error{Op: "exec_create", Object: containerID, Kind: ErrInvalid, Err: errors.New("empty command")}
	}
	id, err := c.ownedContainer(ctx, "exec_create", containerID)
	if err != nil {
		return -1, fmt.Errorf("exec in %s: %w", shortID(containerID), err)
	}
	containerID = id
	// A terminal's first size goes with the create and the start, as the
	// docker CLI sends it: a resize after the start races the command,
	// which may read its size before it lands. Daemons before API 1.42
	// ignore it; for them the first size is also applied right after the
	// start.
	var size client.ConsoleSize
	if o.TTY && o.Resize != nil {
		select {
		case sz, ok := <-o.Resize:
			if ok {
				size = client.ConsoleSize{Height: sz.Height, Width: sz.Width}
			}
		case <-time.After(firstSizeWait):
		case <-ctx.Done():
			return -1, ctx.Err()
		}
	}
	var execID string
	// Not idempotent: a resent create would leave a second exec behind.
	// An unstarted exec holds nothing and Docker drops it with the
	// container, so a lost answer costs nothing but this call.
	err = c.gov.Do(ctx, governor.Call{Op: "exec_create", Lane: governor.LaneRead, Object: containerID}, func(ctx context.Context, _ int) error {
		r, err := c.api.ExecCreate(ctx, containerID, client.ExecCreateOptions{
			Cmd: o.Cmd, TTY: o.TTY, ConsoleSize: size,
			AttachStdin: o.Stdin != nil, AttachStdout: true, AttachStderr: !o.TTY,
		})
		execID = r.ID
		return err
	})
	if err != nil {
		return -1, fmt.Errorf("exec in %s: %w", shortID(containerID), err)
	}

	done, err := c.gov.Stream(ctx, "exec_start", containerID)
	if err != nil {
		return -1, fmt.Errorf("exec in %s: %w", shortID(containerID), err)
	}
	att, err := c.api.ExecAttach(ctx, execID, client.ExecAttachOptions{TTY: o.TTY, ConsoleSize: size})
	if err != nil {
		done(err)
		_, kind := classify(ctx, err)
		return -1, fmt.Errorf("exec in %s: %w", shortID(containerID), &Error{Op: "exec_start", Object: containerID, Kind: kind, Err: err})
	}
	sessionCtx, endSession := context.WithCancel(ctx)
	var wg sync.WaitGroup
	defer wg.Wait()
	defer endSession()
	stop := context.AfterFunc(sessionCtx, func() { att.Close() })
	defer stop()

	if o.Stdin != nil {
		// Not waited for: the caller's reader may only end once this
		// returns (an SPDY stream ends with its connection). Once the
		// session is over its writes fail and it returns at the reader's
		// next byte or end.
		go func() {
			// The input's end is the command's: half-close so it sees EOF
			// and can still answer.
			if _, err := io.Copy(att.Conn, o.Stdin); err == nil {
				_ = att.CloseWrite()
			}
		}()
	}
	if o.TTY && o.Resize != nil {
		wg.Go(func() { c.forwardResizes(sessionCtx, containerID, execID, size, o.Resize) })
	}

	stdout, stderr := orDiscard(o.Stdout), orDiscard(o.Stderr)
	if o.TTY {
		_, err = io.Copy(stdout, att.Reader)
	} else {
		_, err = stdcopy.StdCopy(stdout, stderr, att.Reader)
	}
	// The output has ended: the command exited (or the caller left). The
	// stdin copy may still be blocked on the caller's reader; closing the
	// connection here and the caller's streams ending release it.
	endSession()
	att.Close()
	if ctx.Err() != nil {
		done(ctx.Err())
		return -1, ctx.Err()
	}
	if err != nil && !errors.Is(err, io.EOF) && !errors.Is(err, io.ErrClosedPipe) {
		done(err)
		return -1, fmt.Errorf("exec in %s: copy output: %w", shortID(containerID), err)
	}
	done(nil)
	return c.execExitCode(ctx, containerID, execID)
}

// execExitCode asks Docker for a finished exec's exit code.
func (c *Client) execExitCode(ctx context.Context, containerID, execID string) (int, error) {
	code := -1
	err := c.gov.Do(ctx, governor.Call{Op: "exec_inspect", Lane: governor.LaneRead, Object: containerID, Idempotent: true}, func(ctx context.Context, _ int) error {
		r, err := c.api.ExecInspect(ctx, execID, client.ExecInspectOptions{})
		if err != nil {
			return err
		}
		if r.Running {
			// The output ended before the process: it closed its stdout
			// and stderr and runs on. Its exit code is not known.
			return fmt.Errorf("exec %s closed its output and is still running", shortID(execID))
		}
		code = r.ExitCode
		return nil
	})
	if err != nil {
		return -1, fmt.Errorf("exec in %s: %w", shortID(containerID), err)
	}
	return code, nil
}

// forwardResizes applies each size the client sends until the session
// ends. A failed resize is not worth ending a session for.
func (c *Client) forwardResizes(ctx context.Context, containerID, execID string, first client.ConsoleSize, sizes <-chan TerminalSize) {
	resize := func(w, h uint) {
		_ = c.gov.Do(ctx, governor.Call{Op: "exec_resize", Lane: governor.LaneRead, Object: containerID, Idempotent: true}, func(ctx context.Context, _ int) error {
			_, err := c.api.ExecResize(ctx, execID, client.ExecResizeOptions{Width: w, Height: h})
			return err
		})
	}
	if first.Width > 0 && first.Height > 0 {
		resize(first.Width, first.Height)
	}
	for {
		select {
		case <-ctx.Done():
			return
		case sz, ok := <-sizes:
			if !ok {
				return
			}
			resize(sz.Width, sz.Height)
		}
	}
}

func orDiscard(w io.Writer) io.Writer {
	if w == nil {
		return io.Discard
	}
	return w
}
