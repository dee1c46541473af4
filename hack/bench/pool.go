package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"sort"
	"strconv"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	apimeta "k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/client-go/tools/clientcmd"

	v1 "berth.dev/berth/apis/v1alpha1"
	"berth.dev/berth/client/clientset/versioned"
	"berth.dev/berth/internal/docker"
	"berth.dev/berth/internal/docker/dockerbench"
)

// poolManagerV is -manager-v.
var poolManagerV int

func init() {
	subcommands["pool"] = subcommand{
		summary: "apply→Ready of Environments claimed from a warm pool vs the floor for creating and starting their containers",
		run:     runPool,
	}
}

// runPool measures, in one run: the floor (the template's containers
// created and started with direct Docker calls, at the fastest of the
// given concurrencies), then claims one after the other from a pool
// whose standbys are converged and paused, each from apply to Ready. The
// pool refills in the background while the later claims run.
func runPool(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("pool", flag.ContinueOnError)
	fs.SetOutput(stderr)
	claims := fs.Int("claims", 5, "claims to measure (the pool's size)")
	services := fs.Int("services", 10, "services per Environment")
	mode := fs.String("standby", "Paused", "standby mode: Paused or Running")
	profile := fs.String("profile", "adaptive", "governor profile of the manager")
	directWorkers := fs.String("direct-workers", "1,3", "concurrency of the direct floor; the fastest counts")
	manager := fs.String("manager", "bin/manager", "manager binary")
	image := fs.String("image", "berth-testapp:dev", "test image")
	host := fs.String("docker-host", docker.DefaultConfig().Host, "Docker Engine")
	fs.IntVar(&poolManagerV, "manager-v", 0, "log verbosity of the manager (its log is kept in the temp dir)")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	workers, err := intList(*directWorkers)
	if err != nil || *claims < 1 || *services < 1 {
		fmt.Fprintln(stderr, "bench pool: -claims and -services must be positive, -direct-workers a list of integers")
		return 2
	}
	ctx := context.Background()
	var floor time.Duration
	for _, w := range workers {
		r, err := dockerbench.Run(ctx, dockerbench.Options{Host: *host, Image: *image, Mode: dockerbench.Direct, N: *services, Workers: w, Grace: 10 * time.Second})
		if err != nil {
			fmt.Fprintln(stderr, "bench pool: direct:", err)
			return 1
		}
		fmt.Fprintf(stdout, "floor: direct create+start of %d containers x%d: %s\n", *services, w, r.Up.Round(time.Millisecond))
		if floor == 0 || r.Up < floor {
			floor = r.Up
		}
	}
	times, err := poolClaims(ctx, *manager, *profile, *image, *services, *claims, v1.StandbyMode(*mode), stdout)
	if err != nil {
		fmt.Fprintln(stderr, "bench pool:", err)
		return 1
	}
	sorted := append([]time.Duration(nil), times...)
	sort.Slice(sorted, func(i, j int) bool { return sorted[i] < sorted[j] })
	median := sorted[len(sorted)/2]
	if len(sorted)%2 == 0 {
		median = (sorted[len(sorted)/2-1] + sorted[len(sorted)/2]) / 2
	}
	fmt.Fprintf(stdout, "floor %s; pooled claim median %s (min %s, max %s); median ratio %.3f (target <= 0.25)\n",
		floor.Round(time.Millisecond), median.Round(time.Millisecond), sorted[0].Round(time.Millisecond),
		sorted[len(sorted)-1].Round(time.Millisecond), median.Seconds()/floor.Seconds())
	return 0
}

// poolClaims starts a manager on a fresh data dir, creates a pool of
// claims standbys of services containers each, waits until all are
// available, then claims them one by one and returns each claim's
// apply→Ready time. Everything is deleted before it returns.
func poolClaims(ctx context.Context, managerBin, profile, image string, services, claims int, mode v1.StandbyMode, out io.Writer) ([]time.Duration, error) {
	dir, err := os.MkdirTemp("", "berth-bench-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(dir)
	cmd, kubeconfig, logPath, err := startManager(managerBin, []string{"--data-dir", dir, "--api-listen", "127.0.0.1:0", "--dashboard-listen", "127.0.0.1:0",
		"--docker-profile", profile, "--default-memory-limit", "32Mi", "--default-memory-reservation", "16Mi", "-v", strconv.Itoa(poolManagerV)},
		"berth-bench-pool.log")
	if err != nil {
		return nil, err
	}
	defer stopManager(cmd)
	cfg, err := clientcmd.BuildConfigFromFlags("", kubeconfig)
	if err != nil {
		return nil, err
	}
	// client-go's default 5 requests/s would throttle the polls below
	// and round every claim up to 200 ms steps.
	cfg.QPS, cfg.Burst = 200, 400
	cs, err := versioned.NewForConfig(cfg)
	if err != nil {
		return nil, err
	}
	pool := &v1.EnvironmentPool{ObjectMeta: metav1.ObjectMeta{Name: "benchpool"},
		Spec: v1.EnvironmentPoolSpec{Size: int32(claims), Standby: mode}}
	grace := int64(10)
	for i := 0; i < services; i++ {
		pool.Spec.Template.Services = append(pool.Spec.Template.Services, v1.Service{
			Name: fmt.Sprintf("s%03d", i), Image: image, Args: []string{"--http-port=0"},
			TerminationGracePeriodSeconds: &grace,
		})
	}
	pools, envs := cs.BerthV1alpha1().EnvironmentPools(), cs.BerthV1alpha1().Environments()
	if _, err := pools.Create(ctx, pool, metav1.CreateOptions{}); err != nil {
		return nil, fmt.Errorf("create pool: %w", err)
	}
	var names []string
	defer cleanupPool(ctx, cs, pool.Name, &names, out)
	warm := time.Now()
	if err := poll(ctx, 10*time.Minute, func() (bool, error) {
		p, err := pools.Get(ctx, pool.Name, metav1.GetOptions{})
		return err == nil && p.Status.Available == int32(claims), err
	}); err != nil {
		return nil, fmt.Errorf("wait for %d available standbys (manager log: %s): %w", claims, logPath, err)
	}
	fmt.Fprintf(out, "pool of %d standbys (%s) available after %s\n", claims, mode, time.Since(warm).Round(time.Millisecond))
	var times []time.Duration
	for i := 0; i < claims; i++ {
		env := &v1.Environment{ObjectMeta: metav1.ObjectMeta{Name: fmt.Sprintf("benchclaim%d", i)},
			Spec: v1.EnvironmentSpec{PoolRef: &v1.PoolRef{Name: pool.Name}}}
		start := time.Now()
		if _, err := envs.Create(ctx, env, metav1.CreateOptions{}); err != nil {
			return nil, fmt.Errorf("create claim: %w", err)
		}
		names = append(names, env.Name)
		var bound string
		var boundAt time.Duration
		if err := poll(ctx, 10*time.Minute, func() (bool, error) {
			got, err := envs.Get(ctx, env.Name, metav1.GetOptions{})
			if err != nil {
				return false, err
			}
			bound = got.Spec.PoolRef.Standby
			if bound != "" && boundAt == 0 {
				boundAt = time.Since(start)
			}
			return apimeta.IsStatusConditionTrue(got.Status.Conditions, v1.ConditionReady) && got.Status.ObservedGeneration == got.Generation, nil
		}); err != nil {
			return nil, fmt.Errorf("wait for claim %s Ready (manager log: %s): %w", env.Name, logPath, err)
		}
		d := time.Since(start)
		if bound == "" {
			bound = "none: converged from the template"
		}
		fmt.Fprintf(out, "claim %d: Ready in %s (bound after %s, standby %s)\n", i, d.Round(time.Millisecond), boundAt.Round(time.Millisecond), bound)
		times = append(times, d)
	}
	return times, nil
}

// cleanupPool deletes the claims, then the pool, and waits until every
// standby is gone.
func cleanupPool(ctx context.Context, cs versioned.Interface, pool string, claims *[]string, out io.Writer) {
	envs := cs.BerthV1alpha1().Environments()
	for _, n := range *claims {
		_ = envs.Delete(ctx, n, metav1.DeleteOptions{})
	}
	_ = cs.BerthV1alpha1().EnvironmentPools().Delete(ctx, pool, metav1.DeleteOptions{})
	sel := labels.Set{v1.LabelPool: pool}.String()
	err := poll(ctx, 10*time.Minute, func() (bool, error) {
		list, err := envs.List(ctx, metav1.ListOptions{LabelSelector: sel})
		if err != nil {
			return false, err
		}
		for _, n := range *claims {
			if _, err := envs.Get(ctx, n, metav1.GetOptions{}); !apierrors.IsNotFound(err) {
				return false, nil
			}
		}
		return len(list.Items) == 0, nil
	})
	if err != nil {
		fmt.Fprintln(out, "cleanup:", err)
	}
}
