package session

import (
	"context"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

func TestLostLock(t *testing.T) {
	dir := t.TempDir()
	logFile := filepath.Join(dir, "manager.log")
	if err := os.WriteFile(logFile, []byte("old line from an earlier start\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	start := int64(len("old line from an earlier start\n"))
	const ours = 999999 // a pid that is not this process

	// No lock file, nothing said: a real failure.
	if lostLock(dir, ours, logFile, start) {
		t.Error("no holder and no message: reported as a lost lock")
	}
	// The lock names our own (dead) manager: a real failure.
	if err := os.WriteFile(filepath.Join(dir, "manager.lock"), []byte(strconv.Itoa(ours)+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if lostLock(dir, ours, logFile, start) {
		t.Error("the lock names our own manager: reported as a lost lock")
	}
	// The lock names another live process (this test): lost the race.
	if err := os.WriteFile(filepath.Join(dir, "manager.lock"), []byte(strconv.Itoa(os.Getpid())+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if !lostLock(dir, ours, logFile, start) {
		t.Error("another live holder: not reported as a lost lock")
	}
	// The manager's own message, written after start, says so too, even
	// before the winner wrote its pid.
	_ = os.Remove(filepath.Join(dir, "manager.lock"))
	f, _ := os.OpenFile(logFile, os.O_APPEND|os.O_WRONLY, 0o600)
	_, _ = f.WriteString("manager: another berth manager (pid unknown) is already using data dir " + dir + "; stop it\n")
	f.Close()
	if !lostLock(dir, ours, logFile, start) {
		t.Error("the manager said it lost the lock: not reported")
	}
}

func TestLogTail(t *testing.T) {
	p := filepath.Join(t.TempDir(), "log")
	var b strings.Builder
	b.WriteString("before\n")
	for i := 1; i <= 30; i++ {
		b.WriteString("line " + strconv.Itoa(i) + "\n")
	}
	if err := os.WriteFile(p, []byte(b.String()), 0o600); err != nil {
		t.Fatal(err)
	}
	got := logTail(p, int64(len("before\n")), 3)
	if got != "line 28\nline 29\nline 30" {
		t.Errorf("tail %q", got)
	}
	if got := logTail(p, int64(len("before\n")), 100); strings.Contains(got, "before") {
		t.Errorf("tail reaches before the offset: %q", got)
	}
}

func TestEnsureManagerReportsAFailedStart(t *testing.T) {
	dir := t.TempDir()
	bin := filepath.Join(dir, "failing-manager")
	// Stands in for a manager that cannot start (a port taken, say): it
	// says why and exits 1. EnsureManager must report that output, not
	// wait for an API that will never come.
	script := "#!/bin/sh\necho \"manager: listen on 127.0.0.1:0: boom ($*)\" >&2\nexit 1\n"
	if err := os.WriteFile(bin, []byte(script), 0o700); err != nil {
		t.Fatal(err)
	}
	_, err := EnsureManagerWith(context.Background(), ManagerOptions{DataDir: filepath.Join(dir, "data"), Binary: bin, Args: []string{"--x"}})
	if err == nil {
		t.Fatal("no error")
	}
	for _, want := range []string{"exited before its API answered", "boom", "--data-dir " + filepath.Join(dir, "data"), "--x"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not contain %q", err, want)
		}
	}
}
