package docker_test

import (
	"context"
	"fmt"
	"os"
	"testing"
	"time"

	"berth.dev/berth/internal/docker"
	"berth.dev/berth/internal/docker/dockerbench"
	"berth.dev/berth/internal/governor"
)

// Benchmarks need the engine; they run only with -bench, e.g.
//
//	go test -run '^$' -bench . -benchtime 1x ./internal/docker/
//
// BenchmarkBatch runs, in each iteration, the direct baseline and every
// profile on the same daemon and reports seconds per batch and each
// profile's ratio to direct. The desktop profile spaces calls 0.55 s apart
// by design, so its 40-container batch (~280 calls, ~2.5 min) runs only
// with BERTH_BENCH_DESKTOP40=1; `go run ./hack/bench docker` runs it by
// default.

// benchPool keeps the benchmarks' networks off Docker's default pools,
// which other suites on a shared machine may have used up.
const benchPool = "172.16.0.0/16"

func benchHost(b *testing.B) string {
	cfg := docker.DefaultConfig()
	c, err := docker.New(docker.Config{Host: cfg.Host, ManagerID: "bench-ping"})
	if err != nil {
		b.Fatal(err)
	}
	defer c.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if _, err := c.Ping(ctx); err != nil {
		b.Skipf("skipping: no Docker daemon answers at %s: %v", cfg.Host, err)
	}
	return cfg.Host
}

func BenchmarkBatch(b *testing.B) {
	host := benchHost(b)
	for _, n := range []int{10, 40} {
		b.Run(fmt.Sprintf("containers=%d", n), func(b *testing.B) {
			modes := []string{dockerbench.Direct, string(governor.ProfileDesktop), string(governor.ProfileCI), string(governor.ProfileAdaptive)}
			if n > 10 && os.Getenv("BERTH_BENCH_DESKTOP40") == "" {
				modes = []string{dockerbench.Direct, string(governor.ProfileCI), string(governor.ProfileAdaptive)}
			}
			totals := map[string]time.Duration{}
			calls := map[string]int64{}
			for i := 0; i < b.N; i++ {
				for _, m := range modes {
					r, err := dockerbench.Run(context.Background(), dockerbench.Options{Host: host, Image: "berth-testapp:dev", Mode: m, N: n, AddressPool: benchPool})
					if err != nil {
						b.Fatalf("%s: %v", m, err)
					}
					totals[m] += r.Up + r.Down
					calls[m] += r.Calls
				}
			}
			direct := totals[dockerbench.Direct]
			for _, m := range modes {
				b.ReportMetric(totals[m].Seconds()/float64(b.N), m+"-s/batch")
				b.ReportMetric(float64(calls[m])/totals[m].Seconds(), m+"-calls/s")
				if m != dockerbench.Direct {
					b.ReportMetric(float64(totals[m])/float64(direct), m+"-vs-direct")
				}
			}
		})
	}
}

// BenchmarkThroughput reports the cheap-call rate (inspect) each profile
// sustains with 16 callers, next to direct calls.
func BenchmarkThroughput(b *testing.B) {
	host := benchHost(b)
	for _, m := range []string{dockerbench.Direct, string(governor.ProfileDesktop), string(governor.ProfileCI), string(governor.ProfileAdaptive)} {
		b.Run(m, func(b *testing.B) {
			var sum float64
			for i := 0; i < b.N; i++ {
				rate, err := dockerbench.Throughput(context.Background(), dockerbench.Options{Host: host, Image: "berth-testapp:dev", Mode: m, AddressPool: benchPool}, 16, 3*time.Second)
				if err != nil {
					b.Fatal(err)
				}
				sum += rate
			}
			b.ReportMetric(sum/float64(b.N), "calls/s")
		})
	}
}
