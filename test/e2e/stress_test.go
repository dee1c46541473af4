package e2e

import (
	"fmt"
	"net/url"
	"strings"
	"sync"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"berth.dev/berth/apis/v1alpha1"
	"berth.dev/berth/internal/docker/faultproxy"
)

// stressMaxInFlight is the governor's cap in the stress spec (the adaptive
// profile's hard cap, lowered so that the limit is reached).
const stressMaxInFlight = 4

// metricsPeaks samples the governor's gauges while the stress runs: the
// limit it sets itself and the calls it has in flight.
type metricsPeaks struct {
	stop                       chan struct{}
	done                       chan struct{}
	mu                         sync.Mutex
	limit, shared, long, scans float64
}

func sampleGovernor(m *managerProcess, every time.Duration) *metricsPeaks {
	p := &metricsPeaks{stop: make(chan struct{}), done: make(chan struct{})}
	go func() {
		defer GinkgoRecover()
		defer close(p.done)
		for {
			fams := m.metrics()
			lim := sum(samples(fams, "berth_docker_concurrency_limit"))
			inflight := samples(fams, "berth_docker_in_flight")
			p.mu.Lock()
			p.limit = max(p.limit, lim)
			p.shared = max(p.shared, inflight["lane=write"]+inflight["lane=read"])
			p.long = max(p.long, inflight["lane=long"])
			p.scans++
			p.mu.Unlock()
			select {
			case <-p.stop:
				return
			case <-time.After(every):
			}
		}
	}()
	return p
}

func (p *metricsPeaks) finish() (limit, shared, long, scans float64) {
	close(p.stop)
	<-p.done
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.limit, p.shared, p.long, p.scans
}

// runStress is the seed suite's stress, against berth: 10 Environments of
// 5 services applied at once, all changed, all deleted.
func runStress(tmp string, track func(...string) []string) {
	p := startProxy()
	m := startControllerManager("--docker-host", p.Host(), "--docker-max-inflight", fmt.Sprint(stressMaxInFlight))
	id := m.identity()
	const envs, services = 10, 5
	var names []string
	for range envs {
		names = append(names, uniqueName("stress"))
	}
	track(names...)
	docs := func(gen string) []M {
		var out []M
		for _, name := range names {
			var svcs []M
			for s := 1; s <= services; s++ {
				svc := withEnv(service(fmt.Sprintf("s%d", s), "--http-port=0"), "GEN", gen)
				if s > 1 {
					svc = withDeps(svc, "s1")
				}
				svcs = append(svcs, svc)
			}
			out = append(out, environment(name, svcs...))
		}
		return out
	}
	info := startDockerInfoProbe(2 * time.Second)
	gov := sampleGovernor(m, 500*time.Millisecond)
	infoDone, govDone := false, false
	DeferCleanup(func() {
		if !infoDone {
			info.finish()
		}
		if !govDone {
			gov.finish()
		}
	})
	perEnv := func() map[string]map[string]string {
		GinkgoHelper()
		out := map[string]map[string]string{}
		for _, name := range names {
			ids := containerIDs(name, id)
			Expect(ids).To(HaveLen(services), "%s", name)
			Expect(containersNamed(v1alpha1.ContainerName(name, ""))).To(HaveLen(services), "duplicates in %s", name)
			out[name] = ids
		}
		Expect(containersLabelled(v1alpha1.LabelManagedBy + "=" + id)).To(HaveLen(envs * services))
		return out
	}

	By("applying 10 Environments at once")
	start := time.Now()
	file := apply(m, tmp, "stress.yaml", docs("1")...)
	DeferCleanup(func() {
		if !m.exited() {
			_, _, _ = m.berth("", "delete", "-f", file, "--ignore-not-found", "--timeout=5m")
		}
	})
	m.waitReady(6*time.Minute, names...)
	GinkgoWriter.Printf("stress: 50 containers Ready in %s\n", time.Since(start).Round(time.Millisecond))
	first := perEnv()

	By("changing one environment variable of every service: 50 recreates")
	start = time.Now()
	apply(m, tmp, "stress.yaml", docs("2")...)
	m.waitReady(8*time.Minute, names...)
	GinkgoWriter.Printf("stress: 50 containers recreated in %s\n", time.Since(start).Round(time.Millisecond))
	second := perEnv()
	for _, name := range names {
		for svc, cid := range second[name] {
			Expect(cid).NotTo(Equal(first[name][svc]), "%s/%s was not recreated", name, svc)
			Expect(mustInspect(cid).Config.Env).To(ContainElement("GEN=2"))
		}
	}

	By("deleting them all")
	start = time.Now()
	m.mustBerth("delete", "-f", file)
	GinkgoWriter.Printf("stress: 10 Environments torn down in %s\n", time.Since(start).Round(time.Millisecond))
	expectNothingLeft(m, names...)
	Expect(containersLabelled(v1alpha1.LabelManagedBy + "=" + id)).To(BeEmpty())

	By("docker info answered throughout")
	infoDone = true
	ok, failures := info.finish()
	Expect(failures).To(BeEmpty())
	Expect(ok).To(BeNumerically(">=", 5))

	By("the governor's limits held and nothing was created twice")
	govDone = true
	limit, shared, long, scans := gov.finish()
	GinkgoWriter.Printf("stress: governor gauges over %v scrapes: limit ≤ %v, write+read in flight ≤ %v, stops in flight ≤ %v\n", scans, limit, shared, long)
	Expect(limit).To(BeNumerically("<=", stressMaxInFlight))
	Expect(shared).To(BeNumerically("<=", stressMaxInFlight))
	Expect(long).To(BeNumerically("<=", stressMaxInFlight))

	rec := p.Requests()
	Expect(forcedRemovals(rec)).To(BeEmpty())
	isStop := func(r faultproxy.Request) bool {
		path, _, _ := strings.Cut(r.URI, "?")
		return r.Method == "POST" && strings.HasSuffix(path, "/stop")
	}
	// Stops have their own lane (a stop lasts as long as the grace period)
	// with the same cap; every other non-stream call shares the cap.
	peakShared := maxConcurrent(rec, func(r faultproxy.Request) bool { return !r.Stream && !isStop(r) })
	peakStops := maxConcurrent(rec, func(r faultproxy.Request) bool { return !r.Stream && isStop(r) })
	writes, creates := 0, map[string]int{}
	for _, r := range rec {
		if r.Stream || (r.Method != "POST" && r.Method != "DELETE") {
			continue
		}
		writes++
		path, query, _ := strings.Cut(r.URI, "?")
		if r.Method == "POST" && strings.HasSuffix(path, "/containers/create") && r.Status == 201 {
			q, _ := url.ParseQuery(query)
			creates[q.Get("name")]++
		}
	}
	GinkgoWriter.Printf("stress: %d requests, %d writes, peak %d calls and %d stops in flight at the daemon\n", len(rec), writes, peakShared, peakStops)
	Expect(writes).To(BeNumerically(">", 100))
	Expect(peakShared).To(BeNumerically("<=", stressMaxInFlight))
	Expect(peakStops).To(BeNumerically("<=", stressMaxInFlight))
	Expect(creates).To(HaveLen(envs * services))
	for n, c := range creates {
		Expect(c).To(Equal(2), "container %s created %d times, want once per generation", n, c)
	}
}
