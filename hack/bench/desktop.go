package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"berth.dev/berth/internal/docker"
	"berth.dev/berth/internal/docker/faultproxy"
)

func init() {
	subcommands["desktop"] = subcommand{
		summary: "the desktop profile through a recording proxy: apply→Ready and delete→gone of N services, calls by kind and per container, peak in flight, closest call starts",
		run:     runDesktop,
	}
}

// The desktop profile's promises, which the proxy's record must show.
const (
	desktopMaxInFlight = 3
	desktopMinSpacing  = 500 * time.Millisecond
)

// runDesktop is `bench desktop`: one manager under --docker-profile
// desktop talks to Docker through a recording proxy, so every call it
// makes is seen from the daemon's side. Under desktop call starts are at
// least 0.5 s apart, so the number of calls per container is what decides
// the time; the record says which calls they were. It exits 1 when the
// record shows more than 3 calls in flight or two call starts closer than
// 0.5 s.
func runDesktop(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("bench desktop", flag.ContinueOnError)
	fs.SetOutput(stderr)
	n := fs.Int("n", 10, "services (one container each) in the Environment")
	manager := fs.String("manager", "bin/manager", "manager binary")
	image := fs.String("image", "berth-testapp:dev", "test image")
	host := fs.String("docker-host", docker.DefaultConfig().Host, "Docker Engine the proxy forwards to (a unix socket)")
	verbose := fs.Bool("v", false, "print every recorded call")
	timeout := fs.Duration("timeout", 3*time.Minute, "how long to wait for Ready and for the teardown")
	if err := fs.Parse(args); err != nil {
		if err == flag.ErrHelp {
			return 0
		}
		return 2
	}
	sock, ok := strings.CutPrefix(*host, "unix://")
	if !ok {
		fmt.Fprintf(stderr, "bench desktop: --docker-host %s: the recording proxy needs a unix:// socket\n", *host)
		return 2
	}
	dir, err := os.MkdirTemp("", "berth-bench-desktop-")
	if err != nil {
		fmt.Fprintln(stderr, "bench desktop:", err)
		return 1
	}
	defer os.RemoveAll(dir)
	proxy, err := faultproxy.Start(sock, dir)
	if err != nil {
		fmt.Fprintln(stderr, "bench desktop:", err)
		return 1
	}
	defer proxy.Close()

	// A name of its own: other runs may share the daemon.
	suffix := make([]byte, 3)
	_, _ = rand.Read(suffix)
	res, err := convergeOnce(context.Background(), convergeOptions{
		manager: *manager, profile: "desktop", image: *image, n: *n,
		name:        fmt.Sprintf("desk%d-%s", *n, hex.EncodeToString(suffix)),
		managerArgs: []string{"--docker-host", proxy.Host()},
		settled:     func(ctx context.Context) error { return settled(ctx, proxy) },
		timeout:     *timeout,
	})
	reqs := proxy.Requests()
	if *verbose {
		for _, r := range reqs {
			fmt.Fprintf(stdout, "%s %6s %-60s %3d %s\n", r.Start.Format("15:04:05.000"), r.Method, r.URI, r.Status, r.End.Sub(r.Start).Round(time.Millisecond))
		}
	}
	if err != nil {
		fmt.Fprintln(stderr, "bench desktop:", err)
		return 1
	}
	rep := analyse(reqs, res, *n)
	rep.print(stdout, *n)
	if rep.peak > desktopMaxInFlight || (rep.minGap >= 0 && rep.minGap < desktopMinSpacing) {
		fmt.Fprintf(stderr, "bench desktop: the desktop profile's limits were broken: peak in flight %d (max %d), closest call starts %s apart (min %s)\n",
			rep.peak, desktopMaxInFlight, rep.minGap.Round(time.Millisecond), desktopMinSpacing)
		return 1
	}
	return 0
}

// settled waits until the manager's Docker informer is following both its
// event streams (containers; networks and volumes) and a second has passed
// without a call: its initial lists are done.
func settled(ctx context.Context, proxy *faultproxy.Proxy) error {
	deadline := time.Now().Add(time.Minute)
	for time.Now().Before(deadline) {
		reqs := proxy.Requests()
		if proxy.OpenStreams() >= 2 && len(reqs) > 0 && time.Since(reqs[len(reqs)-1].Start) > time.Second {
			return nil
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(100 * time.Millisecond):
		}
	}
	return fmt.Errorf("the manager's event streams were not open after a minute")
}
