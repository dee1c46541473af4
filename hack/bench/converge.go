package main

import (
	"bufio"
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	apimeta "k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/tools/clientcmd"

	v1 "berth.dev/berth/apis/v1alpha1"
	"berth.dev/berth/client/clientset/versioned"
	"berth.dev/berth/internal/docker"
	"berth.dev/berth/internal/docker/dockerbench"
)

func init() {
	subcommands["converge"] = subcommand{
		summary: "apply→Ready and delete→gone of one Environment of N single-container services through the manager vs direct Docker calls",
		run:     runConverge,
	}
}

func runConverge(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("converge", flag.ContinueOnError)
	fs.SetOutput(stderr)
	sizes := fs.String("sizes", "10,40", "services per Environment, comma-separated")
	profiles := fs.String("profiles", "adaptive,desktop", "governor profiles to run the manager with")
	directWorkers := fs.String("direct-workers", "1,3", "concurrency of the direct baseline; the fastest counts as the floor")
	manager := fs.String("manager", "bin/manager", "manager binary")
	image := fs.String("image", "berth-testapp:dev", "test image")
	host := fs.String("docker-host", docker.DefaultConfig().Host, "Docker Engine")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	ns, err := intList(*sizes)
	if err != nil {
		fmt.Fprintln(stderr, "bench converge:", err)
		return 2
	}
	workers, err := intList(*directWorkers)
	if err != nil {
		fmt.Fprintln(stderr, "bench converge:", err)
		return 2
	}
	ctx := context.Background()
	fmt.Fprintf(stdout, "%-5s %-22s %10s %10s %9s %9s %14s\n", "N", "mode", "up", "down", "up/floor", "down/flr", "mgr CPU-s/ctr")
	for _, n := range ns {
		var floorUp, floorDown time.Duration
		for _, w := range workers {
			r, err := dockerbench.Run(ctx, dockerbench.Options{Host: *host, Image: *image, Mode: dockerbench.Direct, N: n, Workers: w, Grace: 10 * time.Second})
			if err != nil {
				fmt.Fprintln(stderr, "bench converge: direct:", err)
				return 1
			}
			if floorUp == 0 || r.Up < floorUp {
				floorUp = r.Up
			}
			if floorDown == 0 || r.Down < floorDown {
				floorDown = r.Down
			}
			fmt.Fprintf(stdout, "%-5d %-22s %10s %10s %9s %9s %14s\n", n, fmt.Sprintf("direct x%d", w),
				r.Up.Round(time.Millisecond), r.Down.Round(time.Millisecond), "", "", "")
		}
		for _, p := range splitList(*profiles) {
			r, err := convergeOnce(ctx, convergeOptions{manager: *manager, profile: p, image: *image, n: n})
			if err != nil {
				fmt.Fprintf(stderr, "bench converge: %s, %d services: %v\n", p, n, err)
				return 1
			}
			fmt.Fprintf(stdout, "%-5d %-22s %10s %10s %9.2f %9.2f %14.4f\n", n, "berth "+p,
				r.up.Round(time.Millisecond), r.down.Round(time.Millisecond),
				r.up.Seconds()/floorUp.Seconds(), r.down.Seconds()/floorDown.Seconds(), r.cpuUp/float64(n))
		}
	}
	return 0
}

type convergeResult struct {
	up, down time.Duration
	// cpuUp is the manager's CPU seconds from apply to Ready.
	cpuUp float64
	// The four moments that split a recorded run into its phases.
	applied, ready, deleted, gone time.Time
}

// convergeOptions say what one convergeOnce run starts and applies.
type convergeOptions struct {
	manager, profile, image string
	n                       int
	// name is the Environment's name; empty means bench<n>-<profile>.
	name string
	// managerArgs are extra manager flags (e.g. --docker-host of a proxy).
	managerArgs []string
	// settled, when set, blocks after the manager is up until its start-up
	// work is done, so the start-up's calls are not counted as converge's.
	settled func(ctx context.Context) error
	// timeout bounds each wait (Ready, gone); zero means 10 minutes.
	timeout time.Duration
}

// convergeOnce starts a manager with the profile on a fresh data dir,
// applies one Environment of n services, waits for Ready, deletes it and
// waits until it is gone, then stops the manager.
func convergeOnce(ctx context.Context, o convergeOptions) (convergeResult, error) {
	managerBin, profile, image, n := o.manager, o.profile, o.image, o.n
	if o.timeout <= 0 {
		o.timeout = 10 * time.Minute
	}
	dir, err := os.MkdirTemp("", "berth-bench-")
	if err != nil {
		return convergeResult{}, err
	}
	defer os.RemoveAll(dir)
	args := append([]string{"--data-dir", dir, "--api-listen", "127.0.0.1:0", "--dashboard-listen", "127.0.0.1:0",
		"--docker-profile", profile, "--default-memory-limit", "32Mi", "--default-memory-reservation", "16Mi"}, o.managerArgs...)
	cmd, kubeconfig, logPath, err := startManager(managerBin, args, fmt.Sprintf("berth-bench-%s-%d.log", profile, n))
	if err != nil {
		return convergeResult{}, err
	}
	defer stopManager(cmd)
	cfg, err := clientcmd.BuildConfigFromFlags("", kubeconfig)
	if err != nil {
		return convergeResult{}, err
	}
	cs, err := versioned.NewForConfig(cfg)
	if err != nil {
		return convergeResult{}, err
	}
	envs := cs.BerthV1alpha1().Environments()

	env := &v1.Environment{}
	env.Name = o.name
	if env.Name == "" {
		env.Name = fmt.Sprintf("bench%d-%s", n, profile)
	}
	grace := int64(10)
	for i := 0; i < n; i++ {
		env.Spec.Services = append(env.Spec.Services, v1.Service{
			Name: fmt.Sprintf("s%03d", i), Image: image, Args: []string{"--http-port=0"},
			TerminationGracePeriodSeconds: &grace,
		})
	}

	if o.settled != nil {
		if err := o.settled(ctx); err != nil {
			return convergeResult{}, fmt.Errorf("manager start-up (log: %s): %w", logPath, err)
		}
	}
	cpu0, err := cpuSeconds(cmd.Process.Pid)
	if err != nil {
		return convergeResult{}, err
	}
	start := time.Now()
	res := convergeResult{applied: start}
	if _, err := envs.Create(ctx, env, metav1.CreateOptions{}); err != nil {
		return convergeResult{}, fmt.Errorf("create: %w", err)
	}
	if err := poll(ctx, o.timeout, func() (bool, error) {
		got, err := envs.Get(ctx, env.Name, metav1.GetOptions{})
		if err != nil {
			return false, err
		}
		return apimeta.IsStatusConditionTrue(got.Status.Conditions, v1.ConditionReady), nil
	}); err != nil {
		return convergeResult{}, fmt.Errorf("wait for Ready (manager log: %s): %w", logPath, err)
	}
	res.ready = time.Now()
	res.up = res.ready.Sub(start)
	cpu1, err := cpuSeconds(cmd.Process.Pid)
	if err != nil {
		return convergeResult{}, err
	}
	res.cpuUp = cpu1 - cpu0

	start = time.Now()
	res.deleted = start
	if err := envs.Delete(ctx, env.Name, metav1.DeleteOptions{}); err != nil {
		return convergeResult{}, fmt.Errorf("delete: %w", err)
	}
	if err := poll(ctx, o.timeout, func() (bool, error) {
		_, err := envs.Get(ctx, env.Name, metav1.GetOptions{})
		if apierrors.IsNotFound(err) {
			return true, nil
		}
		return false, err
	}); err != nil {
		return convergeResult{}, fmt.Errorf("wait for teardown (manager log: %s): %w", logPath, err)
	}
	res.gone = time.Now()
	res.down = res.gone.Sub(start)
	return res, nil
}

func waitForKubeconfig(r io.Reader, timeout time.Duration) (string, error) {
	found := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(r)
		for sc.Scan() {
			if v, ok := strings.CutPrefix(sc.Text(), "kubeconfig: "); ok {
				found <- v
				break
			}
		}
		_, _ = io.Copy(io.Discard, r)
	}()
	select {
	case k := <-found:
		return k, nil
	case <-time.After(timeout):
		return "", fmt.Errorf("manager not ready after %s", timeout)
	}
}

// poll checks cond every 50 ms: API reads, never Docker calls.
func poll(ctx context.Context, timeout time.Duration, cond func() (bool, error)) error {
	deadline := time.Now().Add(timeout)
	for time.Now().Before(deadline) {
		ok, err := cond()
		if err != nil {
			return err
		}
		if ok {
			return nil
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(50 * time.Millisecond):
		}
	}
	return fmt.Errorf("timed out after %s", timeout)
}

// cpuSeconds is the process's user+system CPU time from /proc.
func cpuSeconds(pid int) (float64, error) {
	b, err := os.ReadFile(filepath.Join("/proc", strconv.Itoa(pid), "stat"))
	if err != nil {
		return 0, err
	}
	// Fields after the command name (which may hold spaces) start after ")".
	s := string(b)
	fields := strings.Fields(s[strings.LastIndexByte(s, ')')+2:])
	if len(fields) < 13 {
		return 0, fmt.Errorf("short /proc stat for %d", pid)
	}
	utime, _ := strconv.ParseFloat(fields[11], 64)
	stime, _ := strconv.ParseFloat(fields[12], 64)
	const clockTicks = 100 // USER_HZ on Linux
	return (utime + stime) / clockTicks, nil
}
