package e2e

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/moby/moby/api/types/container"
	"github.com/moby/moby/api/types/events"
	"github.com/moby/moby/client"
	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"berth.dev/berth/apis/v1alpha1"
	"berth.dev/berth/internal/docker/faultproxy"
	"berth.dev/berth/internal/dockertest"
)

// The controller specs observe Docker directly, never through berth: what
// berth says about Docker is exactly what is under test. These helpers only
// read, except for the decoys the suite creates and removes itself.

const testImage = "berth-testapp:dev"

var (
	dockerOnce sync.Once
	dockerAPI  *client.Client
	imageOnce  sync.Once
)

// dockerc is a plain Docker client for observation (inspect, list, events).
func dockerc() *client.Client {
	GinkgoHelper()
	dockerOnce.Do(func() {
		c, err := client.New(client.FromEnv, client.WithAPIVersionNegotiation())
		Expect(err).NotTo(HaveOccurred())
		dockerAPI = c
	})
	Expect(dockerAPI).NotTo(BeNil(), "no Docker client")
	return dockerAPI
}

// ensureTestImage builds berth-testapp:dev when it is missing; the script
// is a no-op when the image is current.
func ensureTestImage() {
	GinkgoHelper()
	var err error
	var out []byte
	imageOnce.Do(func() {
		if exec.Command("docker", "image", "inspect", testImage).Run() == nil {
			return
		}
		root, _ := filepath.Abs("../..")
		cmd := exec.Command(filepath.Join(root, "hack", "build-images.sh"))
		cmd.Dir = root
		out, err = cmd.CombinedOutput()
	})
	Expect(err).NotTo(HaveOccurred(), "hack/build-images.sh: %s", out)
}

// dockerSocket is the daemon's unix socket, for the fault proxy upstream.
func dockerSocket() string {
	if h := os.Getenv("DOCKER_HOST"); strings.HasPrefix(h, "unix://") {
		return strings.TrimPrefix(h, "unix://")
	}
	return "/var/run/docker.sock"
}

// startProxy puts the recording proxy between a manager and Docker.
func startProxy() *faultproxy.Proxy {
	GinkgoHelper()
	// A short directory: unix socket paths are limited to ~100 bytes.
	dir, err := os.MkdirTemp("", "berth-e2e-proxy")
	Expect(err).NotTo(HaveOccurred())
	p, err := faultproxy.Start(dockerSocket(), dir)
	Expect(err).NotTo(HaveOccurred())
	DeferCleanup(func() {
		_ = p.Close()
		_ = os.RemoveAll(dir)
	})
	return p
}

// forcedRemovals are the requests in rec that would remove anything with
// force: berth must never send one.
func forcedRemovals(rec []faultproxy.Request) []string {
	var out []string
	for _, r := range rec {
		q := strings.ToLower(r.URI)
		if r.Method == "DELETE" && (strings.Contains(q, "force=1") || strings.Contains(q, "force=true")) {
			out = append(out, r.Method+" "+r.URI)
		}
	}
	return out
}

// requestsFor picks the recorded requests on one container (by ID) whose
// path ends with suffix ("" for the container itself).
func requestsFor(rec []faultproxy.Request, method, id, suffix string) []faultproxy.Request {
	var out []faultproxy.Request
	for _, r := range rec {
		path, _, _ := strings.Cut(r.URI, "?")
		if r.Method == method && strings.HasSuffix(path, "/containers/"+id+suffix) {
			out = append(out, r)
		}
	}
	return out
}

// maxConcurrent is the most requests of rec (those keep selects) that were
// in flight at the daemon at once: from arrival at the proxy to the
// daemon's answer, which the proxy stamps before the caller can see it, so
// the interval lies inside the caller's wait and needs no slack. A request
// the daemon never answered (its caller gave up) counts until the proxy let
// go of it: the daemon may still be working on it.
func maxConcurrent(rec []faultproxy.Request, keep func(faultproxy.Request) bool) int {
	type edge struct {
		t     time.Time
		delta int
	}
	var edges []edge
	for _, r := range rec {
		end := r.Answered
		if end.IsZero() {
			end = r.End
		}
		if !keep(r) || end.IsZero() {
			continue
		}
		edges = append(edges, edge{r.Start, 1}, edge{end, -1})
	}
	sort.Slice(edges, func(i, j int) bool {
		if edges[i].t.Equal(edges[j].t) {
			return edges[i].delta < edges[j].delta
		}
		return edges[i].t.Before(edges[j].t)
	})
	cur, peak := 0, 0
	for _, e := range edges {
		cur += e.delta
		peak = max(peak, cur)
	}
	return peak
}

// uniqueName is an Environment (or decoy) name no other run uses.
func uniqueName(tag string) string {
	b := make([]byte, 3)
	_, _ = rand.Read(b)
	return "e2e-" + tag + "-" + hex.EncodeToString(b)
}

func randByte() int {
	b := make([]byte, 1)
	_, _ = rand.Read(b)
	return int(b[0])
}

func dockerCtx() (context.Context, context.CancelFunc) {
	return context.WithTimeout(context.Background(), 2*time.Minute)
}

// inspect returns a container by name or ID; ok is false when it is gone.
func inspect(nameOrID string) (container.InspectResponse, bool) {
	GinkgoHelper()
	ctx, cancel := dockerCtx()
	defer cancel()
	res, err := dockerc().ContainerInspect(ctx, nameOrID, client.ContainerInspectOptions{})
	if err != nil && strings.Contains(strings.ToLower(err.Error()), "no such container") {
		return container.InspectResponse{}, false
	}
	Expect(err).NotTo(HaveOccurred())
	return res.Container, true
}

func mustInspect(nameOrID string) container.InspectResponse {
	GinkgoHelper()
	c, ok := inspect(nameOrID)
	Expect(ok).To(BeTrue(), "container %s does not exist", nameOrID)
	return c
}

// dockerTime parses Docker's RFC 3339 timestamps (zero for "never").
func dockerTime(s string) time.Time {
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil || t.Year() < 2000 {
		return time.Time{}
	}
	return t
}

// containersLabelled lists all containers (running or not) with every
// label given as key=value.
func containersLabelled(labels ...string) []container.Summary {
	GinkgoHelper()
	ctx, cancel := dockerCtx()
	defer cancel()
	f := make(client.Filters)
	f.Add("label", labels...)
	res, err := dockerc().ContainerList(ctx, client.ContainerListOptions{All: true, Filters: f})
	Expect(err).NotTo(HaveOccurred())
	return res.Items
}

// containersNamed lists all containers whose name starts with prefix.
func containersNamed(prefix string) []container.Summary {
	GinkgoHelper()
	ctx, cancel := dockerCtx()
	defer cancel()
	f := make(client.Filters)
	f.Add("name", "^/"+prefix)
	res, err := dockerc().ContainerList(ctx, client.ContainerListOptions{All: true, Filters: f})
	Expect(err).NotTo(HaveOccurred())
	var out []container.Summary
	for _, c := range res.Items {
		for _, n := range c.Names {
			if strings.HasPrefix(strings.TrimPrefix(n, "/"), prefix) {
				out = append(out, c)
				break
			}
		}
	}
	return out
}

// envContainers are the containers of env: those labelled for it (by the
// manager id, when given) and those with berth's name prefix (a container
// that lost its labels would still show).
func envContainers(env, id string) []container.Summary {
	GinkgoHelper()
	labels := []string{v1alpha1.LabelEnvironment + "=" + env}
	if id != "" {
		labels = append(labels, v1alpha1.LabelManagedBy+"="+id)
	}
	seen := map[string]bool{}
	var out []container.Summary
	for _, c := range append(containersLabelled(labels...), containersNamed(v1alpha1.ContainerName(env, ""))...) {
		if !seen[c.ID] {
			seen[c.ID] = true
			out = append(out, c)
		}
	}
	return out
}

// containerIDs maps service name → container ID for the containers of env
// that manager id owns, failing on two for one service.
func containerIDs(env, id string) map[string]string {
	GinkgoHelper()
	out := map[string]string{}
	for _, c := range containersLabelled(v1alpha1.LabelEnvironment+"="+env, v1alpha1.LabelManagedBy+"="+id) {
		svc := c.Labels[v1alpha1.LabelService]
		Expect(out).NotTo(HaveKey(svc), "two containers for service %s of %s", svc, env)
		out[svc] = c.ID
	}
	return out
}

func networkExists(name string) bool {
	GinkgoHelper()
	ctx, cancel := dockerCtx()
	defer cancel()
	_, err := dockerc().NetworkInspect(ctx, name, client.NetworkInspectOptions{})
	if err != nil && strings.Contains(strings.ToLower(err.Error()), "not found") {
		return false
	}
	Expect(err).NotTo(HaveOccurred())
	return true
}

func networkID(name string) string {
	GinkgoHelper()
	ctx, cancel := dockerCtx()
	defer cancel()
	res, err := dockerc().NetworkInspect(ctx, name, client.NetworkInspectOptions{})
	Expect(err).NotTo(HaveOccurred())
	return res.Network.ID
}

// envVolumes are the Docker volumes named like env's or labelled for it
// (a volume an older berth named berth-<env>-<volume> keeps its name).
func envVolumes(env string) []string {
	GinkgoHelper()
	ctx, cancel := dockerCtx()
	defer cancel()
	res, err := dockerc().VolumeList(ctx, client.VolumeListOptions{})
	Expect(err).NotTo(HaveOccurred())
	var out []string
	for _, v := range res.Items {
		if strings.HasPrefix(v.Name, v1alpha1.VolumeName(env, "")) || v.Labels[v1alpha1.LabelEnvironment] == env {
			out = append(out, v.Name)
		}
	}
	return out
}

// envNetworks are the Docker networks named like env's or labelled for it.
func envNetworks(env string) []string {
	GinkgoHelper()
	ctx, cancel := dockerCtx()
	defer cancel()
	res, err := dockerc().NetworkList(ctx, client.NetworkListOptions{})
	Expect(err).NotTo(HaveOccurred())
	var out []string
	for _, n := range res.Items {
		if n.Name == v1alpha1.NetworkName(env) || n.Labels[v1alpha1.LabelEnvironment] == env {
			out = append(out, n.Name)
		}
	}
	return out
}

// daemonKept holds the networks daemonKeeps confirmed, by name, for the
// suite's last check, whose manager may be gone by then.
var daemonKept sync.Map

// daemonKeeps reports whether network name is left only because the Docker
// daemon will not let it go: no container is attached to it, and m's log
// says berth finished a teardown without it, which berth does only after
// the daemon refused the removal for active endpoints with every container
// of the Environment gone and the stale endpoints it could name
// disconnected. Docker 20.10's libnetwork can leak a network's endpoint
// count when containers on it stop concurrently (seen on this machine: the
// network's endpoint_count record in the daemon's local-kv.db says 1 and no
// endpoint record exists, so there is nothing to disconnect); only a daemon
// restart clears it, and berth never restarts the daemon. Such a network is
// the daemon's leftover, reported by berth; any other network left fails.
func daemonKeeps(m *managerProcess, name string) bool {
	GinkgoHelper()
	if _, ok := daemonKept.Load(name); ok {
		return true
	}
	ctx, cancel := dockerCtx()
	defer cancel()
	res, err := dockerc().NetworkInspect(ctx, name, client.NetworkInspectOptions{})
	if err != nil || len(res.Network.Containers) > 0 {
		return false
	}
	if !strings.Contains(m.output.String(), "teardown finished without network "+name+" (") {
		return false
	}
	fmt.Fprintf(GinkgoWriter, "network %s is kept by the Docker daemon (active endpoints, no container; berth reported it and left it to the orphan collector)\n", name)
	daemonKept.Store(name, true)
	return true
}

// expectNothingLeft waits until env has no container of m, network or
// volume left in Docker.
func expectNothingLeft(m *managerProcess, envs ...string) {
	GinkgoHelper()
	id := m.identity()
	expectNoneLeft(m, func(env string) []container.Summary { return envContainers(env, id) }, envs...)
}

// expectNoneLeft is expectNothingLeft with the containers that count
// chosen by containers (e.g. any manager's but the decoys').
func expectNoneLeft(m *managerProcess, containers func(env string) []container.Summary, envs ...string) {
	GinkgoHelper()
	for _, env := range envs {
		Eventually(func(g Gomega) {
			var names []string
			for _, c := range containers(env) {
				names = append(names, c.Names...)
			}
			g.Expect(names).To(BeEmpty(), "containers of %s left behind", env)
			var nets []string
			for _, n := range envNetworks(env) {
				if !daemonKeeps(m, n) {
					nets = append(nets, n)
				}
			}
			g.Expect(nets).To(BeEmpty(), "network of %s left behind", env)
			g.Expect(envVolumes(env)).To(BeEmpty(), "volumes of %s left behind", env)
		}).WithTimeout(2 * time.Minute).WithPolling(time.Second).Should(Succeed())
	}
}

// eventRecorder follows the daemon's event stream from the moment it is
// created. A query of past events is not enough: the daemon only keeps its
// last 256 events, and this daemon is shared and busy.
type eventRecorder struct {
	cancel context.CancelFunc
	done   chan struct{}
	mu     sync.Mutex
	msgs   []events.Message
	err    error
}

// recordEvents starts recording the events matching filters (term=value
// pairs; Docker ORs values of one term and ANDs terms, except labels, which
// must all match). It stops when the spec ends.
func recordEvents(filters ...string) *eventRecorder {
	GinkgoHelper()
	f := make(client.Filters)
	for _, kv := range filters {
		k, v, _ := strings.Cut(kv, "=")
		f.Add(k, v)
	}
	ctx, cancel := context.WithCancel(context.Background())
	r := &eventRecorder{cancel: cancel, done: make(chan struct{})}
	since := time.Now()
	// Returns once the daemon has answered: from here on nothing is missed.
	res := dockerc().Events(ctx, client.EventsListOptions{
		Since:   fmt.Sprintf("%d.%09d", since.Unix(), since.Nanosecond()),
		Filters: f,
	})
	go func() {
		defer close(r.done)
		for {
			select {
			case m := <-res.Messages:
				r.mu.Lock()
				r.msgs = append(r.msgs, m)
				r.mu.Unlock()
			case err := <-res.Err:
				r.mu.Lock()
				if ctx.Err() == nil {
					r.err = err
				}
				r.mu.Unlock()
				return
			}
		}
	}()
	DeferCleanup(r.stop)
	return r
}

// events is what was recorded so far; it fails if the stream broke.
func (r *eventRecorder) events() []events.Message {
	GinkgoHelper()
	r.mu.Lock()
	defer r.mu.Unlock()
	Expect(r.err).NotTo(HaveOccurred(), "the Docker event stream broke")
	return append([]events.Message(nil), r.msgs...)
}

func (r *eventRecorder) stop() {
	r.cancel()
	<-r.done
}

func eventTime(m events.Message) time.Time { return time.Unix(0, m.TimeNano) }

// eventsOf picks one container's events of one action, in time order.
func eventsOf(msgs []events.Message, id string, action string) []events.Message {
	var out []events.Message
	for _, m := range msgs {
		if m.Actor.ID == id && string(m.Action) == action {
			out = append(out, m)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].TimeNano < out[j].TimeNano })
	return out
}

// logLineTime is the time Docker stamped on the first line of a
// container's output that contains substr.
func logLineTime(id, substr string) time.Time {
	GinkgoHelper()
	out, err := exec.Command("docker", "logs", "--timestamps", id).CombinedOutput()
	Expect(err).NotTo(HaveOccurred(), "docker logs %s: %s", id, out)
	for _, line := range strings.Split(string(out), "\n") {
		ts, rest, ok := strings.Cut(line, " ")
		if ok && strings.Contains(rest, substr) {
			t := dockerTime(ts)
			Expect(t.IsZero()).To(BeFalse(), "timestamp of %q", line)
			return t
		}
	}
	Fail(fmt.Sprintf("no line with %q in the logs of %s:\n%s", substr, id, out))
	return time.Time{}
}

// dockerCLI runs the docker CLI and returns its combined output.
func dockerCLI(args ...string) (string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	out, err := exec.CommandContext(ctx, "docker", args...).CombinedOutput()
	fmt.Fprintf(GinkgoWriter, "$ docker %s\n%s", strings.Join(args, " "), out)
	return strings.TrimSpace(string(out)), err
}

func mustDocker(args ...string) string {
	GinkgoHelper()
	out, err := dockerCLI(args...)
	Expect(err).NotTo(HaveOccurred(), "docker %v: %s", args, out)
	return out
}

// removeFromOutside deletes a berth container the way a user would, never
// forced: stop it, then remove it. berth may restart it in between (the
// first restart after an exit is immediate), so stop and remove again until
// the removal lands; the crash-loop back-off makes the second try stick.
func removeFromOutside(name string) {
	GinkgoHelper()
	Eventually(func() error {
		if _, err := dockerCLI("stop", "--timeout", "2", name); err != nil {
			return err
		}
		_, err := dockerCLI("rm", name)
		return err
	}).WithTimeout(time.Minute).WithPolling(200 * time.Millisecond).Should(Succeed())
}

// dockerInfoProbe runs `docker info` every interval until stopped, and
// reports how many calls answered and the failures.
type dockerInfoProbe struct {
	stop     chan struct{}
	done     chan struct{}
	mu       sync.Mutex
	ok       int
	failures []string
}

func startDockerInfoProbe(interval time.Duration) *dockerInfoProbe {
	p := &dockerInfoProbe{stop: make(chan struct{}), done: make(chan struct{})}
	go func() {
		defer close(p.done)
		for {
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			start := time.Now()
			out, err := exec.CommandContext(ctx, "docker", "info", "--format", "{{.ServerVersion}} {{.Containers}}").CombinedOutput()
			cancel()
			p.mu.Lock()
			if err != nil {
				p.failures = append(p.failures, fmt.Sprintf("%s: %v: %s", start.Format(time.TimeOnly), err, out))
			} else {
				p.ok++
			}
			p.mu.Unlock()
			select {
			case <-p.stop:
				return
			case <-time.After(interval):
			}
		}
	}()
	return p
}

func (p *dockerInfoProbe) finish() (int, []string) {
	close(p.stop)
	<-p.done
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.ok, p.failures
}

// decoys are Docker objects berth does not own, created before the
// controller specs run and checked after the last: berth must never stop
// or remove them, whatever their names or labels say.
type decoys struct {
	plain      string // a container without labels
	network    string // a network without labels
	foreign    []string
	foreignFor []string // the Environment each foreign decoy claims
}

func createDecoys(claimEnvs ...string) *decoys {
	GinkgoHelper()
	d := &decoys{plain: uniqueName("decoy"), network: uniqueName("decoy-net")}
	// An explicit subnet: Docker's default pools may be used up by others
	// on a shared daemon. Another network may hold a random pick; try a few.
	Eventually(func() error {
		_, err := dockerCLI("network", "create", "--subnet", fmt.Sprintf("10.198.%d.0/24", randByte()), d.network)
		return err
	}).WithTimeout(30 * time.Second).WithPolling(100 * time.Millisecond).Should(Succeed())
	mustDocker("run", "-d", "--name", d.plain, "--memory", "32m", "--network", d.network, testImage, "--http-port=0")
	for _, env := range claimEnvs {
		// Labelled as if berth made it, for an Environment of this suite,
		// but by another manager: only the identity decides ownership.
		name := uniqueName("decoy-foreign")
		runForeignDecoy(name, env)
		d.foreign = append(d.foreign, name)
		d.foreignFor = append(d.foreignFor, env)
	}
	return d
}

// runForeignDecoy runs a container called name on the main daemon,
// labelled as berth labels env's service web, but by another manager
// (someone-else): only the manager's identity decides ownership.
func runForeignDecoy(name, env string) {
	GinkgoHelper()
	mustDocker("run", "-d", "--name", name, "--memory", "32m",
		"--label", v1alpha1.LabelManagedBy+"=someone-else",
		"--label", v1alpha1.LabelEnvironment+"="+env,
		"--label", v1alpha1.LabelService+"=web",
		testImage, "--http-port=0")
}

// expectUntouched checks every decoy still exists and still runs the
// process it started with.
func (d *decoys) expectUntouched(started map[string]string) {
	GinkgoHelper()
	for _, name := range append([]string{d.plain}, d.foreign...) {
		c, ok := inspect(name)
		Expect(ok).To(BeTrue(), "decoy container %s was removed", name)
		Expect(c.State.Running).To(BeTrue(), "decoy container %s was stopped: %+v", name, c.State)
		Expect(c.State.StartedAt).To(Equal(started[name]), "decoy container %s was restarted", name)
	}
	Expect(networkExists(d.network)).To(BeTrue(), "decoy network %s was removed", d.network)
}

func (d *decoys) startTimes() map[string]string {
	GinkgoHelper()
	out := map[string]string{}
	for _, name := range append([]string{d.plain}, d.foreign...) {
		out[name] = mustInspect(name).State.StartedAt
	}
	return out
}

// cleanup removes the decoys the graceful way: stop, then plain remove.
func (d *decoys) cleanup() {
	for _, name := range append([]string{d.plain}, d.foreign...) {
		_, _ = dockerCLI("stop", "--timeout", "5", name)
		_, _ = dockerCLI("rm", name)
	}
	_, _ = dockerCLI("network", "rm", d.network)
}

// sweepLeftovers removes, gracefully, whatever berth objects of envs a
// failed spec left behind with no manager to tear them down: these are the
// suite's own test objects. Containers of other managers (the decoys) are
// left to the decoys' own cleanup.
func sweepLeftovers(envs []string) {
	for _, env := range envs {
		for _, c := range envContainers(env, "") {
			if !strings.HasPrefix(c.Labels[v1alpha1.LabelManagedBy], "berth-") {
				continue
			}
			fmt.Fprintf(GinkgoWriter, "sweeping leftover container %v\n", c.Names)
			_, _ = dockerCLI("stop", "--timeout", "5", c.ID)
			_, _ = dockerCLI("rm", c.ID)
		}
		for _, n := range envNetworks(env) {
			fmt.Fprintf(GinkgoWriter, "sweeping leftover network %s\n", n)
			_, _ = dockerCLI("network", "rm", n)
		}
		for _, v := range envVolumes(env) {
			fmt.Fprintf(GinkgoWriter, "sweeping leftover volume %s\n", v)
			_, _ = dockerCLI("volume", "rm", v)
		}
	}
}

// stopSecondDaemon stops a dockertest daemon and checks it took its own
// bridge with it and left docker0 (when there was one) where it was.
func stopSecondDaemon(d *dockertest.Daemon) {
	GinkgoHelper()
	_, docker0Err := net.InterfaceByName("docker0")
	bridge := d.Bridge
	Expect(d.Stop()).To(Succeed())
	_, err := net.InterfaceByName(bridge)
	Expect(err).To(HaveOccurred(), "bridge %s left after Stop", bridge)
	if docker0Err == nil {
		_, err := net.InterfaceByName("docker0")
		Expect(err).NotTo(HaveOccurred(), "docker0 is gone")
	}
}
