package dockertest

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"os"
	"sync"
	"time"

	"github.com/moby/moby/client"
)

// Stop takes the daemon down and removes everything of its slot: it stops
// every running container (docker stop with the container's own timeout;
// nothing is removed by force), removes the daemon's networks, SIGTERMs
// dockerd and waits, deletes the bridges of networks dockerd could not
// remove, unmounts what is left under the slot's directory, deletes the
// slot's bridge, cgroup parent and directory. A container process that
// outlives all that (a shim still running) keeps the directory for the
// next Start's cleanup, and is an error. Calling Stop again is a no-op.
func (d *Daemon) Stop() error {
	if d.stopped {
		return nil
	}
	d.stopped = true
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	var errs []error
	var bridges []string
	if _, others := slotProcesses(d.l); d.Pid() == 0 && !d.restarted && len(others) > 0 {
		// dockerd died under the test with containers still running:
		// started once more, its restore stops them gracefully.
		d.restarted = true
		errs = append(errs, retireContainerd(d.l))
		if err := d.launch(ctx, false); err != nil {
			errs = append(errs, fmt.Errorf("dockertest: restart for cleanup: %w", err))
		}
	}
	if d.Pid() != 0 {
		errs = append(errs, d.stopContainers(ctx))
		var err error
		bridges, err = d.removeNetworks(ctx)
		errs = append(errs, err)
		errs = append(errs, d.signalAndWait(2*time.Minute))
	}
	if dockerds, _ := slotProcesses(d.l); len(dockerds) > 0 {
		for _, pid := range dockerds {
			errs = append(errs, terminate(pid, 2*time.Minute))
		}
	}
	if _, others := slotProcesses(d.l); len(others) > 0 {
		// containerd exits with dockerd; a shim that stays keeps a
		// container running, which is never killed here.
		time.Sleep(2 * time.Second)
		if _, others = slotProcesses(d.l); len(others) > 0 {
			errs = append(errs, fmt.Errorf("dockertest: processes of slot %d still run after dockerd exited: %v; %s left for the next Start", d.Slot, others, d.Dir))
			d.release()
			return errors.Join(errs...)
		}
	}
	block := slotAddresses(d.Slot).block
	for _, br := range bridges {
		if linkExists(br) && bridgeInBlock(br, block) {
			errs = append(errs, deleteBridge(ctx, br))
		}
	}
	errs = append(errs, unmountUnder(d.Dir))
	errs = append(errs, deleteBridge(ctx, d.Bridge))
	removeCgroups(d.l.cgroupParent())
	if err := os.RemoveAll(d.Dir); err != nil {
		errs = append(errs, fmt.Errorf("dockertest: remove %s: %w", d.Dir, err))
	}
	d.release()
	return errors.Join(errs...)
}

// release closes the clients and gives up the slot's lock.
func (d *Daemon) release() {
	if d.Client != nil {
		_ = d.Client.Close()
	}
	if d.Main != nil {
		_ = d.Main.Close()
	}
	if d.lock != nil {
		_ = d.lock.Close()
		d.lock = nil
	}
}

// stopContainers stops every running container of the daemon, all at
// once, each with its own stop timeout.
func (d *Daemon) stopContainers(ctx context.Context) error {
	r, err := d.Client.ContainerList(ctx, client.ContainerListOptions{})
	if err != nil {
		return fmt.Errorf("dockertest: list containers: %w", err)
	}
	var mu sync.Mutex
	var errs []error
	var wg sync.WaitGroup
	for _, c := range r.Items {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if _, err := d.Client.ContainerStop(ctx, c.ID, client.ContainerStopOptions{}); err != nil {
				mu.Lock()
				errs = append(errs, fmt.Errorf("dockertest: stop container %s %v: %w", c.ID[:12], c.Names, err))
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	return errors.Join(errs...)
}

// removeNetworks removes the daemon's own networks (not bridge, host,
// none) so that dockerd deletes their bridges; dockerd leaves a network's
// bridge on the host when it exits with the network still there. It
// returns those bridges' names, for the ones dockerd could not remove
// (Docker 20.10 can leak a network's endpoint count, refusing the removal).
func (d *Daemon) removeNetworks(ctx context.Context) ([]string, error) {
	r, err := d.Client.NetworkList(ctx, client.NetworkListOptions{})
	if err != nil {
		return nil, fmt.Errorf("dockertest: list networks: %w", err)
	}
	var bridges []string
	for _, n := range r.Items {
		if n.Name == "bridge" || n.Name == "host" || n.Name == "none" || n.Driver != "bridge" {
			continue
		}
		name := n.Options["com.docker.network.bridge.name"]
		if name == "" && len(n.ID) >= 12 {
			name = "br-" + n.ID[:12]
		}
		bridges = append(bridges, name)
		if _, err := d.Client.NetworkRemove(ctx, n.ID, client.NetworkRemoveOptions{}); err != nil {
			d.o.Logf("dockertest: network %s of slot %d not removed (%v); its bridge %s is deleted after dockerd exits", n.Name, d.Slot, err, name)
		}
	}
	return bridges, nil
}

// bridgeInBlock: every IPv4 address of the interface lies in the slot's
// block, so it is this daemon's network's and no one else's.
func bridgeInBlock(name string, block netip.Prefix) bool {
	ifc, err := net.InterfaceByName(name)
	if err != nil || name == "docker0" {
		return false
	}
	addrs, err := ifc.Addrs()
	if err != nil {
		return false
	}
	for _, a := range addrs {
		ipn, ok := a.(*net.IPNet)
		if !ok {
			continue
		}
		ip, ok := netip.AddrFromSlice(ipn.IP)
		if !ok {
			return false
		}
		if ip = ip.Unmap(); ip.Is4() && !block.Contains(ip) {
			return false
		}
	}
	return true
}
