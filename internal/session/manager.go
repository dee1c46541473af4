package session

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"berth.dev/berth/internal/paths"
)

// EnvManagerFlags holds extra flags for a manager berth starts on its own
// (split on white space), e.g. "--allow-host-path /src --docker-profile ci".
const EnvManagerFlags = "BERTH_MANAGER_FLAGS"

// ManagerStartTimeout bounds how long EnsureManager waits for a manager's
// API (its own or another run's) to answer.
const ManagerStartTimeout = 2 * time.Minute

// ManagerOptions say which manager EnsureManagerWith looks for and how it
// starts one.
type ManagerOptions struct {
	// DataDir is the manager's data dir; "" is the default one.
	DataDir string
	// Binary is the manager to start; "" is the `manager` next to the
	// running executable, else `manager` on $PATH.
	Binary string
	// Args are extra flags after the ones EnsureManagerWith sets
	// (--data-dir and free loopback ports).
	Args []string
	// LogFile receives the started manager's output; "" is
	// <data dir>/manager.log (appended to).
	LogFile string
}

// ManagerInfo is the manager EnsureManagerWith found or started.
type ManagerInfo struct {
	Kubeconfig string
	// Started is true when this call started the manager that answers.
	Started bool
	// Shared is true when this call started a manager that lost the data
	// dir's lock to another one starting at the same time, which answers.
	Shared bool
	// PID is the started manager's process id (0 when not Started).
	PID int
	// LogFile is where the started manager writes its output.
	LogFile string
	Binary  string
	DataDir string
}

// StopHint tells a user how to stop a manager berth started.
func (m *ManagerInfo) StopHint() string {
	return fmt.Sprintf("kill %d (or kill $(cat %s)); SIGTERM stops it gracefully, and Environments still running stay up until a manager runs again",
		m.PID, filepath.Join(m.DataDir, "manager.lock"))
}

// EnsureManager returns the kubeconfig of the manager on dataDir ("" =
// the default data dir), starting one in the background when none
// answers; started says whether this call started it. Extra flags for a
// started manager come from $BERTH_MANAGER_FLAGS.
func EnsureManager(ctx context.Context, dataDir string) (kubeconfig string, started bool, err error) {
	info, err := EnsureManagerWith(ctx, ManagerOptions{DataDir: dataDir, Args: strings.Fields(os.Getenv(EnvManagerFlags))})
	if err != nil {
		return "", false, err
	}
	return info.Kubeconfig, info.Started, nil
}

// EnsureManagerWith is EnsureManager with every choice spelled out.
//
// When the data dir's kubeconfig answers, that manager is used. Otherwise
// a manager is started detached from the terminal (its own session, stdin
// closed, output to the log file), so it outlives this process and serves
// later runs. Two callers that both find none both start one; the data
// dir's lock lets one win, the loser exits at once ("another berth manager
// … is already using data dir"), and both callers then wait for the
// winner's API.
func EnsureManagerWith(ctx context.Context, o ManagerOptions) (*ManagerInfo, error) {
	if o.DataDir == "" {
		d, err := paths.DefaultDataDir()
		if err != nil {
			return nil, err
		}
		o.DataDir = d
	}
	info := &ManagerInfo{Kubeconfig: paths.Kubeconfig(o.DataDir), DataDir: o.DataDir}
	if answers(ctx, info.Kubeconfig) {
		return info, nil
	}
	bin, err := managerBinary(o.Binary)
	if err != nil {
		return nil, err
	}
	info.Binary = bin
	if err := paths.EnsurePrivateDir(o.DataDir); err != nil {
		return nil, fmt.Errorf("manager data dir: %w", err)
	}
	info.LogFile = o.LogFile
	if info.LogFile == "" {
		info.LogFile = filepath.Join(o.DataDir, "manager.log")
	}
	logf, err := os.OpenFile(info.LogFile, os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o600)
	if err != nil {
		return nil, fmt.Errorf("manager log: %w", err)
	}
	defer logf.Close()
	logStart, _ := logf.Seek(0, io.SeekEnd)

	args := append([]string{
		"--data-dir", o.DataDir,
		// Free ports: the kubeconfig says where the API is, and a fixed
		// port may be taken (6443 is every Kubernetes' port).
		"--api-listen", "127.0.0.1:0",
		"--dashboard-listen", "127.0.0.1:0",
	}, o.Args...)
	cmd := exec.Command(bin, args...)
	cmd.Stdout, cmd.Stderr = logf, logf
	// Its own session: no controlling terminal, so Ctrl-C in the shell
	// that ran berth does not reach it, and closing the terminal does not
	// hang it up.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	cmd.Dir = "/"
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start %s: %w", bin, err)
	}
	info.PID = cmd.Process.Pid
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()

	ctx, cancel := context.WithTimeout(ctx, ManagerStartTimeout)
	defer cancel()
	tick := time.NewTicker(pollInterval)
	defer tick.Stop()
	ours := true
	for {
		if answers(ctx, info.Kubeconfig) {
			// The lock file names the manager that answers: ours, or the
			// one ours lost the lock to (which then exits on its own).
			if ours && lockHolder(o.DataDir) == info.PID {
				info.Started = true
				return info, nil
			}
			info.PID, info.Binary, info.Shared = 0, "", true
			return info, nil
		}
		select {
		case err := <-exited:
			// Lost the data dir's lock to another manager (another run
			// starting one at the same time, or one still starting up):
			// wait for that one. Anything else is a failure to report.
			if lostLock(o.DataDir, info.PID, info.LogFile, logStart) {
				ours = false
				exited = nil
				continue
			}
			return nil, fmt.Errorf("manager %s exited before its API answered (%v); its output (%s):\n%s",
				bin, err, info.LogFile, logTail(info.LogFile, logStart, 20))
		case <-ctx.Done():
			what := "the manager it started (pid " + strconv.Itoa(info.PID) + ")"
			if !ours {
				what = "the manager holding " + filepath.Join(o.DataDir, "manager.lock")
			}
			return nil, fmt.Errorf("waiting for %s to answer at %s: %w; its output (%s):\n%s",
				what, info.Kubeconfig, ctx.Err(), info.LogFile, logTail(info.LogFile, logStart, 20))
		case <-tick.C:
		}
	}
}

// answers reports whether the kubeconfig exists and its API is ready.
func answers(ctx context.Context, kubeconfig string) bool {
	if _, err := os.Stat(kubeconfig); err != nil {
		return false
	}
	c, err := Connect(kubeconfig)
	if err != nil {
		return false
	}
	return c.Ping(ctx) == nil
}

// managerBinary finds the manager to start.
func managerBinary(explicit string) (string, error) {
	if explicit != "" {
		return explicit, nil
	}
	if self, err := os.Executable(); err == nil {
		next := filepath.Join(filepath.Dir(self), "manager")
		if st, err := os.Stat(next); err == nil && !st.IsDir() && st.Mode()&0o111 != 0 {
			return next, nil
		}
	}
	p, err := exec.LookPath("manager")
	if err != nil {
		return "", errors.New("no manager answers, and there is no `manager` binary next to berth or on $PATH to start one " +
			"(build it with `make build`, or start one yourself and pass its kubeconfig)")
	}
	return p, nil
}

// lockHolder is the pid the manager holding the data dir's lock wrote
// into it, 0 when unknown. The file is only read: taking the lock to test
// it would make a manager starting at that moment fail.
func lockHolder(dataDir string) int {
	b, err := os.ReadFile(filepath.Join(dataDir, "manager.lock"))
	if err != nil {
		return 0
	}
	pid, err := strconv.Atoi(strings.TrimSpace(string(b)))
	if err != nil {
		return 0
	}
	return pid
}

// lostLock reports whether the manager pid exited because another one
// holds the data dir's lock: its output says so, or the lock file names
// another live process.
func lostLock(dataDir string, pid int, logFile string, logStart int64) bool {
	if strings.Contains(logTail(logFile, logStart, 1000), "is already using data dir") {
		return true
	}
	holder := lockHolder(dataDir)
	return holder > 0 && holder != pid && alive(holder)
}

// alive reports whether a process with pid exists.
func alive(pid int) bool {
	err := syscall.Kill(pid, 0)
	return err == nil || errors.Is(err, syscall.EPERM)
}

// logTail is the last n lines written to the log after offset.
func logTail(path string, offset int64, n int) string {
	f, err := os.Open(path)
	if err != nil {
		return "(unreadable: " + err.Error() + ")"
	}
	defer f.Close()
	if _, err := f.Seek(offset, io.SeekStart); err != nil {
		return "(unreadable: " + err.Error() + ")"
	}
	b, _ := io.ReadAll(io.LimitReader(f, 1<<20))
	lines := bytes.Split(bytes.TrimRight(b, "\n"), []byte("\n"))
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return string(bytes.Join(lines, []byte("\n")))
}
