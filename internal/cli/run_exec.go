package cli

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"time"

	"k8s.io/cli-runtime/pkg/genericiooptions"
)

// commandGrace is how long CMD has to exit after berth passed it a signal
// before berth kills it: CI must not hang on a command that ignores
// SIGTERM, and the Environment still has to be torn down.
const commandGrace = 10 * time.Second

// commandEnv is the command's environment: berth's own, with vars added
// (replacing any of the same name).
func commandEnv(base, vars []string) []string {
	set := make(map[string]bool, len(vars))
	for _, v := range vars {
		k, _, _ := strings.Cut(v, "=")
		set[k] = true
	}
	out := make([]string, 0, len(base)+len(vars))
	for _, v := range base {
		k, _, _ := strings.Cut(v, "=")
		if !set[k] {
			out = append(out, v)
		}
	}
	return append(out, vars...)
}

// runCommand runs argv with vars added to berth's environment and the
// terminal's streams, passing on SIGINT and SIGTERM from sigs. It returns
// the exit code, the signal berth received (nil if none), and an error
// when the command could not run at all (code is then 126 or 127).
func runCommand(argv, vars []string, streams genericiooptions.IOStreams, sigs <-chan os.Signal) (code int, received os.Signal, err error) {
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Env = commandEnv(os.Environ(), vars)
	cmd.Stdin, cmd.Stdout, cmd.Stderr = os.Stdin, streams.Out, streams.ErrOut
	if err := cmd.Start(); err != nil {
		if errors.Is(err, exec.ErrNotFound) || errors.Is(err, fs.ErrNotExist) {
			return exitNotFound, nil, fmt.Errorf("%s: command not found", argv[0])
		}
		return exitCannotInvoke, nil, fmt.Errorf("%s: cannot run: %w", argv[0], err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()

	var kill <-chan time.Time
	for {
		select {
		case s := <-sigs:
			if received == nil {
				received = s
				// The command gets the signal too (on a terminal Ctrl-C
				// already reached it through the process group; once
				// more does no harm), then a grace period.
				_ = cmd.Process.Signal(s)
				kill = time.After(commandGrace)
			} else {
				_ = cmd.Process.Kill()
			}
		case <-kill:
			_ = cmd.Process.Kill()
		case err := <-done:
			// A Ctrl-C on a terminal reaches the command and berth at
			// once; the command may be reaped before berth's own copy of
			// the signal is read. Count it, or the teardown would take it
			// for a second signal.
			if received == nil {
				select {
				case s := <-sigs:
					received = s
				case <-time.After(50 * time.Millisecond):
				}
			}
			return exitCode(err), received, nil
		}
	}
}

// exitCode is the shell's $? for a finished command: its code, or
// 128+N when signal N killed it.
func exitCode(err error) int {
	if err == nil {
		return 0
	}
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		if ws, ok := ee.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
			return 128 + int(ws.Signal())
		}
		return ee.ExitCode()
	}
	return exitBerthFailed
}

// splitFields splits a flags variable on white space.
func splitFields(s string) []string { return strings.Fields(s) }
