package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/moby/moby/client"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	apimeta "k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/watch"
	"k8s.io/client-go/tools/clientcmd"

	v1 "berth.dev/berth/apis/v1alpha1"
	"berth.dev/berth/client/clientset/versioned"
)

// scaleResult is the manager's side of a scale run.
type scaleResult struct {
	up, down       time.Duration
	cpuUp, cpuDown float64
	hwmMB, rssMB   float64
	// requests is the API server's request count for Environments per
	// Environment of the run, by verb, subresource and code.
	requests string
}

// scaleClients is how many API calls (creates, deletes) are sent at once:
// enough that the API server, not the bench, decides the pace.
const scaleClients = 16

// scaleBerth starts a manager on a fresh data dir, creates every
// Environment at once (scaleClients creates in flight) and waits until all
// are Ready, then deletes them all and waits until all are gone. The
// manager's VmRSS is sampled every 250 ms throughout; its VmHWM and CPU
// are read before it is stopped. After an error the Environments are
// deleted (and waited for) before the manager stops, so it removes what it
// made.
func scaleBerth(ctx context.Context, o scaleOptions, prefix string, out io.Writer) (scaleResult, error) {
	var res scaleResult
	dir, err := os.MkdirTemp("", "berth-bench-scale-")
	if err != nil {
		return res, err
	}
	defer os.RemoveAll(dir)
	dashboardAddr := "127.0.0.1:0"
	var profiles *cpuProfiler
	if o.cpuProfile != "" {
		// The profiles are fetched from the dashboard listener, so it
		// needs an address known before the manager starts.
		if dashboardAddr, err = freeLoopbackAddr(); err != nil {
			return res, err
		}
		profiles = &cpuProfiler{addr: dashboardAddr, dataDir: dir, prefix: o.cpuProfile}
	}
	args := []string{"--data-dir", dir, "--api-listen", "127.0.0.1:0", "--dashboard-listen", dashboardAddr,
		"--default-memory-limit", o.memLimit, "--default-memory-reservation", o.memReservation, "-v", strconv.Itoa(o.managerV)}
	if o.workers > 0 {
		args = append(args, "--workers", strconv.Itoa(o.workers))
	}
	if o.profile != "" {
		args = append(args, "--docker-profile", o.profile)
	}
	if profiles != nil {
		args = append(args, "--profiling")
	}
	mgr, kubeconfig, logPath, err := startManager(o.manager, args, "berth-bench-scale-manager.log")
	if err != nil {
		return res, err
	}
	defer stopManager(mgr)
	fmt.Fprintf(out, "manager %s %s (log: %s)\n", o.manager, strings.Join(args, " "), logPath)
	cfg, err := clientcmd.BuildConfigFromFlags("", kubeconfig)
	if err != nil {
		return res, err
	}
	// client-go's default 5 requests/s would make the bench the bottleneck.
	cfg.QPS, cfg.Burst = 500, 1000
	cs, err := versioned.NewForConfig(cfg)
	if err != nil {
		return res, err
	}
	envs := cs.BerthV1alpha1().Environments()
	names := make([]string, o.envs)
	for i := range names {
		names[i] = fmt.Sprintf("%s%03d", prefix, i)
	}
	pid := mgr.Process.Pid
	sampler := startRSSSampler(pid)
	defer sampler.stop()

	created := false
	defer func() {
		if created && res.down == 0 {
			// A failed run still must not leave containers behind.
			_ = parallelDo(len(names), scaleClients, func(i int) error { return envs.Delete(ctx, names[i], metav1.DeleteOptions{}) })
			_ = waitEnvs(ctx, cs, prefix, o.timeout, out, func(n, _ int) bool { return n == 0 })
		}
	}()

	cpu0, err := cpuSeconds(pid)
	if err != nil {
		return res, err
	}
	start := time.Now()
	created = true
	stopProfile := profiles.start(ctx, "up")
	if err := parallelDo(len(names), scaleClients, func(i int) error {
		_, err := envs.Create(ctx, scaleEnvironment(names[i], o), metav1.CreateOptions{})
		return err
	}); err != nil {
		return res, fmt.Errorf("create: %w", err)
	}
	if err := waitEnvs(ctx, cs, prefix, o.timeout, out, func(n, ready int) bool { return n == o.envs && ready == o.envs }); err != nil {
		return res, fmt.Errorf("wait for all Ready (manager log: %s): %w", logPath, err)
	}
	res.up = time.Since(start)
	cpu1, err := cpuSeconds(pid)
	if err != nil {
		return res, err
	}
	stopProfile() // after the CPU reading: waiting for the last piece is idle time
	res.cpuUp = cpu1 - cpu0

	start = time.Now()
	stopProfile = profiles.start(ctx, "down")
	defer stopProfile()
	if err := parallelDo(len(names), scaleClients, func(i int) error { return envs.Delete(ctx, names[i], metav1.DeleteOptions{}) }); err != nil {
		return res, fmt.Errorf("delete: %w", err)
	}
	if err := waitEnvs(ctx, cs, prefix, o.timeout, out, func(n, _ int) bool { return n == 0 }); err != nil {
		return res, fmt.Errorf("wait for all gone (manager log: %s): %w", logPath, err)
	}
	res.down = time.Since(start)
	cpu2, err := cpuSeconds(pid)
	if err != nil {
		return res, err
	}
	stopProfile() // after the CPU reading: waiting for the last piece is idle time
	res.cpuDown = cpu2 - cpu1
	hwm, err := procStatusKB(pid, "VmHWM")
	if err != nil {
		return res, err
	}
	res.hwmMB = float64(hwm) / 1024
	res.rssMB = float64(sampler.stop()) / 1024
	if totals, err := apiRequests(ctx, cs); err == nil {
		res.requests = formatPerEnvironment(totals, o.envs)
	} else {
		res.requests = err.Error()
	}
	return res, nil
}

// scaleEnvironment is one Environment of the run: o.services containers
// of the test image with the run's memory request and limit.
func scaleEnvironment(name string, o scaleOptions) *v1.Environment {
	env := &v1.Environment{ObjectMeta: metav1.ObjectMeta{Name: name}}
	grace := int64(10)
	for i := 0; i < o.services; i++ {
		env.Spec.Services = append(env.Spec.Services, v1.Service{
			Name: fmt.Sprintf("s%03d", i), Image: o.image, Args: []string{"--http-port=0"},
			TerminationGracePeriodSeconds: &grace,
			Resources: v1.ResourceRequirements{
				Limits:   v1.ResourceList{v1.ResourceMemory: memoryQuantity(o.memLimit)},
				Requests: v1.ResourceList{v1.ResourceMemory: memoryQuantity(o.memReservation)},
			},
		})
	}
	return env
}

// waitEnvs follows the Environments with one list and then a watch until
// done(how many of the run exist, how many are Ready at their generation)
// holds, and every 15 s prints how many are in which phase. A watch, not a
// list every few hundred ms: the manager serves the API in-process, so a
// poll of hundreds of Environments would be counted in its CPU.
func waitEnvs(ctx context.Context, cs versioned.Interface, prefix string, timeout time.Duration, out io.Writer, done func(n, ready int) bool) error {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	start := time.Now()
	envs := map[string]*v1.Environment{}
	count := func() (n, ready int, phases map[v1.EnvironmentPhase]int) {
		phases = map[v1.EnvironmentPhase]int{}
		for _, e := range envs {
			n++
			phases[e.Status.Phase]++
			if e.Status.ObservedGeneration == e.Generation && apimeta.IsStatusConditionTrue(e.Status.Conditions, v1.ConditionReady) {
				ready++
			}
		}
		return n, ready, phases
	}
	api := cs.BerthV1alpha1().Environments()
	list, err := api.List(ctx, metav1.ListOptions{})
	if err != nil {
		return err
	}
	for k := range list.Items {
		if e := &list.Items[k]; strings.HasPrefix(e.Name, prefix) {
			envs[e.Name] = e
		}
	}
	rv := list.ResourceVersion
	report := time.NewTicker(15 * time.Second)
	defer report.Stop()
	for {
		if n, ready, _ := count(); done(n, ready) {
			return nil
		}
		w, err := api.Watch(ctx, metav1.ListOptions{ResourceVersion: rv, AllowWatchBookmarks: true})
		if err != nil {
			_, _, phases := count()
			return fmt.Errorf("watch: %w; phases %s", err, phaseCounts(phases))
		}
		if err := func() error {
			defer w.Stop()
			for {
				select {
				case <-ctx.Done():
					_, _, phases := count()
					return fmt.Errorf("timed out after %s; phases %s", timeout, phaseCounts(phases))
				case <-report.C:
					n, ready, phases := count()
					fmt.Fprintf(out, "  after %s: %d Environments, %d Ready; phases %s\n", time.Since(start).Round(time.Second), n, ready, phaseCounts(phases))
				case ev, ok := <-w.ResultChan():
					if !ok {
						return nil // the server ended the watch: resume from rv
					}
					e, isEnv := ev.Object.(*v1.Environment)
					if !isEnv {
						if ev.Type == watch.Error {
							return fmt.Errorf("watch: %v", apierrors.FromObject(ev.Object))
						}
						continue
					}
					rv = e.ResourceVersion
					if ev.Type == watch.Bookmark || !strings.HasPrefix(e.Name, prefix) {
						continue
					}
					if ev.Type == watch.Deleted {
						delete(envs, e.Name)
					} else {
						envs[e.Name] = e
					}
					if n, ready, _ := count(); done(n, ready) {
						return nil
					}
				}
			}
		}(); err != nil {
			return err
		}
	}
}

func phaseCounts(m map[v1.EnvironmentPhase]int) string {
	var parts []string
	for p, c := range m {
		name := string(p)
		if name == "" {
			name = "(none)"
		}
		parts = append(parts, fmt.Sprintf("%s %d", name, c))
	}
	sort.Strings(parts)
	return strings.Join(parts, ", ")
}

// rssSampler keeps the highest VmRSS of a process, read every 250 ms.
type rssSampler struct {
	once sync.Once
	quit chan struct{}
	done chan struct{}
	max  int64
}

func startRSSSampler(pid int) *rssSampler {
	s := &rssSampler{quit: make(chan struct{}), done: make(chan struct{})}
	go func() {
		defer close(s.done)
		t := time.NewTicker(250 * time.Millisecond)
		defer t.Stop()
		for {
			if kb, err := procStatusKB(pid, "VmRSS"); err == nil && kb > s.max {
				s.max = kb
			}
			select {
			case <-s.quit:
				return
			case <-t.C:
			}
		}
	}()
	return s
}

// stop ends the sampling and returns the highest VmRSS seen, in kB.
func (s *rssSampler) stop() int64 {
	s.once.Do(func() { close(s.quit) })
	<-s.done
	return s.max
}

// parseStatusKB finds "key:   N kB" in the text of /proc/<pid>/status.
func parseStatusKB(status, key string) (int64, error) {
	for _, line := range strings.Split(status, "\n") {
		k, v, ok := strings.Cut(line, ":")
		if !ok || k != key {
			continue
		}
		f := strings.Fields(v)
		if len(f) != 2 || f[1] != "kB" {
			return 0, fmt.Errorf("%s: unexpected value %q", key, strings.TrimSpace(v))
		}
		return strconv.ParseInt(f[0], 10, 64)
	}
	return 0, fmt.Errorf("no %s in /proc status", key)
}

// scaleLeftovers lists the containers and networks on the daemon whose
// berth.dev/environment label starts with the run's prefix: the floor's
// and the manager's Environments alike.
func scaleLeftovers(ctx context.Context, host, prefix string) ([]string, error) {
	api, err := client.New(client.WithHost(host))
	if err != nil {
		return nil, err
	}
	defer api.Close()
	f := make(client.Filters).Add("label", v1.LabelEnvironment)
	var left []string
	cs, err := api.ContainerList(ctx, client.ContainerListOptions{All: true, Filters: f})
	if err != nil {
		return nil, fmt.Errorf("list containers: %w", err)
	}
	for _, c := range cs.Items {
		if strings.HasPrefix(c.Labels[v1.LabelEnvironment], prefix) {
			left = append(left, "container "+strings.Join(c.Names, ","))
		}
	}
	ns, err := api.NetworkList(ctx, client.NetworkListOptions{Filters: f})
	if err != nil {
		return nil, fmt.Errorf("list networks: %w", err)
	}
	for _, n := range ns.Items {
		if strings.HasPrefix(n.Labels[v1.LabelEnvironment], prefix) {
			left = append(left, "network "+n.Name)
		}
	}
	return left, nil
}
