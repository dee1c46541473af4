package dockertest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

// What the harness does to the host, each step on the slot's own objects
// only: its bridge, its mounts, its cgroup parent, its processes.

// ipCmd runs ip(8) with args and quotes its output in the error.
func ipCmd(ctx context.Context, args ...string) ([]byte, error) {
	out, err := exec.CommandContext(ctx, "ip", args...).CombinedOutput()
	if err != nil {
		return out, fmt.Errorf("ip %s: %w: %s", strings.Join(args, " "), err, bytes.TrimSpace(out))
	}
	return out, nil
}

func linkExists(name string) bool {
	_, err := net.InterfaceByName(name)
	return err == nil
}

// createBridge makes the slot's bridge with its address, up. created says
// whether the link was made (and so is ours to delete) when err is set.
func createBridge(ctx context.Context, name string, addr netip.Prefix) (created bool, err error) {
	if _, err := ipCmd(ctx, "link", "add", name, "type", "bridge"); err != nil {
		return false, err
	}
	if _, err := ipCmd(ctx, "addr", "add", addr.String(), "dev", name); err != nil {
		return true, err
	}
	_, err = ipCmd(ctx, "link", "set", name, "up")
	return true, err
}

// deleteBridge removes a bridge the harness or its daemon made (the caller
// decides that); one already gone is no error. It refuses docker0 whatever
// the caller says.
func deleteBridge(ctx context.Context, name string) error {
	if name == "docker0" || name == "" {
		return fmt.Errorf("refusing to delete bridge %q: not the harness's", name)
	}
	if !linkExists(name) {
		return nil
	}
	_, err := ipCmd(ctx, "link", "del", name, "type", "bridge")
	return err
}

// hostRoutes are the destinations of every route of every table.
func hostRoutes(ctx context.Context) ([]netip.Prefix, error) {
	out, err := exec.CommandContext(ctx, "ip", "-j", "route", "show", "table", "all").Output()
	if err != nil {
		return nil, fmt.Errorf("ip -j route show table all: %w", err)
	}
	return parseRoutes(out)
}

// lockSlot takes the slot's lock file without waiting; held is true when
// another live process holds it. The kernel drops the lock when the holder
// dies, which is how a crashed run's slot is told from a running one. The
// lock files are never removed: removing one while another process waits on
// it would let two processes hold "the" lock.
func lockSlot(path string) (f *os.File, held bool, err error) {
	f, err = os.OpenFile(path, os.O_CREATE|os.O_RDWR, 0o600)
	if err != nil {
		return nil, false, fmt.Errorf("lock %s: %w", path, err)
	}
	if err := unix.Flock(int(f.Fd()), unix.LOCK_EX|unix.LOCK_NB); err != nil {
		_ = f.Close()
		if errors.Is(err, unix.EWOULDBLOCK) {
			return nil, true, nil
		}
		return nil, false, fmt.Errorf("lock %s: %w", path, err)
	}
	return f, false, nil
}

// lockWait takes path's lock, waiting for it (the base directory's lock,
// held only while a slot is chosen or cleaned).
func lockWait(ctx context.Context, path string) (*os.File, error) {
	for {
		f, held, err := lockSlot(path)
		if err != nil || !held {
			return f, err
		}
		select {
		case <-ctx.Done():
			return nil, fmt.Errorf("wait for %s: %w", path, ctx.Err())
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// unmountUnder unmounts every mount at or below dir, deepest first (dockerd
// leaves its data root's bind mount when it did not make it itself, and a
// killed one leaves overlay and netns mounts). A busy mount is detached.
func unmountUnder(dir string) error {
	b, err := os.ReadFile("/proc/self/mountinfo")
	if err != nil {
		return fmt.Errorf("read mountinfo: %w", err)
	}
	var errs []error
	for _, mp := range mountsUnder(string(b), dir) {
		if err := unix.Unmount(mp, 0); err != nil && !errors.Is(err, unix.EINVAL) && !errors.Is(err, unix.ENOENT) {
			if err2 := unix.Unmount(mp, unix.MNT_DETACH); err2 != nil {
				errs = append(errs, fmt.Errorf("unmount %s: %w", mp, err))
			}
		}
	}
	return errors.Join(errs...)
}

// removeCgroups removes the slot's cgroup parent from every hierarchy
// (cgroup v1 controllers and the v2 root) once it is empty; rmdir refuses
// a cgroup that still has processes, so nothing running is affected.
func removeCgroups(parent string) {
	rel := strings.TrimPrefix(parent, "/")
	if rel == "" || strings.Contains(rel, "/") {
		return
	}
	dirs, _ := filepath.Glob(filepath.Join("/sys/fs/cgroup", "*", rel))
	dirs = append(dirs, filepath.Join("/sys/fs/cgroup", rel))
	for _, d := range dirs {
		// Children first (container cgroups the daemon did not remove).
		kids, _ := filepath.Glob(filepath.Join(d, "*"))
		for _, k := range kids {
			if fi, err := os.Stat(k); err == nil && fi.IsDir() {
				_ = os.Remove(k)
			}
		}
		_ = os.Remove(d)
	}
}

// cmdline is a process's argv; nil when it is gone.
func cmdline(pid int) []string {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/cmdline")
	if err != nil || len(b) == 0 {
		return nil
	}
	return strings.Split(strings.TrimRight(string(b), "\x00"), "\x00")
}

// processesMatching lists the pids whose argv satisfies match.
func processesMatching(match func(argv []string) bool) []int {
	entries, _ := os.ReadDir("/proc")
	var out []int
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil || pid == os.Getpid() {
			continue
		}
		if argv := cmdline(pid); argv != nil && match(argv) {
			out = append(out, pid)
		}
	}
	return out
}

// hasArgPair: argv holds flag followed by value (or flag=value).
func hasArgPair(argv []string, flag, value string) bool {
	for i, a := range argv {
		if a == flag+"="+value || (a == flag && i+1 < len(argv) && argv[i+1] == value) {
			return true
		}
	}
	return false
}

// slotProcesses are the processes of a slot still alive: its dockerd (by
// its --data-root), its containerd (by its config under the exec root) and
// the containerd shims that keep its containers running (by their
// -address). Matching on the slot's own paths keeps the main daemon's
// processes out.
func slotProcesses(l layout) (dockerds, others []int) {
	root, sock := l.dataRoot(), l.containerdSock()
	dockerds = processesMatching(func(argv []string) bool {
		return filepath.Base(argv[0]) == "dockerd" && hasArgPair(argv, "--data-root", root)
	})
	others = processesMatching(func(argv []string) bool {
		if strings.HasPrefix(filepath.Base(argv[0]), "containerd-shim") {
			return hasArgPair(argv, "-address", sock)
		}
		return filepath.Base(argv[0]) == "containerd" &&
			hasArgPair(argv, "--config", filepath.Join(l.execRoot(), "containerd", "containerd.toml"))
	})
	return dockerds, others
}

// terminate sends SIGTERM to pid and waits up to grace for it to go (it
// need not be our child); then SIGKILL, reported as an error.
func terminate(pid int, grace time.Duration) error {
	if err := syscall.Kill(pid, syscall.SIGTERM); err != nil {
		return nil // already gone
	}
	deadline := time.Now().Add(grace)
	for time.Now().Before(deadline) {
		if syscall.Kill(pid, 0) != nil {
			return nil
		}
		time.Sleep(100 * time.Millisecond)
	}
	_ = syscall.Kill(pid, syscall.SIGKILL)
	return fmt.Errorf("process %d did not exit within %s of SIGTERM; killed", pid, grace)
}

// rssKiB is a process's resident set (VmRSS) in KiB.
func rssKiB(pid int) (int64, error) {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/status")
	if err != nil {
		return 0, err
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			return strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
		}
	}
	return 0, fmt.Errorf("no VmRSS for process %d", pid)
}
