package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"strconv"
	"time"

	"k8s.io/apimachinery/pkg/api/resource"
	"k8s.io/apimachinery/pkg/util/intstr"

	"berth.dev/berth/internal/docker"
	"berth.dev/berth/internal/docker/dockerbench"
)

func init() {
	subcommands["scale"] = subcommand{
		summary: "many Environments at once (100 × 5 services): apply→all Ready and delete→all gone vs the direct floor, the manager's peak RSS and CPU seconds per container",
		run:     runScale,
	}
}

// Issue 12's targets, printed next to the figures and never asserted:
// the machine decides whether they are met.
const (
	scaleTargetRatio  = 1.05
	scaleTargetRSSMB  = 150
	scaleTargetCPUCtr = 0.01
)

// scaleOptions are the flags of `bench scale`.
type scaleOptions struct {
	envs, services, workers       int
	directWorkers                 []int
	memLimit, memReservation      string
	profile, manager, image, host string
	managerV                      int
	timeout                       time.Duration
	cpuProfile                    string
}

// runScale is `bench scale`: first the direct floor (every Environment's
// network, then all its containers created and started with plain Docker
// calls, -direct-workers in flight; then stopped and removed, never
// forced, one container of a network at a time on a daemon before API
// 1.49 as the manager does there), then a manager on a fresh data dir
// gets every Environment at once and the bench waits until all are
// Ready, deletes them all and waits until all are gone. It exits 1 on any error or when anything of
// the run's Environments is left on the daemon.
func runScale(args []string, stdout, stderr io.Writer) int {
	var o scaleOptions
	fs := flag.NewFlagSet("bench scale", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.IntVar(&o.envs, "envs", 100, "Environments applied at once")
	fs.IntVar(&o.services, "services", 5, "services (one container each) per Environment")
	fs.IntVar(&o.workers, "workers", 0, "the manager's --workers (Environments reconciled in parallel; 0 = its default)")
	directWorkers := fs.String("direct-workers", "8", "calls in flight of the direct floor, comma-separated; the fastest up and the fastest down count")
	fs.StringVar(&o.memLimit, "memory-limit", "32Mi", "every service's memory limit (resources.limits.memory, and the floor's containers')")
	fs.StringVar(&o.memReservation, "memory-reservation", "16Mi", "every service's memory request (resources.requests.memory; what admission counts)")
	fs.StringVar(&o.profile, "profile", "", "the manager's --docker-profile (empty = its default)")
	fs.StringVar(&o.manager, "manager", "bin/manager", "manager binary")
	fs.StringVar(&o.image, "image", "berth-testapp:dev", "test image")
	fs.StringVar(&o.host, "docker-host", docker.DefaultConfig().Host, "Docker Engine")
	fs.IntVar(&o.managerV, "manager-v", 0, "log verbosity of the manager (its log is kept in the temp dir)")
	fs.DurationVar(&o.timeout, "timeout", 20*time.Minute, "limit of each wait (all Ready, all gone)")
	fs.StringVar(&o.cpuProfile, "cpuprofile", "", "run the manager with --profiling and save its CPU profile of the up phase as FILE.up.N and of the teardown as FILE.down.N (5 s each; read them together with go tool pprof bin/manager FILE.up.*)")
	if err := fs.Parse(args); err != nil {
		if err == flag.ErrHelp {
			return 0
		}
		return 2
	}
	ws, err := intList(*directWorkers)
	if err == nil {
		for _, w := range ws {
			if w < 1 {
				err = fmt.Errorf("%d is not positive", w)
			}
		}
	}
	if err != nil || len(ws) == 0 {
		fmt.Fprintf(stderr, "bench scale: -direct-workers %q: a list of positive integers (%v)\n", *directWorkers, err)
		return 2
	}
	o.directWorkers = ws
	if o.envs < 1 || o.services < 1 || o.workers < 0 {
		fmt.Fprintln(stderr, "bench scale: -envs and -services must be positive, -workers not negative")
		return 2
	}
	limit, err := resource.ParseQuantity(o.memLimit)
	if err != nil {
		fmt.Fprintf(stderr, "bench scale: -memory-limit %q: %v\n", o.memLimit, err)
		return 2
	}
	reservation, err := resource.ParseQuantity(o.memReservation)
	if err != nil {
		fmt.Fprintf(stderr, "bench scale: -memory-reservation %q: %v\n", o.memReservation, err)
		return 2
	}
	// One prefix for everything of this run: the leftover check goes by it
	// and cannot see other runs sharing the daemon.
	prefix := "berth-bench-scale-" + randSuffix() + "-"
	n := o.envs * o.services
	ctx := context.Background()
	fmt.Fprintf(stdout, "scale: %d Environments × %d services = %d containers of %s (memory request %s, limit %s), names %s*\n",
		o.envs, o.services, n, o.image, o.memReservation, o.memLimit, prefix)

	failed := false
	var floor dockerbench.EnvsResult
	for _, w := range o.directWorkers {
		r, err := dockerbench.RunEnvs(ctx, dockerbench.EnvsOptions{
			Host: o.host, Image: o.image, Prefix: fmt.Sprintf("%sd%d-", prefix, w), Envs: o.envs, Services: o.services,
			Workers: w, MemoryLimit: limit.Value(), MemoryReservation: reservation.Value(),
			Grace: 10 * time.Second, ManagerID: prefix + "direct",
		})
		if err != nil {
			fmt.Fprintf(stderr, "bench scale: direct floor x%d: %v\n", w, err)
			failed = true
			break
		}
		exits := "several containers of a network at once"
		if r.OneExitPerEnvironment {
			exits = "one container of a network at a time, as the manager on a daemon API " + r.DaemonAPI + " (before 1.49)"
		}
		fmt.Fprintf(stdout, "direct x%d: up %s (%d networks, %d creates+starts); down %s (%d stops+removes, %s; %d network removes)\n",
			w, ms(r.Up), o.envs, n, ms(r.Down), n, exits, o.envs)
		if floor.Up == 0 || r.Up < floor.Up {
			floor.Up = r.Up
		}
		if len(r.StuckNetworks) > 0 {
			// The run goes on to measure berth; the leftover check fails it.
			fmt.Fprintf(stdout, "direct x%d: the daemon kept a stale endpoint on %v (only its restart clears it; not removed by force): this down is no floor\n",
				w, r.StuckNetworks)
			continue
		}
		if floor.Down == 0 || r.Down < floor.Down {
			floor.Down = r.Down
		}
	}

	var res scaleResult
	measured := false
	if !failed {
		res, err = scaleBerth(ctx, o, prefix+"e", stdout)
		if err != nil {
			fmt.Fprintln(stderr, "bench scale: berth:", err)
			failed = true
		}
		measured = err == nil
	}
	left, err := scaleLeftovers(ctx, o.host, prefix)
	switch {
	case err != nil:
		fmt.Fprintln(stderr, "bench scale: leftover check:", err)
		failed = true
	case len(left) > 0:
		fmt.Fprintf(stderr, "bench scale: left on the daemon (not removed by the bench: never forced): %v\n", left)
		failed = true
	default:
		fmt.Fprintln(stdout, "leftovers: none (containers and networks of the run's Environments)")
	}
	if measured {
		printScale(stdout, o, res, floor)
	}
	if failed {
		return 1
	}
	return 0
}

// printScale prints the manager's figures, their ratios to the floor (a
// floor phase that was no floor is left out) and issue 12's targets.
func printScale(stdout io.Writer, o scaleOptions, res scaleResult, floor dockerbench.EnvsResult) {
	n := o.envs * o.services
	workers := "its default"
	if o.workers > 0 {
		workers = strconv.Itoa(o.workers)
	}
	fmt.Fprintf(stdout, "berth (manager --workers %s): apply→all Ready %s, delete→all gone %s\n", workers, ms(res.up), ms(res.down))
	fmt.Fprintf(stdout, "ratio to the floor: up %.3f (floor %s; target <= %.2f)\n", res.up.Seconds()/floor.Up.Seconds(), ms(floor.Up), scaleTargetRatio)
	if floor.Down > 0 {
		fmt.Fprintf(stdout, "ratio to the floor: down %.3f (floor %s; target <= %.2f)\n", res.down.Seconds()/floor.Down.Seconds(), ms(floor.Down), scaleTargetRatio)
	}
	// The kernel updates VmHWM lazily: a sample may run ahead of it.
	fmt.Fprintf(stdout, "manager RSS: peak %.1f MB (VmHWM %.1f MB, VmRSS sampled every 250 ms up to %.1f MB; target <= %d MB)\n",
		max(res.hwmMB, res.rssMB), res.hwmMB, res.rssMB, scaleTargetRSSMB)
	fmt.Fprintf(stdout, "manager CPU: %.2f s apply→gone = %.4f CPU-s per container (target <= %.2f); up %.2f s, down %.2f s\n",
		res.cpuUp+res.cpuDown, (res.cpuUp+res.cpuDown)/float64(n), scaleTargetCPUCtr, res.cpuUp, res.cpuDown)
	fmt.Fprintf(stdout, "API requests per Environment (the bench's own creates, deletes, list and watch included): %s\n", res.requests)
}

// memoryQuantity is how a flag's quantity goes into a spec.
func memoryQuantity(s string) intstr.IntOrString { return intstr.FromString(s) }

func ms(d time.Duration) string { return d.Round(time.Millisecond).String() }

// procStatusKB reads one "Key: N kB" line of /proc/<pid>/status.
func procStatusKB(pid int, key string) (int64, error) {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/status")
	if err != nil {
		return 0, err
	}
	return parseStatusKB(string(b), key)
}
