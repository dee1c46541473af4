package main

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"time"
)

// startManager starts bin/manager with args, its log (stderr) in
// os.TempDir()/logName, which outlives the run for when a run goes wrong,
// and waits until it prints its kubeconfig. The caller stops it with
// stopManager.
func startManager(managerBin string, args []string, logName string) (cmd *exec.Cmd, kubeconfig, logPath string, err error) {
	cmd = exec.Command(managerBin, args...)
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return nil, "", "", err
	}
	logPath = filepath.Join(os.TempDir(), logName)
	logFile, err := os.Create(logPath)
	if err != nil {
		return nil, "", "", err
	}
	// The manager holds its own copy of the descriptor once started.
	defer logFile.Close()
	cmd.Stderr = logFile
	if err := cmd.Start(); err != nil {
		return nil, "", "", fmt.Errorf("start manager: %w", err)
	}
	kubeconfig, err = waitForKubeconfig(stdout, 60*time.Second)
	if err != nil {
		stopManager(cmd)
		return nil, "", "", fmt.Errorf("manager (log %s): %w", logPath, err)
	}
	return cmd, kubeconfig, logPath, nil
}

// stopManager interrupts the manager, as Ctrl-C would, so it shuts down
// gracefully, and kills it if it has not exited after 30 s.
func stopManager(cmd *exec.Cmd) {
	_ = cmd.Process.Signal(os.Interrupt)
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case <-done:
	case <-time.After(30 * time.Second):
		_ = cmd.Process.Kill()
		<-done
	}
}
