package main

import (
	"bufio"
	"errors"
	"io"
	"net/http"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"
)

// beMain makes the test binary act as testapp itself, so the process tests
// below exercise real signals and exit codes without a separate go build.
const beMain = "BERTH_TESTAPP_BE_MAIN"

func TestMain(m *testing.M) {
	if os.Getenv(beMain) == "1" {
		os.Exit(realMain(os.Args[1:], os.Stdout, os.Stderr))
	}
	os.Exit(m.Run())
}

// proc is testapp running as a child process.
type proc struct {
	cmd  *exec.Cmd
	out  *bufio.Reader
	done chan error
}

// startProc starts testapp with args and waits for its "ready" line.
func startProc(t *testing.T, args ...string) *proc {
	t.Helper()
	cmd := exec.Command(os.Args[0], args...)
	cmd.Env = append(os.Environ(), beMain+"=1")
	cmd.Stderr = os.Stderr
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	p := &proc{cmd: cmd, out: bufio.NewReader(stdout), done: make(chan error, 1)}
	t.Cleanup(func() {
		_ = cmd.Process.Kill() // the child is ours; a no-op when it already exited
		<-p.done
	})
	readyc := make(chan error, 1)
	go func() {
		// Read to EOF: it finds the ready line and keeps draining, so the
		// child never blocks on a full stdout pipe.
		ready := false
		for {
			line, err := p.out.ReadString('\n')
			if err != nil {
				break
			}
			if !ready && strings.HasPrefix(line, "testapp: ready") {
				ready = true
				readyc <- nil
			}
		}
		if !ready {
			readyc <- io.ErrUnexpectedEOF
		}
		p.done <- cmd.Wait()
	}()
	select {
	case err := <-readyc:
		if err != nil {
			t.Fatalf("testapp exited before ready: %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("testapp not ready after 10s")
	}
	return p
}

func (p *proc) exitCode(t *testing.T, d time.Duration) int {
	t.Helper()
	select {
	case err := <-p.done:
		p.done <- err // for the cleanup
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			return ee.ExitCode()
		}
		if err != nil {
			t.Fatal(err)
		}
		return 0
	case <-time.After(d):
		t.Fatalf("testapp still running after %s", d)
		return -1
	}
}

func TestProcessServesAndStopsOnSIGTERM(t *testing.T) {
	_, port, _ := strings.Cut(closedAddr(t), ":")
	p := startProc(t, "--http-port", port)
	resp, err := http.Get("http://127.0.0.1:" + port + "/healthz")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("GET /healthz = %d", resp.StatusCode)
	}
	t0 := time.Now()
	if err := p.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	if c := p.exitCode(t, 3*time.Second); c != 0 {
		t.Fatalf("exit code after SIGTERM = %d, want 0", c)
	}
	t.Logf("stopped %s after SIGTERM", time.Since(t0))
}

func TestProcessIgnoreSigterm(t *testing.T) {
	p := startProc(t, "--http-port", "0", "--ignore-sigterm")
	for _, s := range []os.Signal{syscall.SIGTERM, syscall.SIGINT} {
		if err := p.cmd.Process.Signal(s); err != nil {
			t.Fatal(err)
		}
	}
	select {
	case err := <-p.done:
		t.Fatalf("testapp stopped on SIGTERM despite --ignore-sigterm: %v", err)
	case <-time.After(500 * time.Millisecond):
	}
	if err := p.cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	p.exitCode(t, 3*time.Second)
	if !p.cmd.ProcessState.Sys().(syscall.WaitStatus).Signaled() {
		t.Fatal("expected death by SIGKILL")
	}
}

func TestProcessExitCode(t *testing.T) {
	p := startProc(t, "--http-port", "0", "--exit-after", "100ms", "--exit-code", "42")
	if c := p.exitCode(t, 3*time.Second); c != 42 {
		t.Fatalf("exit code = %d, want 42", c)
	}
}

func TestProcessBadFlagExits2(t *testing.T) {
	cmd := exec.Command(os.Args[0], "--http-port", "x")
	cmd.Env = append(os.Environ(), beMain+"=1")
	err := cmd.Run()
	var ee *exec.ExitError
	if !errors.As(err, &ee) || ee.ExitCode() != 2 {
		t.Fatalf("err = %v, want exit code 2", err)
	}
}

func TestProcessCheckSubcommand(t *testing.T) {
	cmd := exec.Command(os.Args[0], "check", "--file", os.Args[0])
	cmd.Env = append(os.Environ(), beMain+"=1")
	out, err := cmd.CombinedOutput()
	if err != nil || !strings.Contains(string(out), "ok") {
		t.Fatalf("check --file on an existing file: %v\n%s", err, out)
	}
	cmd = exec.Command(os.Args[0], "check", "--tcp", closedAddr(t))
	cmd.Env = append(os.Environ(), beMain+"=1")
	err = cmd.Run()
	var ee *exec.ExitError
	if !errors.As(err, &ee) || ee.ExitCode() != 1 {
		t.Fatalf("check --tcp on a closed port: err = %v, want exit code 1", err)
	}
}
