package dockertest

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/moby/moby/client"
)

const testImage = "berth-testapp:dev"

// startOrSkip starts a second daemon (stopped when the test ends) after
// needDaemon.
func startOrSkip(t *testing.T) *Daemon {
	t.Helper()
	needDaemon(t)
	d, err := Start(context.Background(), Options{Logf: t.Logf})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := d.Stop(); err != nil {
			t.Errorf("stop: %v", err)
		}
	})
	return d
}

// needDaemon skips when this machine cannot run a second daemon (not root,
// no dockerd) or has no main daemon to copy images from, and fails when
// the main daemon lacks the test image.
func needDaemon(t *testing.T) {
	t.Helper()
	if err := available(Options{}); err != nil {
		t.Skipf("skipping: %v", err)
	}
	main, err := client.New(client.FromEnv, client.WithAPIVersionNegotiation())
	if err != nil {
		t.Fatal(err)
	}
	defer main.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if _, err := main.Ping(ctx, client.PingOptions{NegotiateAPIVersion: true}); err != nil {
		t.Skipf("skipping: no main Docker daemon answers (hack/ensure-docker.sh starts one): %v", err)
	}
	if _, err := main.ImageInspect(ctx, testImage); err != nil {
		t.Fatalf("%s is missing on the main daemon (hack/build-images.sh builds it): %v", testImage, err)
	}
}

// docker runs the docker CLI against host.
func docker(t *testing.T, host string, args ...string) string {
	t.Helper()
	out, err := exec.Command("docker", append([]string{"-H", host}, args...)...).CombinedOutput()
	if err != nil {
		t.Fatalf("docker -H %s %v: %v: %s", host, args, err, out)
	}
	return strings.TrimSpace(string(out))
}

func mainHost() string {
	if h := os.Getenv("DOCKER_HOST"); h != "" {
		return h
	}
	return "unix:///var/run/docker.sock"
}

// TestSecondDaemonIsItsOwn starts a second daemon, runs a container on it
// on a network of its own, and checks nothing of it shows on the main
// daemon or in the host's firewall; then that Stop leaves nothing behind
// and docker0 and the main daemon are as they were.
func TestSecondDaemonIsItsOwn(t *testing.T) {
	docker0 := linkExists("docker0")
	d := startOrSkip(t)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	t.Logf("slot %d: answering after %s, storage driver %s", d.Slot, d.Started.Round(time.Millisecond), d.StorageDriver)

	mainInfo, err := d.Main.Info(ctx, client.InfoOptions{})
	if err != nil {
		t.Fatal(err)
	}
	info, err := d.Client.Info(ctx, client.InfoOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if info.Info.ID == mainInfo.Info.ID {
		t.Errorf("both daemons report engine ID %s", info.Info.ID)
	}
	if want := filepath.Join(d.Dir, "root"); info.Info.DockerRootDir != want {
		t.Errorf("data root %s, want %s", info.Info.DockerRootDir, want)
	}

	begin := time.Now()
	if err := d.LoadImages(ctx, testImage); err != nil {
		t.Fatal(err)
	}
	t.Logf("loaded %s in %s", testImage, time.Since(begin).Round(time.Millisecond))

	subnet := d.AddressPool.Addr().String() + "/24"
	docker(t, d.Host, "network", "create", "--subnet", subnet, "harness-net")
	netID := docker(t, d.Host, "network", "inspect", "-f", "{{.Id}}", "harness-net")
	id := docker(t, d.Host, "run", "-d", "--name", "harness-app", "--network", "harness-net", testImage, "--http-port=0")
	pid, _ := strconv.Atoi(docker(t, d.Host, "inspect", "-f", "{{.State.Pid}}", id))
	if pid == 0 {
		t.Fatalf("container %s has no process", id)
	}
	if dk, cd, err := d.RSS(); err != nil {
		t.Error(err)
	} else {
		t.Logf("RSS with one container: dockerd %d KiB, containerd %d KiB", dk, cd)
	}
	if out, _ := exec.Command("docker", "-H", mainHost(), "inspect", id).CombinedOutput(); !strings.Contains(strings.ToLower(string(out)), "no such") {
		t.Errorf("the main daemon knows the second daemon's container %s: %s", id, out)
	}
	if _, err := d.Main.NetworkInspect(ctx, netID, client.NetworkInspectOptions{}); err == nil {
		t.Errorf("the main daemon knows the second daemon's network %s", netID)
	}
	rules, _ := exec.Command("iptables-save").Output()
	for _, word := range []string{d.Bridge, "br-" + netID[:12], "10." + strconv.Itoa(slotBase+d.Slot) + "."} {
		if strings.Contains(string(rules), word) {
			t.Errorf("the host's iptables rules mention %s", word)
		}
	}

	dockerPid := d.Pid()
	if err := d.Stop(); err != nil {
		t.Fatal(err)
	}
	if syscall.Kill(dockerPid, 0) == nil {
		t.Errorf("dockerd %d still runs after Stop", dockerPid)
	}
	if syscall.Kill(pid, 0) == nil {
		t.Errorf("container process %d still runs after Stop", pid)
	}
	for _, br := range []string{d.Bridge, "br-" + netID[:12]} {
		if linkExists(br) {
			t.Errorf("bridge %s left after Stop", br)
		}
	}
	if _, err := os.Stat(d.Dir); !os.IsNotExist(err) {
		t.Errorf("%s left after Stop (%v)", d.Dir, err)
	}
	if mi, _ := os.ReadFile("/proc/self/mountinfo"); len(mountsUnder(string(mi), d.Dir)) > 0 {
		t.Errorf("mounts left under %s: %v", d.Dir, mountsUnder(string(mi), d.Dir))
	}
	if docker0 && !linkExists("docker0") {
		t.Error("docker0 is gone")
	}
	docker(t, mainHost(), "version", "--format", "{{.Server.Version}}")
}

// TestCrashedRunIsCleanedByTheNextStart leaves a daemon as a killed test
// would (dockerd SIGKILLed, its container still running under its shim,
// its network's bridge on the host, the slot's lock released) and checks
// that the next Start cleans all of it.
func TestCrashedRunIsCleanedByTheNextStart(t *testing.T) {
	d := startOrSkip(t)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	if err := d.LoadImages(ctx, testImage); err != nil {
		t.Fatal(err)
	}
	docker(t, d.Host, "network", "create", "--subnet", d.AddressPool.Addr().String()+"/24", "crash-net")
	netID := docker(t, d.Host, "network", "inspect", "-f", "{{.Id}}", "crash-net")
	id := docker(t, d.Host, "run", "-d", "--network", "crash-net", testImage, "--http-port=0")
	pid, _ := strconv.Atoi(docker(t, d.Host, "inspect", "-f", "{{.State.Pid}}", id))

	// The crash: dockerd killed (its containerd follows it), the test's
	// lock gone with the test process.
	_ = d.proc.Process.Kill()
	<-d.done
	d.stopped = true
	d.release()
	if syscall.Kill(pid, 0) != nil {
		t.Fatalf("container process %d died with dockerd: no leftover to clean", pid)
	}

	again, err := Start(ctx, Options{Logf: t.Logf})
	if err != nil {
		t.Fatal(err)
	}
	defer func() {
		if err := again.Stop(); err != nil {
			t.Errorf("stop: %v", err)
		}
	}()
	if syscall.Kill(pid, 0) == nil {
		t.Errorf("the crashed run's container process %d still runs", pid)
	}
	if linkExists("br-" + netID[:12]) {
		t.Errorf("the crashed run's network bridge br-%s is still there", netID[:12])
	}
	if again.Slot != d.Slot && linkExists(d.Bridge) {
		t.Errorf("the crashed run's bridge %s is still there", d.Bridge)
	}
	if _, others := slotProcesses(d.l); len(others) > 0 && again.Slot != d.Slot {
		t.Errorf("processes of the crashed slot remain: %v", others)
	}
	if out, err := exec.Command("docker", "-H", again.Host, "ps", "-aq").CombinedOutput(); err != nil || strings.TrimSpace(string(out)) != "" {
		t.Errorf("the new daemon is not empty: %s %v", out, err)
	}
}

// TestStopAfterDockerdDied kills dockerd under a running container and
// checks that Stop still ends the container (through one more start of the
// daemon) and removes the slot.
func TestStopAfterDockerdDied(t *testing.T) {
	d := startOrSkip(t)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	if err := d.LoadImages(ctx, testImage); err != nil {
		t.Fatal(err)
	}
	id := docker(t, d.Host, "run", "-d", testImage, "--http-port=0")
	pid, _ := strconv.Atoi(docker(t, d.Host, "inspect", "-f", "{{.State.Pid}}", id))
	_ = d.proc.Process.Kill()
	<-d.done
	if syscall.Kill(pid, 0) != nil {
		t.Fatalf("container process %d died with dockerd", pid)
	}
	if err := d.Stop(); err != nil {
		t.Fatal(err)
	}
	if syscall.Kill(pid, 0) == nil {
		t.Errorf("container process %d still runs after Stop", pid)
	}
	if _, err := os.Stat(d.Dir); !os.IsNotExist(err) {
		t.Errorf("%s left after Stop (%v)", d.Dir, err)
	}
	if linkExists(d.Bridge) {
		t.Errorf("bridge %s left after Stop", d.Bridge)
	}
}

// envCrashHelper makes the test binary the crashing test of
// TestKilledTestProcessIsCleanedUp.
const envCrashHelper = "BERTH_DOCKERTEST_CRASH_HELPER"

// TestCrashHelper is not a test of its own: run by
// TestKilledTestProcessIsCleanedUp, it starts a daemon, runs a container
// on a network of the daemon's, prints the slot and waits to be killed.
func TestCrashHelper(t *testing.T) {
	if os.Getenv(envCrashHelper) == "" {
		t.Skip("helper process of TestKilledTestProcessIsCleanedUp")
	}
	ctx := context.Background()
	d, err := Start(ctx, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if err := d.LoadImages(ctx, testImage); err != nil {
		t.Fatal(err)
	}
	docker(t, d.Host, "network", "create", "--subnet", d.AddressPool.Addr().String()+"/24", "killed-net")
	netID := docker(t, d.Host, "network", "inspect", "-f", "{{.Id}}", "killed-net")
	docker(t, d.Host, "run", "-d", "--network", "killed-net", testImage, "--http-port=0")
	os.Stdout.WriteString("slot " + strconv.Itoa(d.Slot) + " " + d.Bridge + " br-" + netID[:12] + "\n")
	select {}
}

// TestKilledTestProcessIsCleanedUp kills -9 a test process that holds a
// daemon (its dockerd gets SIGTERM as its parent dies and shuts down; the
// slot's directory, bridge and network bridge stay) and checks that the
// next Start cleans the slot.
func TestKilledTestProcessIsCleanedUp(t *testing.T) {
	needDaemon(t)
	cmd := exec.Command(os.Args[0], "-test.run=^TestCrashHelper$", "-test.v")
	cmd.Env = append(os.Environ(), envCrashHelper+"=1")
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	var slot, bridge, netBridge string
	buf := make([]byte, 4096)
	var seen string
	deadline := time.Now().Add(2 * time.Minute)
	for slot == "" && time.Now().Before(deadline) {
		n, err := out.Read(buf)
		seen += string(buf[:n])
		for _, line := range strings.Split(seen, "\n") {
			if f := strings.Fields(line); len(f) == 4 && f[0] == "slot" {
				slot, bridge, netBridge = f[1], f[2], f[3]
			}
		}
		if err != nil {
			break
		}
	}
	if slot == "" {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
		t.Fatalf("helper did not start a daemon: %s", seen)
	}
	_ = cmd.Process.Kill()
	_ = cmd.Wait()
	if !linkExists(bridge) || !linkExists(netBridge) {
		t.Fatalf("nothing left to clean: bridge %s exists=%v, %s exists=%v", bridge, linkExists(bridge), netBridge, linkExists(netBridge))
	}

	d, err := Start(context.Background(), Options{Logf: t.Logf})
	if err != nil {
		t.Fatal(err)
	}
	defer d.Stop()
	if linkExists(netBridge) {
		t.Errorf("the killed run's network bridge %s is still there", netBridge)
	}
	if d.Bridge != bridge && linkExists(bridge) {
		t.Errorf("the killed run's bridge %s is still there", bridge)
	}
	if dockerds, others := slotProcesses(layout{slot: mustAtoi(t, slot), base: d.l.base}); d.Bridge != bridge && len(dockerds)+len(others) > 0 {
		t.Errorf("the killed run's processes remain: %v %v", dockerds, others)
	}
}

func mustAtoi(t *testing.T, s string) int {
	t.Helper()
	n, err := strconv.Atoi(s)
	if err != nil {
		t.Fatal(err)
	}
	return n
}
