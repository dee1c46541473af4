package probe

import (
	"context"
	"errors"
	"fmt"
	"io"
	"regexp"
	"time"

	v1 "berth.dev/berth/apis/v1alpha1"
)

// LogStreamer follows a container's output: what it wrote to stdout and
// stderr since a time, then new output, until ctx ends (a normal end,
// nil), the log ends (the container stopped), or a writer fails, whose
// error it returns. *docker.Client's Logs with Follow has this shape
// behind a small adapter; it passes through the governor's stream
// admission.
type LogStreamer interface {
	FollowLogs(ctx context.Context, containerID string, since time.Time, stdout, stderr io.Writer) error
}

// LogFunc adapts a function to LogStreamer.
type LogFunc func(ctx context.Context, containerID string, since time.Time, stdout, stderr io.Writer) error

// FollowLogs calls f.
func (f LogFunc) FollowLogs(ctx context.Context, containerID string, since time.Time, stdout, stderr io.Writer) error {
	return f(ctx, containerID, since, stdout, stderr)
}

// logWatch is one log probe's stream: it follows the container's output
// from its start, counts matching lines, and ends as soon as the pattern
// has matched often enough. A match, once made, stays made: the output of
// a container's run only grows. A worker owns at most one at a time.
type logWatch struct {
	matcher *logMatcher
	cancel  context.CancelFunc
	done    chan struct{}
	// err is why the stream ended unsatisfied; valid once done is closed.
	err error
}

// startLogWatch opens the stream in a goroutine of its own. release is
// called when the stream has ended.
func startLogWatch(ctx context.Context, l *v1.LogAction, t Target, since time.Time, release func()) (*logWatch, error) {
	re, err := regexp.Compile(l.Pattern)
	if err != nil {
		return nil, fmt.Errorf("log probe pattern: %w", err)
	}
	ctx, cancel := context.WithCancel(ctx)
	w := &logWatch{matcher: newLogMatcher(re, int(l.Occurrences)), cancel: cancel, done: make(chan struct{})}
	go func() {
		defer close(w.done)
		defer release()
		defer cancel()
		err := t.Logs.FollowLogs(ctx, t.ContainerID, since, w.matcher.writer(), w.matcher.writer())
		switch {
		case w.matcher.satisfied():
			w.err = nil
		case err != nil && !errors.Is(err, errLogSatisfied):
			w.err = err
		case ctx.Err() != nil:
			w.err = ctx.Err()
		default:
			w.err = errors.New("the container's output ended")
		}
	}()
	return w, nil
}

// ended says whether the stream is over.
func (w *logWatch) ended() bool {
	select {
	case <-w.done:
		return true
	default:
		return false
	}
}

func (w *logWatch) stop() {
	if w != nil {
		w.cancel()
	}
}

// result is the probe's verdict now. A stream that ended unsatisfied is
// reported and dropped (restart says so), so the next probe opens a new
// one that counts from the start again.
func (w *logWatch) result(l *v1.LogAction) (res Result, restart bool) {
	if w.matcher.satisfied() {
		return Result{Success: true}, false
	}
	n := w.matcher.count()
	if w.ended() {
		return failed(fmt.Sprintf("log probe: %d of %d matching lines before the stream ended: %v", n, w.matcher.want, w.err)), true
	}
	return failed(fmt.Sprintf("log probe: %d of %d lines matching %q so far", n, w.matcher.want, clip(l.Pattern, maxMessage))), false
}

// probeLog is one probe of a log probe: the first opens the stream and
// gives it the probe's timeout to read what the container wrote so far;
// later ones read the count. A stream that ended unsatisfied (a Docker
// error, the container stopping) is reopened by the next probe.
func (w *worker) probeLog(t Target) Result {
	switch {
	case t.Logs == nil:
		return failed("log probe: nothing to read container output with")
	case t.ContainerID == "":
		return failed("log probe: no container to read")
	}
	if w.logs != nil {
		res, restart := w.logs.result(w.probe.Log)
		if restart {
			w.logs = nil
		}
		return res
	}
	release, err := w.m.logStreams.Acquire(t.ContainerID)
	if err != nil {
		return failed("log probe: " + err.Error())
	}
	lw, err := startLogWatch(w.ctx, w.probe.Log, t, w.startedAt, release)
	if err != nil {
		release()
		return failed(err.Error())
	}
	w.logs = lw
	timer := w.m.clock.NewTimer(seconds(w.probe.TimeoutSeconds, v1.DefaultProbeTimeoutSeconds))
	defer timer.Stop()
	select {
	case <-lw.done:
	case <-timer.C():
	case <-w.ctx.Done():
	}
	res, restart := lw.result(w.probe.Log)
	if restart {
		w.logs = nil
	}
	return res
}
