package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	"github.com/moby/moby/client"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	apimeta "k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/tools/clientcmd"

	v1 "berth.dev/berth/apis/v1alpha1"
	"berth.dev/berth/client/clientset/versioned"
	"berth.dev/berth/internal/docker"
)

func init() {
	subcommands["compose"] = subcommand{
		summary: "the platform sample's compose files: berth apply→Ready / delete vs docker-compose v1 up -d / down (and compose v2 up --wait / down when installed)",
		run:     runCompose,
	}
}

// composeProjectLabel is the label compose (v1 and v2) puts on everything
// of a project: the bench's leftover check and health polling go by it.
const composeProjectLabel = "com.docker.compose.project"

// platformMemory is the seed's memory table (limit, reservation in bytes)
// the test overlay sets: each tool's containers are checked against it, so
// a tool that ignored deploy.resources would be seen, not timed as equal.
var platformMemory = map[string][2]int64{
	"backend":  {2 << 30, 1 << 30},
	"auth":     {1 << 30, 512 << 20},
	"frontend": {512 << 20, 256 << 20},
	"postgres": {512 << 20, 256 << 20},
	"redis":    {256 << 20, 128 << 20},
}

type composeBench struct {
	dir        string
	files      []string // docker-compose.yml, docker-compose.test.yml
	v1Overlay  string   // docker-compose.v1.yml: the init SQL v1 ignores as a config
	manager    string
	berth      string
	v1         string
	profile    string
	api        *client.Client
	stdout     io.Writer
	stderr     io.Writer
	runTimeout time.Duration
}

// composeResult is one tool's run: apply→Ready (every healthcheck healthy)
// and teardown→nothing left.
type composeResult struct {
	tool      string
	up, down  time.Duration
	memory    string // "seed table" or what differed
	cpuUp     float64
	hasCPU    bool
	leftovers string
}

func runCompose(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("bench compose", flag.ContinueOnError)
	fs.SetOutput(stderr)
	dir := fs.String("dir", "config/samples/platform", "the platform sample (docker-compose.yml, docker-compose.test.yml, docker-compose.v1.yml)")
	manager := fs.String("manager", "bin/manager", "manager binary")
	berth := fs.String("berth", "bin/berth", "berth CLI binary")
	v1Bin := fs.String("docker-compose", "/usr/bin/docker-compose", "compose v1 binary (Debian's docker-compose 1.29); empty skips it")
	profile := fs.String("docker-profile", "", "the manager's --docker-profile (empty = its default)")
	rounds := fs.Int("rounds", 1, "rounds; each runs every tool once, the order rotating per round")
	host := fs.String("docker-host", docker.DefaultConfig().Host, "Docker Engine")
	timeout := fs.Duration("timeout", 10*time.Minute, "limit of one apply or teardown")
	if err := fs.Parse(args); err != nil {
		if err == flag.ErrHelp {
			return 0
		}
		return 2
	}
	if *rounds <= 0 {
		fmt.Fprintln(stderr, "bench compose: --rounds must be positive")
		return 2
	}
	abs, err := filepath.Abs(*dir)
	if err != nil {
		fmt.Fprintln(stderr, "bench compose:", err)
		return 2
	}
	// The CLIs run in the sample's directory: binaries named relative to
	// this one must stay found.
	for _, p := range []*string{manager, berth} {
		if *p, err = filepath.Abs(*p); err != nil {
			fmt.Fprintln(stderr, "bench compose:", err)
			return 2
		}
	}
	api, err := client.New(client.WithHost(*host))
	if err != nil {
		fmt.Fprintln(stderr, "bench compose:", err)
		return 1
	}
	defer api.Close()
	b := &composeBench{
		dir:       abs,
		files:     []string{filepath.Join(abs, "docker-compose.yml"), filepath.Join(abs, "docker-compose.test.yml")},
		v1Overlay: filepath.Join(abs, "docker-compose.v1.yml"),
		manager:   *manager, berth: *berth, v1: *v1Bin, profile: *profile,
		api: api, stdout: stdout, stderr: stderr, runTimeout: *timeout,
	}
	ctx := context.Background()
	if err := b.prepare(ctx); err != nil {
		fmt.Fprintln(stderr, "bench compose:", err)
		return 1
	}

	type tool struct {
		name string
		run  func(context.Context) (composeResult, error)
	}
	var tools []tool
	tools = append(tools, tool{"berth", b.runBerth})
	if b.v1 != "" {
		tools = append(tools, tool{"docker-compose v1", b.runV1})
	}
	if v2, err := exec.Command("docker", "compose", "version").CombinedOutput(); err == nil {
		fmt.Fprintf(stdout, "compose v2 %s: up -d --wait --build / down --rmi local\n", strings.TrimSpace(string(v2)))
		tools = append(tools, tool{"docker compose v2", b.runV2})
	} else {
		fmt.Fprintf(stdout, "compose v2: not installed (`docker compose version`: %s): skipped\n", firstLine(v2))
	}

	var results []composeResult
	failed := false
	for r := 0; r < *rounds; r++ {
		for i := range tools {
			t := tools[(i+r)%len(tools)]
			res, err := t.run(ctx)
			if err != nil {
				fmt.Fprintf(stderr, "bench compose: round %d, %s: %v\n", r+1, t.name, err)
				failed = true
				continue
			}
			res.tool = fmt.Sprintf("%s (round %d)", t.name, r+1)
			results = append(results, res)
		}
	}
	fmt.Fprintf(stdout, "\n%-30s %10s %10s %12s  %-12s %s\n", "tool", "up→Ready", "teardown", "mgr CPU-s up", "memory", "left behind")
	for _, r := range results {
		cpu := ""
		if r.hasCPU {
			cpu = fmt.Sprintf("%.2f", r.cpuUp)
		}
		fmt.Fprintf(stdout, "%-30s %9.1fs %9.1fs %12s  %-12s %s\n", r.tool, r.up.Seconds(), r.down.Seconds(), cpu, r.memory, r.leftovers)
	}
	if failed {
		return 1
	}
	return 0
}

// prepare compiles the sample's programs, checks the images they need,
// that docker-compose v1 reads the files, and warms the build cache (both
// tools then build from the same cached layers).
func (b *composeBench) prepare(ctx context.Context) error {
	root, err := filepath.Abs(filepath.Join(b.dir, "..", "..", ".."))
	if err != nil {
		return err
	}
	if out, err := exec.Command(filepath.Join(root, "hack", "build-platform.sh")).CombinedOutput(); err != nil {
		return fmt.Errorf("hack/build-platform.sh: %v\n%s", err, out)
	}
	for _, img := range []string{"berth-postgres:dev", "berth-redis:dev"} {
		if _, err := b.api.ImageInspect(ctx, img); err != nil {
			return fmt.Errorf("%s: %v (hack/build-images.sh builds it)", img, err)
		}
	}
	if b.v1 == "" {
		fmt.Fprintln(b.stdout, "docker-compose v1: skipped (--docker-compose \"\")")
		return nil
	}
	ver, err := exec.Command(b.v1, "version", "--short").CombinedOutput()
	if err != nil {
		return fmt.Errorf("%s version: %v: %s", b.v1, err, ver)
	}
	warm := "berth-bench-warm-" + randSuffix()
	// `config -q` validates: the same files must load in v1.
	if out, err := b.v1Cmd(ctx, warm, "config", "-q"); err != nil {
		return fmt.Errorf("docker-compose %s cannot read the compose files: %v\n%s", strings.TrimSpace(string(ver)), err, out)
	}
	fmt.Fprintf(b.stdout, "docker-compose %s reads docker-compose.yml + docker-compose.test.yml (config -q; it ignores configs, so docker-compose.v1.yml mounts init.sql)\n",
		strings.TrimSpace(string(ver)))
	fmt.Fprintln(b.stdout, "docker-compose v1: up -d --build (it has no --wait: the bench then polls the container list every 250 ms until every healthcheck is healthy) / down --rmi local")
	start := time.Now()
	if out, err := b.v1Cmd(ctx, warm, "build"); err != nil {
		return fmt.Errorf("warm-up build: %v\n%s", err, out)
	}
	// The warm-up's images are the project's own (warm_<service>, no
	// image: key), removed by down --rmi local; it created nothing else.
	if out, err := b.v1Cmd(ctx, warm, "down", "--rmi", "local"); err != nil {
		return fmt.Errorf("warm-up down: %v\n%s", err, out)
	}
	fmt.Fprintf(b.stdout, "build cache warmed in %.1fs (docker-compose build, then its images removed)\n", time.Since(start).Seconds())
	return nil
}

// v1Cmd runs docker-compose v1 on project with the files and the v1
// overlay, in the sample's directory.
func (b *composeBench) v1Cmd(ctx context.Context, project string, args ...string) ([]byte, error) {
	all := []string{"--project-name", project, "--project-directory", b.dir}
	for _, f := range append(append([]string(nil), b.files...), b.v1Overlay) {
		all = append(all, "--file", f)
	}
	cmd := exec.CommandContext(ctx, b.v1, append(all, args...)...)
	cmd.Dir = b.dir
	// docker-py's builder, not the CLI's (Debian's engine has no buildx).
	cmd.Env = append(os.Environ(), "COMPOSE_DOCKER_CLI_BUILD=0", "DOCKER_BUILDKIT=0")
	return cmd.CombinedOutput()
}

func (b *composeBench) runV1(ctx context.Context) (composeResult, error) {
	project := "berth-bench-v1-" + randSuffix()
	return b.runCompose(ctx, project, func(args ...string) ([]byte, error) { return b.v1Cmd(ctx, project, args...) },
		[]string{"up", "-d", "--build"}, true)
}

func (b *composeBench) runV2(ctx context.Context) (composeResult, error) {
	project := "berth-bench-v2-" + randSuffix()
	run := func(args ...string) ([]byte, error) {
		all := []string{"compose", "--project-name", project, "--project-directory", b.dir}
		for _, f := range b.files {
			all = append(all, "--file", f)
		}
		cmd := exec.CommandContext(ctx, "docker", append(all, args...)...)
		cmd.Dir = b.dir
		return cmd.CombinedOutput()
	}
	return b.runCompose(ctx, project, run, []string{"up", "-d", "--build", "--wait"}, false)
}

// runCompose times up (and, when poll, the wait until every container of
// the project is healthy) and down --rmi local, then checks that down
// left nothing of the project. Nothing is forced: a leftover is reported
// and the run fails.
func (b *composeBench) runCompose(ctx context.Context, project string, run func(...string) ([]byte, error), up []string, poll bool) (composeResult, error) {
	var res composeResult
	ctx, cancel := context.WithTimeout(ctx, 2*b.runTimeout)
	defer cancel()
	start := time.Now()
	out, upErr := run(up...)
	if upErr == nil && poll {
		upErr = b.waitHealthy(ctx, project)
	}
	res.up = time.Since(start)
	if upErr == nil {
		res.memory = b.checkMemory(ctx, composeProjectLabel+"="+project, "com.docker.compose.service")
	}
	start = time.Now()
	downOut, downErr := run("down", "--rmi", "local")
	res.down = time.Since(start)
	res.leftovers = b.leftovers(ctx, composeProjectLabel+"="+project)
	if upErr != nil {
		return res, fmt.Errorf("%s: %v\n%s", strings.Join(up, " "), upErr, out)
	}
	if downErr != nil {
		return res, fmt.Errorf("down: %v\n%s", downErr, downOut)
	}
	if res.leftovers != "nothing" {
		return res, fmt.Errorf("down left %s of project %s (not removed by the bench: never forced)", res.leftovers, project)
	}
	return res, nil
}

// waitHealthy polls the project's containers until all five run and
// Docker reports every one healthy: one list call per poll, whose status
// line carries the health ("Up 3 seconds (healthy)").
func (b *composeBench) waitHealthy(ctx context.Context, project string) error {
	f := make(client.Filters).Add("label", composeProjectLabel+"="+project)
	last := ""
	for {
		list, err := b.api.ContainerList(ctx, client.ContainerListOptions{All: true, Filters: f})
		if err != nil {
			return err
		}
		healthy := 0
		var states []string
		for _, c := range list.Items {
			if c.State == "running" && strings.Contains(c.Status, "(healthy)") {
				healthy++
			}
			states = append(states, c.Labels["com.docker.compose.service"]+": "+c.Status)
		}
		last = strings.Join(states, ", ")
		if healthy == len(platformMemory) && len(list.Items) == healthy {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("not every container healthy: %s: %w", last, ctx.Err())
		case <-time.After(250 * time.Millisecond):
		}
	}
}

// checkMemory compares each service's HostConfig.Memory and
// MemoryReservation with the seed's table.
func (b *composeBench) checkMemory(ctx context.Context, label, serviceLabel string) string {
	list, err := b.api.ContainerList(ctx, client.ContainerListOptions{All: true, Filters: make(client.Filters).Add("label", label)})
	if err != nil {
		return "inspect: " + err.Error()
	}
	var bad []string
	seen := 0
	for _, c := range list.Items {
		svc := c.Labels[serviceLabel]
		want, ok := platformMemory[svc]
		if !ok {
			continue
		}
		seen++
		in, err := b.api.ContainerInspect(ctx, c.ID, client.ContainerInspectOptions{})
		if err != nil {
			bad = append(bad, svc+": "+err.Error())
			continue
		}
		hc := in.Container.HostConfig
		if hc.Memory != want[0] || hc.MemoryReservation != want[1] {
			bad = append(bad, fmt.Sprintf("%s %d/%d", svc, hc.Memory, hc.MemoryReservation))
		}
	}
	switch {
	case len(bad) > 0:
		return "DIFFERS: " + strings.Join(bad, ", ")
	case seen != len(platformMemory):
		return fmt.Sprintf("%d of %d services", seen, len(platformMemory))
	}
	return "seed table"
}

// leftovers lists the containers and networks still carrying label.
func (b *composeBench) leftovers(ctx context.Context, label string) string {
	f := make(client.Filters).Add("label", label)
	var left []string
	if cs, err := b.api.ContainerList(ctx, client.ContainerListOptions{All: true, Filters: f}); err != nil {
		left = append(left, "containers: "+err.Error())
	} else {
		for _, c := range cs.Items {
			left = append(left, "container "+strings.Join(c.Names, ","))
		}
	}
	if ns, err := b.api.NetworkList(ctx, client.NetworkListOptions{Filters: f}); err != nil {
		left = append(left, "networks: "+err.Error())
	} else {
		for _, n := range ns.Items {
			left = append(left, "network "+n.Name)
		}
	}
	if vs, err := b.api.VolumeList(ctx, client.VolumeListOptions{Filters: f}); err != nil {
		left = append(left, "volumes: "+err.Error())
	} else {
		for _, v := range vs.Items {
			left = append(left, "volume "+v.Name)
		}
	}
	if len(left) == 0 {
		return "nothing"
	}
	return strings.Join(left, "; ")
}

// runBerth starts a manager on a fresh data dir that may read the sample,
// then times `berth apply -f docker-compose.yml -f docker-compose.test.yml`
// until the Environment is Ready (API reads every 50 ms, no Docker
// calls) and `berth delete -f …` (which waits until it is gone).
func (b *composeBench) runBerth(ctx context.Context) (composeResult, error) {
	var res composeResult
	dataDir, err := os.MkdirTemp("", "berth-bench-compose-")
	if err != nil {
		return res, err
	}
	defer os.RemoveAll(dataDir)
	args := []string{"--data-dir", dataDir, "--api-listen", "127.0.0.1:0", "--dashboard-listen", "127.0.0.1:0", "--allow-host-path", b.dir}
	if b.profile != "" {
		args = append(args, "--docker-profile", b.profile)
	}
	mgr, kubeconfig, logPath, err := startManager(b.manager, args, "berth-bench-compose-manager.log")
	if err != nil {
		return res, err
	}
	defer stopManager(mgr)
	cfg, err := clientcmd.BuildConfigFromFlags("", kubeconfig)
	if err != nil {
		return res, err
	}
	cs, err := versioned.NewForConfig(cfg)
	if err != nil {
		return res, err
	}
	envs := cs.BerthV1alpha1().Environments()
	name := "bench-compose-" + randSuffix()
	fileArgs := []string{"--name", name}
	for _, f := range b.files {
		fileArgs = append(fileArgs, "-f", f)
	}
	berth := func(args ...string) ([]byte, error) {
		cmd := exec.CommandContext(ctx, b.berth, append([]string{"--kubeconfig", kubeconfig}, args...)...)
		cmd.Dir = b.dir
		return cmd.CombinedOutput()
	}

	cpu0, err := cpuSeconds(mgr.Process.Pid)
	if err != nil {
		return res, err
	}
	start := time.Now()
	out, err := berth(append([]string{"apply"}, fileArgs...)...)
	if err == nil {
		err = poll(ctx, b.runTimeout, func() (bool, error) {
			got, err := envs.Get(ctx, name, metav1.GetOptions{})
			if err != nil {
				return false, err
			}
			return apimeta.IsStatusConditionTrue(got.Status.Conditions, v1.ConditionReady), nil
		})
	}
	res.up = time.Since(start)
	upErr := err
	if upErr == nil {
		cpu1, err := cpuSeconds(mgr.Process.Pid)
		if err == nil {
			res.cpuUp, res.hasCPU = cpu1-cpu0, true
		}
		res.memory = b.checkMemory(ctx, v1.LabelEnvironment+"="+name, v1.LabelService)
	}

	start = time.Now()
	downOut, downErr := berth(append([]string{"delete", "--timeout", b.runTimeout.String()}, fileArgs...)...)
	if downErr == nil {
		downErr = poll(ctx, b.runTimeout, func() (bool, error) {
			_, err := envs.Get(ctx, name, metav1.GetOptions{})
			return apierrors.IsNotFound(err), nil
		})
	}
	res.down = time.Since(start)
	res.leftovers = b.leftovers(ctx, v1.LabelEnvironment+"="+name)
	if upErr != nil {
		return res, fmt.Errorf("berth apply → Ready (manager log: %s): %v\n%s", logPath, upErr, out)
	}
	if downErr != nil {
		return res, fmt.Errorf("berth delete (manager log: %s): %v\n%s", logPath, downErr, downOut)
	}
	if res.leftovers != "nothing" {
		return res, fmt.Errorf("berth left %s of %s", res.leftovers, name)
	}
	return res, nil
}

// stopManager stops the manager the bench started, by its own process.
func randSuffix() string {
	b := make([]byte, 3)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

func firstLine(b []byte) string {
	s, _, _ := strings.Cut(strings.TrimSpace(string(b)), "\n")
	if s == "" {
		return "no output"
	}
	return s
}
