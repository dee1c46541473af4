package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"berth.dev/berth/internal/docker"
	"berth.dev/berth/internal/docker/dockerbench"
	"berth.dev/berth/internal/governor"
)

// mode is one column of the comparison: the direct baseline at a worker
// count, or a profile with optional limit override ("ci@4").
type mode struct {
	label       string
	name        string // dockerbench.Direct or a profile
	workers     int
	maxInFlight int
}

// runDocker is `bench docker`: for each batch size, the direct baseline at
// each worker count, then each profile, all in one run on one daemon, and
// each one's ratio to the fastest direct run of that size.
func runDocker(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("bench docker", flag.ContinueOnError)
	fs.SetOutput(stderr)
	host := fs.String("host", docker.DefaultConfig().Host, "Docker Engine address")
	image := fs.String("image", "berth-testapp:dev", "image to run (hack/build-images.sh builds it)")
	sizes := fs.String("sizes", "10,40", "batch sizes, comma-separated")
	profiles := fs.String("profiles", "desktop,ci,adaptive", "governor profiles, comma-separated; profile@N overrides its max in-flight (e.g. ci@4)")
	workers := fs.String("direct-workers", "0,3", "concurrency of the direct baseline, comma-separated (0 = the whole batch at once)")
	pool := fs.String("docker-address-pool", "", "CIDR for the batch networks' subnets (empty = berth's default: a free /16 chosen at start)")
	rounds := fs.Int("rounds", 1, "repeat every batch this many times and report the mean")
	callers := fs.Int("throughput-callers", 16, "parallel callers in the calls-per-second run")
	dur := fs.Duration("throughput-duration", 5*time.Second, "length of each calls-per-second run (0 skips them)")
	if err := fs.Parse(args); err != nil {
		if err == flag.ErrHelp {
			return 0
		}
		return 2
	}
	ns, err := intList(*sizes)
	if err != nil {
		fmt.Fprintf(stderr, "bench docker: --sizes: %v\n", err)
		return 2
	}
	ws, err := intList(*workers)
	if err != nil {
		fmt.Fprintf(stderr, "bench docker: --direct-workers: %v\n", err)
		return 2
	}
	var modes []mode
	for _, w := range ws {
		label := "direct x" + strconv.Itoa(w)
		if w == 0 {
			label = "direct (all at once)"
		}
		modes = append(modes, mode{label: label, name: dockerbench.Direct, workers: w})
	}
	for _, p := range splitList(*profiles) {
		m := mode{label: p, name: p}
		if name, n, ok := strings.Cut(p, "@"); ok {
			v, err := strconv.Atoi(n)
			if err != nil || v <= 0 {
				fmt.Fprintf(stderr, "bench docker: --profiles: bad override in %q\n", p)
				return 2
			}
			m.name, m.maxInFlight = name, v
		}
		c, err := docker.New(docker.Config{Host: *host, Profile: governor.Profile(m.name), ManagerID: "check"})
		if err != nil {
			fmt.Fprintf(stderr, "bench docker: %v\n", err)
			return 2
		}
		c.Close()
		modes = append(modes, m)
	}

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	tw := tabwriter.NewWriter(stdout, 0, 0, 2, ' ', 0)
	defer tw.Flush()
	fmt.Fprintf(tw, "batch\tmode\tup (create+start)\tdown (stop+remove)\ttotal\tvs best direct\tcalls\tcalls/s\tretries\tpeak in flight\n")
	for _, n := range ns {
		results := make([]dockerbench.Result, len(modes))
		for round := 0; round < max(*rounds, 1); round++ {
			for k, m := range modes {
				r, err := dockerbench.Run(ctx, dockerbench.Options{Host: *host, Image: *image, Mode: m.name, N: n, Workers: m.workers, MaxInFlight: m.maxInFlight, AddressPool: *pool})
				if err != nil {
					fmt.Fprintf(stderr, "bench docker: %s, %d containers: %v\n", m.label, n, err)
					return 1
				}
				fmt.Fprintf(stderr, "round %d: %d containers, %s: %s\n", round+1, n, m.label, (r.Up + r.Down).Round(10*time.Millisecond))
				acc := &results[k]
				acc.Up += r.Up
				acc.Down += r.Down
				acc.Calls += r.Calls
				acc.Retries += r.Retries
				acc.PeakInFlight = max(acc.PeakInFlight, r.PeakInFlight)
			}
		}
		var best time.Duration
		for k, m := range modes {
			r := &results[k]
			r.Up /= time.Duration(max(*rounds, 1))
			r.Down /= time.Duration(max(*rounds, 1))
			r.Calls /= int64(max(*rounds, 1))
			if total := r.Up + r.Down; m.name == dockerbench.Direct && (best == 0 || total < best) {
				best = total
			}
		}
		for k, m := range modes {
			row(tw, n, m.label, results[k], best)
		}
	}
	if *dur > 0 {
		fmt.Fprintf(tw, "\ncalls/s sustained (container inspect, %d callers, %s each)\n", *callers, *dur)
		for _, m := range modes {
			if m.name == dockerbench.Direct && m.workers != ws[0] {
				continue
			}
			rate, err := dockerbench.Throughput(ctx, dockerbench.Options{Host: *host, Image: *image, Mode: m.name, MaxInFlight: m.maxInFlight, AddressPool: *pool}, *callers, *dur)
			if err != nil {
				fmt.Fprintf(stderr, "bench docker: throughput %s: %v\n", m.label, err)
				return 1
			}
			label := m.label
			if m.name == dockerbench.Direct {
				label = "direct"
			}
			fmt.Fprintf(tw, "%s\t%.1f calls/s\n", label, rate)
			fmt.Fprintf(stderr, "throughput %s: %.1f calls/s\n", label, rate)
		}
	}
	return 0
}

func row(w io.Writer, n int, label string, r dockerbench.Result, best time.Duration) {
	total := r.Up + r.Down
	ratio := 0.0
	if best > 0 {
		ratio = float64(total) / float64(best)
	}
	fmt.Fprintf(w, "%d\t%s\t%s\t%s\t%s\t%.2fx\t%d\t%.1f\t%d\t%d\n", n, label,
		r.Up.Round(10*time.Millisecond), r.Down.Round(10*time.Millisecond), total.Round(10*time.Millisecond),
		ratio, r.Calls, r.CallsPerSecond(), r.Retries, r.PeakInFlight)
}

func intList(s string) ([]int, error) {
	var out []int
	for _, f := range splitList(s) {
		n, err := strconv.Atoi(f)
		if err != nil || n < 0 {
			return nil, fmt.Errorf("%q is not a non-negative number", f)
		}
		out = append(out, n)
	}
	return out, nil
}

func splitList(s string) []string {
	var out []string
	for _, f := range strings.Split(s, ",") {
		if f = strings.TrimSpace(f); f != "" {
			out = append(out, f)
		}
	}
	return out
}
