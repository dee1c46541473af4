package manager

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	coordinationv1 "k8s.io/api/coordination/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"

	"berth.dev/berth/apis/v1alpha1"
	"berth.dev/berth/client/clientset/versioned"
	"berth.dev/berth/internal/docker/faultproxy"
)

const leaderTestImage = "berth-testapp:dev"

// TestStandbyWritesNothingAndLeaderExitsOnLostLease runs one manager with
// --leader-elect on a real kube-apiserver and the real Docker Engine,
// reached through a recording proxy, while the test itself plays the
// other manager by writing the Lease:
//   - while someone else renews the Lease, the manager stands by: no
//     Docker write, no API write (no finalizer, no status), no container;
//   - once that holder stops renewing, the manager leads and converges;
//   - when the Lease is taken from it (not SIGTERM), Run returns
//     ErrLostLeadership, and its controllers no longer act: a service
//     added afterwards gets no container and Docker sees no write.
func TestStandbyWritesNothingAndLeaderExitsOnLostLease(t *testing.T) {
	if err := exec.Command("docker", "image", "inspect", leaderTestImage).Run(); err != nil {
		t.Skipf("no %s image (make images): %v", leaderTestImage, err)
	}
	ctx := context.Background()
	c := startCluster(t)
	kube := kubernetes.NewForConfigOrDie(c.RESTConfig())
	berth := versioned.NewForConfigOrDie(c.RESTConfig())
	host := "lost-lease-test-host"
	lease := LeaseName(host)

	proxyDir, err := os.MkdirTemp("", "berth-leader-proxy") // a short unix socket path
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = os.RemoveAll(proxyDir) })
	proxy, err := faultproxy.Start(dockerSocket(), proxyDir)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = proxy.Close() })

	options := func(dockerHost string) Options {
		o := DefaultOptions()
		o.DataDir, o.Kubeconfig, o.DashboardListen, o.Host = t.TempDir(), c.Kubeconfig, "127.0.0.1:0", host
		o.DefaultMemoryLimit, o.DefaultMemoryReservation = "32Mi", "16Mi"
		if dockerHost != "" {
			o.Docker.Host = dockerHost
		}
		o.LeaderElection.Enabled = true
		o.LeaderElection.LeaseDuration, o.LeaderElection.RenewDeadline, o.LeaderElection.RetryPeriod = 4*time.Second, 3*time.Second, 500*time.Millisecond
		return o
	}

	// Someone else holds the Lease from the start. Every holder the test
	// plays stops before the cleanup's leader campaigns.
	var holders []func()
	hold := func(who string) func() {
		stop := holdLease(t, kube, lease, who)
		holders = append(holders, stop)
		return stop
	}
	stopHolding := hold("someone-else")
	m, err := Start(ctx, options(proxy.Host()))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = m.Stop() })
	name := "lost-lease"
	env := &v1alpha1.Environment{ObjectMeta: metav1.ObjectMeta{Name: name}, Spec: v1alpha1.EnvironmentSpec{
		Services: []v1alpha1.Service{{Name: "api", Image: leaderTestImage, ImagePullPolicy: v1alpha1.PullIfNotPresent}}}}
	if _, err := berth.BerthV1alpha1().Environments().Create(ctx, env, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	// Whatever happens, a leader of this host tears the Environment down.
	t.Cleanup(func() {
		for _, stop := range holders {
			stop()
		}
		tearDownWithNewLeader(t, berth, options(""), name)
	})

	// Longer than the lease duration: a renewed Lease is not taken.
	time.Sleep(6 * time.Second)
	if w := dockerWrites(proxy.Requests()); len(w) > 0 {
		t.Errorf("the standby wrote to Docker: %v", w)
	}
	got, err := berth.BerthV1alpha1().Environments().Get(ctx, name, metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if len(got.Finalizers) > 0 || got.Status.Phase != "" {
		t.Errorf("the standby wrote the Environment: finalizers %v, phase %q", got.Finalizers, got.Status.Phase)
	}
	if cs := containersOf(t, name); len(cs) > 0 {
		t.Errorf("containers made while standing by: %v", cs)
	}

	// The holder goes quiet: the manager takes over and converges.
	stopHolding()
	waitUntil(t, 3*time.Minute, "Environment Ready under the new leader", func() bool {
		e, err := berth.BerthV1alpha1().Environments().Get(ctx, name, metav1.GetOptions{})
		return err == nil && e.Status.Phase == v1alpha1.PhaseReady
	})
	if cs := containersOf(t, name); len(cs) != 1 {
		t.Fatalf("containers after converge: %v, want one", cs)
	}

	// The Lease is taken away while the manager runs.
	stopHolding = hold("usurper")
	select {
	case <-m.Done():
	case <-time.After(time.Minute):
		t.Fatal("the manager still runs a minute after its Lease was taken")
	}
	err = m.Stop()
	if !errors.Is(err, ErrLostLeadership) || !strings.Contains(err.Error(), "lost the leader lease") {
		t.Fatalf("Run returned %v, want ErrLostLeadership", err)
	}
	// Its controllers are gone: a new service gets no container, and the
	// proxy sees no write.
	seen := len(proxy.Requests())
	got, err = berth.BerthV1alpha1().Environments().Get(ctx, name, metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	got.Spec.Services = append(got.Spec.Services, v1alpha1.Service{Name: "late", Image: leaderTestImage})
	if _, err := berth.BerthV1alpha1().Environments().Update(ctx, got, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	time.Sleep(5 * time.Second)
	if w := dockerWrites(proxy.Requests()[seen:]); len(w) > 0 {
		t.Errorf("Docker writes after the lease was lost: %v", w)
	}
	if cs := containersOf(t, name); len(cs) != 1 {
		t.Errorf("containers after the lease was lost: %v, want the one made before", cs)
	}
	stopHolding()
}

// holdLease makes holder the Lease's holder, renewing it every 300 ms as
// a live leader would, until the returned stop is called (idempotent).
func holdLease(t *testing.T, kube kubernetes.Interface, name, holder string) (stop func()) {
	t.Helper()
	done := make(chan struct{})
	var wg sync.WaitGroup
	renew := func() error {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		now := metav1.NewMicroTime(time.Now())
		seconds := int32(4)
		leases := kube.CoordinationV1().Leases("default")
		l, err := leases.Get(ctx, name, metav1.GetOptions{})
		if apierrors.IsNotFound(err) {
			_, err = leases.Create(ctx, &coordinationv1.Lease{
				ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: "default"},
				Spec: coordinationv1.LeaseSpec{HolderIdentity: &holder, LeaseDurationSeconds: &seconds,
					AcquireTime: &now, RenewTime: &now},
			}, metav1.CreateOptions{})
			return err
		}
		if err != nil {
			return err
		}
		if l.Spec.HolderIdentity == nil || *l.Spec.HolderIdentity != holder {
			l.Spec.AcquireTime = &now
		}
		l.Spec.HolderIdentity, l.Spec.LeaseDurationSeconds, l.Spec.RenewTime = &holder, &seconds, &now
		_, err = leases.Update(ctx, l, metav1.UpdateOptions{})
		return err
	}
	// The first write must succeed, so the caller knows it holds it.
	waitUntil(t, 30*time.Second, "the test holds the Lease", func() bool { return renew() == nil })
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			select {
			case <-done:
				return
			case <-time.After(300 * time.Millisecond):
				_ = renew() // a conflict with the manager's own write: next round
			}
		}
	}()
	var once sync.Once
	return func() { once.Do(func() { close(done); wg.Wait() }) }
}

// tearDownWithNewLeader starts a manager of the same host, which leads
// once the Lease is free, deletes the Environment and waits until the
// finalizer let it go.
func tearDownWithNewLeader(t *testing.T, berth versioned.Interface, o Options, name string) {
	ctx := context.Background()
	m, err := Start(ctx, o)
	if err != nil {
		t.Errorf("cleanup manager: %v", err)
		return
	}
	defer m.Stop()
	if err := berth.BerthV1alpha1().Environments().Delete(ctx, name, metav1.DeleteOptions{}); err != nil && !apierrors.IsNotFound(err) {
		t.Errorf("delete %s: %v", name, err)
		return
	}
	waitUntil(t, 3*time.Minute, "the Environment torn down", func() bool {
		_, err := berth.BerthV1alpha1().Environments().Get(ctx, name, metav1.GetOptions{})
		return apierrors.IsNotFound(err)
	})
	if cs := containersOf(t, name); len(cs) > 0 {
		t.Errorf("containers left after delete: %v", cs)
	}
}

func waitUntil(t *testing.T, timeout time.Duration, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(timeout); !cond(); time.Sleep(200 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %s waiting for %s", timeout, what)
		}
	}
}

// containersOf are the names of env's containers (any state), by label.
func containersOf(t *testing.T, env string) []string {
	t.Helper()
	out, err := exec.Command("docker", "ps", "-a", "--filter", "label="+v1alpha1.LabelEnvironment+"="+env, "--format", "{{.Names}}").Output()
	if err != nil {
		t.Fatalf("docker ps: %v", err)
	}
	return strings.Fields(string(out))
}

// dockerWrites are the requests that change something in Docker.
func dockerWrites(rec []faultproxy.Request) []string {
	var out []string
	for _, r := range rec {
		if r.Method != "GET" && r.Method != "HEAD" {
			out = append(out, r.Method+" "+r.URI)
		}
	}
	return out
}

func dockerSocket() string {
	if h := os.Getenv("DOCKER_HOST"); strings.HasPrefix(h, "unix://") {
		return strings.TrimPrefix(h, "unix://")
	}
	return filepath.Join("/var/run", "docker.sock")
}
