package dockertest

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"time"

	"github.com/moby/moby/client"
)

// EnvBaseDir overrides the default base directory (DefaultBaseDir).
const EnvBaseDir = "BERTH_DOCKERTEST_DIR"

// DefaultBaseDir is on the root filesystem, where overlay2 works; /tmp may
// be a tmpfs or an overlay, on which it does not.
const DefaultBaseDir = "/var/lib/berth-test"

// ErrUnavailable says this machine cannot run a second daemon (not root, no
// dockerd or ip on PATH); tests skip on it.
var ErrUnavailable = errors.New("dockertest: a second Docker daemon needs root, dockerd and ip(8)")

// Options configure Start; the zero value is fine.
type Options struct {
	// BaseDir holds the slots; "" is $BERTH_DOCKERTEST_DIR, else
	// DefaultBaseDir.
	BaseDir string
	// Dockerd is the binary; "" is dockerd on PATH, the main daemon's.
	Dockerd string
	// StorageDriver: "" tries overlay2 and falls back to vfs when
	// overlay2 does not start on BaseDir's filesystem.
	StorageDriver string
	// Main is the main daemon (the image source of LoadImages, and whose
	// networks the slot's block must not overlap); "" is $DOCKER_HOST,
	// else unix:///var/run/docker.sock.
	Main string
	// Logf receives what the harness does (t.Logf); nil discards it.
	Logf func(format string, args ...any)
}

// Daemon is a running second dockerd of the test's own.
type Daemon struct {
	// Slot is N of dN, berthbrN and 10.(160+N).0.0/16.
	Slot int
	// Dir is the slot's directory, removed by Stop.
	Dir string
	// Host is the daemon's address (unix://Dir/docker.sock), for
	// DOCKER_HOST or berth's --docker-host.
	Host string
	// Bridge is the Linux bridge of its default network and BridgeAddr
	// the bridge's address.
	Bridge     string
	BridgeAddr netip.Prefix
	// AddressPool is a /17 of the slot's block no other daemon uses: give
	// it to berth's --docker-address-pool for this daemon's manager.
	AddressPool netip.Prefix
	// StorageDriver is the driver the daemon runs with.
	StorageDriver string
	// Started is how long Start took until the daemon answered /_ping
	// (leftover cleanup and the bridge included).
	Started time.Duration
	// Client talks to this daemon; Main to the main one.
	Client, Main *client.Client

	l       layout
	o       Options
	lock    *os.File
	proc    *exec.Cmd
	done    chan struct{}
	waitErr error
	stopped bool
	// restarted: dockerd was started again on the slot's directories to
	// clean up after a crash (at most once).
	restarted bool
}

// Start runs a second dockerd in a free slot and returns once it answers
// /_ping. Leftovers of crashed runs are cleaned first. On error everything
// it made is removed again.
func Start(ctx context.Context, o Options) (*Daemon, error) {
	begin := time.Now()
	if err := available(o); err != nil {
		return nil, err
	}
	if o.BaseDir == "" {
		o.BaseDir = os.Getenv(EnvBaseDir)
	}
	if o.BaseDir == "" {
		o.BaseDir = DefaultBaseDir
	}
	if o.Main == "" {
		o.Main = os.Getenv("DOCKER_HOST")
	}
	if o.Main == "" {
		o.Main = "unix:///var/run/docker.sock"
	}
	if o.Logf == nil {
		o.Logf = func(string, ...any) {}
	}
	if err := os.MkdirAll(o.BaseDir, 0o700); err != nil {
		return nil, fmt.Errorf("dockertest base dir: %w", err)
	}
	main, err := client.New(client.WithHost(o.Main), client.WithAPIVersionNegotiation())
	if err != nil {
		return nil, fmt.Errorf("dockertest: main daemon client: %w", err)
	}
	docker0 := linkExists("docker0")

	d, err := claimSlot(ctx, o, main)
	if err != nil {
		_ = main.Close()
		return nil, err
	}
	ok := false
	defer func() {
		if !ok {
			if serr := d.Stop(); serr != nil {
				o.Logf("dockertest: cleaning up slot %d after a failed start: %v", d.Slot, serr)
			}
		}
	}()
	if err := d.launch(ctx, true); err != nil {
		return nil, err
	}
	if docker0 && !linkExists("docker0") {
		return nil, fmt.Errorf("dockertest: docker0 disappeared while the second daemon started; dockerd flags: %v", d.proc.Args)
	}
	d.Started = time.Since(begin)
	o.Logf("dockertest: dockerd %s (%s, bridge %s %s) answers after %s", d.Host, d.StorageDriver, d.Bridge, d.BridgeAddr, d.Started.Round(time.Millisecond))
	ok = true
	return d, nil
}

func available(o Options) error {
	if os.Geteuid() != 0 {
		return fmt.Errorf("%w: not root", ErrUnavailable)
	}
	bin := o.Dockerd
	if bin == "" {
		bin = "dockerd"
	}
	for _, b := range []string{bin, "ip"} {
		if _, err := exec.LookPath(b); err != nil {
			return fmt.Errorf("%w: %v", ErrUnavailable, err)
		}
	}
	return nil
}

// launch starts dockerd on the slot's directories and waits for /_ping.
// fresh: the data root is new (a slot's first start, not a cleanup of a
// crashed run's). With StorageDriver "", overlay2 that does not start is
// retried once with vfs on a wiped data root.
func (d *Daemon) launch(ctx context.Context, fresh bool) error {
	bin := d.o.Dockerd
	if bin == "" {
		bin = "dockerd"
	}
	bin, err := exec.LookPath(bin)
	if err != nil {
		return fmt.Errorf("dockertest: %w", err)
	}
	ver, _ := exec.CommandContext(ctx, bin, "--version").Output()
	help, _ := exec.CommandContext(ctx, bin, "--help").CombinedOutput()
	major := dockerdMajor(string(ver))
	if err := os.WriteFile(d.l.configFile(), daemonConfig(d.l, major > 0 && major < 23), 0o600); err != nil {
		return fmt.Errorf("dockertest: daemon.json: %w", err)
	}
	drivers := []string{d.o.StorageDriver}
	if d.o.StorageDriver == "" {
		drivers = []string{"overlay2", "vfs"}
		if !fresh {
			drivers = []string{d.StorageDriver}
			if d.StorageDriver == "" {
				drivers = []string{existingDriver(d.l)}
			}
		}
	}
	var errs []error
	for i, drv := range drivers {
		if i > 0 {
			// The failed driver's data root is wiped: a fresh start again.
			if err := wipeDataRoot(d.l); err != nil {
				return err
			}
		}
		args := dockerdArgs(d.l, slotAddresses(d.Slot), argOptions{fresh: fresh, storageDriver: drv, ip6tables: strings.Contains(string(help), "--ip6tables")})
		err := d.run(ctx, bin, args)
		if err == nil {
			d.StorageDriver = drv
			return nil
		}
		errs = append(errs, fmt.Errorf("storage driver %s: %w", drv, err))
		d.o.Logf("dockertest: slot %d: %v", d.Slot, err)
	}
	return fmt.Errorf("dockertest: dockerd did not start: %w", errors.Join(errs...))
}

// existingDriver is the storage driver a crashed run's data root was made
// with (its directory under the data root), overlay2 when unknown.
func existingDriver(l layout) string {
	if _, err := os.Stat(l.dataRoot() + "/vfs"); err == nil {
		return "vfs"
	}
	return "overlay2"
}

func wipeDataRoot(l layout) error {
	if err := unmountUnder(l.dataRoot()); err != nil {
		return fmt.Errorf("dockertest: %w", err)
	}
	if err := os.RemoveAll(l.dataRoot()); err != nil {
		return fmt.Errorf("dockertest: wipe data root: %w", err)
	}
	return nil
}

// run starts one dockerd process and waits until it answers.
func (d *Daemon) run(ctx context.Context, bin string, args []string) error {
	logFile, err := os.OpenFile(d.l.logFile(), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		return fmt.Errorf("log file: %w", err)
	}
	cmd := exec.Command(bin, args...)
	// Nothing of the caller's environment (DOCKER_HOST, DOCKER_TMPDIR...)
	// reaches the daemon.
	cmd.Env = []string{"PATH=" + os.Getenv("PATH")}
	cmd.Stdout, cmd.Stderr = logFile, logFile
	// Own process group, out of the terminal's ^C; SIGTERM (dockerd's
	// graceful shutdown, which stops its containers) if the test dies.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGTERM}
	if err := cmd.Start(); err != nil {
		_ = logFile.Close()
		return fmt.Errorf("start %s: %w", bin, err)
	}
	d.proc, d.done, d.waitErr = cmd, make(chan struct{}), nil
	go func() {
		d.waitErr = cmd.Wait()
		_ = logFile.Close()
		close(d.done)
	}()
	if d.Client == nil {
		c, err := client.New(client.WithHost(d.Host), client.WithAPIVersionNegotiation())
		if err != nil {
			return fmt.Errorf("client: %w", err)
		}
		d.Client = c
	}
	ctx, cancel := context.WithTimeout(ctx, 2*time.Minute)
	defer cancel()
	var last error
	for {
		pctx, pcancel := context.WithTimeout(ctx, 5*time.Second)
		_, err := d.Client.Ping(pctx, client.PingOptions{NegotiateAPIVersion: true})
		pcancel()
		if err == nil {
			return nil
		}
		last = err
		select {
		case <-d.done:
			return fmt.Errorf("dockerd exited (%v) before it answered; log:\n%s", d.waitErr, d.logTail())
		case <-ctx.Done():
			_ = d.signalAndWait(30 * time.Second)
			return fmt.Errorf("dockerd did not answer /_ping (%v): %w; log:\n%s", last, ctx.Err(), d.logTail())
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// logTail is the end of dockerd's log, for error messages.
func (d *Daemon) logTail() string {
	b, err := os.ReadFile(d.l.logFile())
	if err != nil {
		return ""
	}
	const max = 3000
	if len(b) > max {
		b = b[len(b)-max:]
	}
	return strings.TrimSpace(string(b))
}

// Pid is the dockerd process id; 0 when it does not run.
func (d *Daemon) Pid() int {
	if d.proc == nil || d.exited() {
		return 0
	}
	return d.proc.Process.Pid
}

func (d *Daemon) exited() bool {
	select {
	case <-d.done:
		return true
	default:
		return false
	}
}

// RSS is the resident memory of the daemon's dockerd and of the containerd
// it started (0 when it uses a system containerd), in KiB.
func (d *Daemon) RSS() (dockerdKiB, containerdKiB int64, err error) {
	if d.Pid() == 0 {
		return 0, 0, errors.New("dockertest: dockerd does not run")
	}
	if dockerdKiB, err = rssKiB(d.Pid()); err != nil {
		return 0, 0, err
	}
	_, others := slotProcesses(d.l)
	for _, pid := range others {
		if argv := cmdline(pid); len(argv) > 0 && argv[0] == "containerd" {
			kib, _ := rssKiB(pid)
			containerdKiB += kib
		}
	}
	return dockerdKiB, containerdKiB, nil
}

// signalAndWait SIGTERMs dockerd and waits for it; after grace it is
// killed and that is an error.
func (d *Daemon) signalAndWait(grace time.Duration) error {
	if d.proc == nil || d.exited() {
		return nil
	}
	_ = d.proc.Process.Signal(syscall.SIGTERM)
	select {
	case <-d.done:
		return nil
	case <-time.After(grace):
		_ = d.proc.Process.Kill()
		<-d.done
		return fmt.Errorf("dockerd %d did not exit within %s of SIGTERM; killed", d.proc.Process.Pid, grace)
	}
}
