package docker

import (
	"context"
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"syscall"
	"time"
)

// testAddressSpace is where this package's test networks get their
// subnets: Docker's default pools hold about 31 networks and other suites
// on a shared machine can use them all up. 172.16.0.0/16 is private and
// outside those defaults (which start at 172.17).
const testAddressSpace = "172.16.0.0/16"

// testRangeBits: each test run carves its networks from a /19 of its own
// (32 /24s; room for 8 runs side by side).
const testRangeBits = 19

// testAddressPool is this run's range of testAddressSpace, claimed in
// TestMain (claimTestRange) so that two runs of this package at once
// (two worktrees) never carve the same /24s.
var testAddressPool string

// claimTestRange returns a /testRangeBits of testAddressSpace that no
// Docker network overlaps and no other test process on this host holds:
// each candidate is claimed with an exclusive flock on a file named after
// it, held for the process's life (the kernel drops it when the process
// ends, however it ends).
func claimTestRange() (string, error) {
	lockDir := filepath.Join(os.TempDir(), "berth-test-address-ranges")
	if err := os.MkdirAll(lockDir, 0o777); err != nil {
		return "", err
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	lister, err := New(Config{Host: dockerHost, ManagerID: testID, AddressPool: testAddressSpace})
	if err != nil {
		return "", err
	}
	defer lister.Close()
	taken, _, err := lister.networkSubnets(ctx)
	if err != nil {
		return "", fmt.Errorf("list the daemon's subnets: %w", err)
	}
	ranges := subnetPool{pool: netip.MustParsePrefix(testAddressSpace), bits: testRangeBits}
	for {
		cand, ok := ranges.free(taken)
		if !ok {
			return "", fmt.Errorf("no /%d of %s is free of Docker networks and other test runs", testRangeBits, testAddressSpace)
		}
		taken = append(taken, cand)
		name := filepath.Join(lockDir, fmt.Sprintf("%s-%d.lock", cand.Addr(), testRangeBits))
		f, err := os.OpenFile(name, os.O_CREATE|os.O_RDWR, 0o666)
		if err != nil {
			return "", err
		}
		if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
			f.Close() // another run holds it
			continue
		}
		// f stays open (and locked) until the process exits.
		return cand.String(), nil
	}
}
