package dockertest

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/moby/moby/client"
)

// Choosing a slot, and cleaning the slots of runs that crashed.

// claimSlot cleans the leftovers of crashed runs, then takes the first
// slot whose directory, bridge and address block are all free, writes its
// marker and creates its bridge. The base directory's lock serializes this
// between test processes: once a slot's bridge exists its route shows, so
// the next chooser sees the block taken.
func claimSlot(ctx context.Context, o Options, main *client.Client) (*Daemon, error) {
	glock, err := lockWait(ctx, filepath.Join(o.BaseDir, ".lock"))
	if err != nil {
		return nil, fmt.Errorf("dockertest: %w", err)
	}
	defer glock.Close()
	cleanLeftovers(ctx, o, main)

	taken, err := hostRoutes(ctx)
	if err != nil {
		return nil, fmt.Errorf("dockertest: %w", err)
	}
	subnets, err := networkSubnets(ctx, main)
	if err != nil {
		// The routes of its bridges still show the main daemon's
		// networks; only a network whose bridge is down and gone would
		// be missed.
		o.Logf("dockertest: main daemon's networks not read (%v); checking host routes only", err)
	}
	taken = append(taken, subnets...)
	for slot := 1; slot <= MaxSlots; slot++ {
		l := layout{slot: slot, base: o.BaseDir}
		a := slotAddresses(slot)
		if _, err := os.Stat(l.dir()); err == nil {
			continue
		}
		if linkExists(l.bridge()) {
			o.Logf("dockertest: slot %d skipped: a bridge %s exists that no slot directory claims", slot, l.bridge())
			continue
		}
		if ov := overlapping(a.block, taken); len(ov) > 0 {
			o.Logf("dockertest: slot %d skipped: %s overlaps %v", slot, a.block, ov)
			continue
		}
		lock, held, err := lockSlot(l.lockFile())
		if err != nil {
			return nil, fmt.Errorf("dockertest: %w", err)
		}
		if held {
			continue
		}
		d := newDaemon(o, l, lock, main)
		if err := os.Mkdir(l.dir(), 0o700); err != nil {
			_ = lock.Close()
			return nil, fmt.Errorf("dockertest: %w", err)
		}
		m := marker{Slot: slot, Bridge: l.bridge(), BridgeAddr: a.bridgeAddr.String(), OwnerPID: os.Getpid(), Created: time.Now().UTC().Format(time.RFC3339)}
		if err := os.WriteFile(l.marker(), m.encode(), 0o600); err != nil {
			_ = os.RemoveAll(l.dir())
			_ = lock.Close()
			return nil, fmt.Errorf("dockertest: marker: %w", err)
		}
		if created, err := createBridge(ctx, l.bridge(), a.bridgeAddr); err != nil {
			if created {
				_ = d.Stop()
			} else {
				// Someone else's link of that name appeared meanwhile.
				_ = os.RemoveAll(l.dir())
				_ = lock.Close()
			}
			return nil, fmt.Errorf("dockertest: bridge %s: %w", l.bridge(), err)
		}
		return d, nil
	}
	return nil, fmt.Errorf("dockertest: no free slot of %d under %s (each needs its directory, its bridge berthbrN and 10.(%d+N).0.0/16 free)", MaxSlots, o.BaseDir, slotBase)
}

func newDaemon(o Options, l layout, lock *os.File, main *client.Client) *Daemon {
	a := slotAddresses(l.slot)
	return &Daemon{
		Slot: l.slot, Dir: l.dir(), Host: l.host(), Bridge: l.bridge(),
		BridgeAddr: a.bridgeAddr, AddressPool: a.addressPool,
		Main: main, l: l, o: o, lock: lock,
	}
}

// networkSubnets are the subnets of every network of a daemon.
func networkSubnets(ctx context.Context, c *client.Client) ([]netip.Prefix, error) {
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	r, err := c.NetworkList(ctx, client.NetworkListOptions{})
	if err != nil {
		return nil, err
	}
	var out []netip.Prefix
	for _, n := range r.Items {
		for _, cfg := range n.IPAM.Config {
			if cfg.Subnet.IsValid() {
				out = append(out, cfg.Subnet.Masked())
			}
		}
	}
	return out, nil
}

// cleanLeftovers cleans every slot directory whose lock no live process
// holds and whose marker says the harness made it. A directory without a
// valid marker is not ours and is left alone (its slot stays unused).
func cleanLeftovers(ctx context.Context, o Options, main *client.Client) {
	entries, _ := os.ReadDir(o.BaseDir)
	for _, e := range entries {
		n, err := strconv.Atoi(strings.TrimPrefix(e.Name(), "d"))
		if !e.IsDir() || !strings.HasPrefix(e.Name(), "d") || err != nil || n < 1 || n > MaxSlots {
			continue
		}
		l := layout{slot: n, base: o.BaseDir}
		lock, held, err := lockSlot(l.lockFile())
		if err != nil || held {
			continue
		}
		b, err := os.ReadFile(l.marker())
		var m marker
		if err == nil {
			m, err = decodeMarker(b)
		}
		if err == nil && m.Slot != n {
			err = fmt.Errorf("marker names slot %d", m.Slot)
		}
		if err != nil {
			o.Logf("dockertest: %s is not the harness's (%v); left alone", l.dir(), err)
			_ = lock.Close()
			continue
		}
		o.Logf("dockertest: cleaning slot %d left by process %d (created %s)", n, m.OwnerPID, m.Created)
		if err := recoverSlot(ctx, newDaemon(o, l, lock, main), m); err != nil {
			o.Logf("dockertest: slot %d not cleaned: %v", n, err)
		}
	}
}

// recoverSlot cleans a crashed run's slot. A dockerd of the slot that
// survived gets SIGTERM (its own shutdown stops its containers). When the
// crashed daemon had run, it is started once more on its directories: its
// restore stops the containers its shims kept running (gracefully, live
// restore being off) and Stop then removes its networks, whose bridges
// would otherwise stay on the host. Stop releases the slot's lock.
func recoverSlot(ctx context.Context, d *Daemon, m marker) error {
	dockerds, _ := slotProcesses(d.l)
	var errs []error
	for _, pid := range dockerds {
		if err := terminate(pid, 2*time.Minute); err != nil {
			errs = append(errs, err)
		}
	}
	if err := retireContainerd(d.l); err != nil {
		errs = append(errs, err)
	}
	if _, err := os.Stat(filepath.Join(d.l.dataRoot(), "network")); err == nil {
		addr, _ := netip.ParsePrefix(m.BridgeAddr)
		if !linkExists(d.Bridge) {
			if _, err := createBridge(ctx, d.Bridge, addr); err != nil {
				errs = append(errs, fmt.Errorf("recreate bridge %s: %w", d.Bridge, err))
			}
		}
		d.restarted = true
		if err := d.launch(ctx, false); err != nil {
			errs = append(errs, fmt.Errorf("restart for cleanup: %w", err))
		}
	}
	errs = append(errs, d.Stop())
	return errors.Join(errs...)
}

// retireContainerd makes sure the crashed daemon's containerd is gone and
// forgotten before dockerd starts again on the slot: the containerd of a
// killed dockerd dies with it, but not at once, and dockerd finding its
// pidfile's process alive waits for that one to answer ("containerd is
// still running") instead of starting a new one, and times out (seen here).
func retireContainerd(l layout) error {
	pidFile := filepath.Join(l.execRoot(), "containerd", "containerd.pid")
	b, err := os.ReadFile(pidFile)
	if err != nil {
		return nil
	}
	var errs []error
	if pid, _ := strconv.Atoi(strings.TrimSpace(string(b))); pid > 0 {
		if argv := cmdline(pid); len(argv) > 0 && filepath.Base(argv[0]) == "containerd" &&
			hasArgPair(argv, "--config", filepath.Join(l.execRoot(), "containerd", "containerd.toml")) {
			errs = append(errs, terminate(pid, 30*time.Second))
		}
	}
	if err := os.Remove(pidFile); err != nil && !os.IsNotExist(err) {
		errs = append(errs, fmt.Errorf("remove %s: %w", pidFile, err))
	}
	return errors.Join(errs...)
}
