package manager

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/go-logr/logr"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"

	"berth.dev/berth/apis/v1alpha1"
	"berth.dev/berth/client/clientset/versioned"
	informers "berth.dev/berth/client/informers/externalversions"
	"berth.dev/berth/controllers/plan"
	"berth.dev/berth/internal/docker"
)

// TestPlacementAcrossHosts runs two managers of two hosts on a real
// kube-apiserver (both on the one local Docker daemon, with their own
// identities): a pinned Environment lands on its host, an unpinned one on
// the host with more free budget, and stopping a host's manager turns its
// Environments Ready=Unknown (HostUnreachable) without moving them.
func TestPlacementAcrossHosts(t *testing.T) {
	ctx := context.Background()
	c := startCluster(t)
	start := func(dir, host, budget string) *Manager {
		o := DefaultOptions()
		o.DataDir, o.Kubeconfig, o.DashboardListen, o.Host = dir, c.Kubeconfig, "127.0.0.1:0", host
		o.MemoryBudget, o.HostGrace = budget, 3*time.Second
		o.LeaderElection.LeaseDuration, o.LeaderElection.RenewDeadline, o.LeaderElection.RetryPeriod = 4*time.Second, 3*time.Second, 500*time.Millisecond
		m, err := Start(ctx, o)
		if err != nil {
			t.Fatal(err)
		}
		return m
	}
	dirA, dirB := filepath.Join(t.TempDir(), "a"), filepath.Join(t.TempDir(), "b")
	a := start(dirA, "host-a", "1Gi")
	defer func() { _ = a.Stop() }()
	b := start(dirB, "host-b", "2Gi")
	bStopped := false
	defer func() {
		if !bStopped {
			_ = b.Stop()
		}
	}()
	idA, _ := docker.LoadOrCreateIdentity(dirA)

	envs := versioned.NewForConfigOrDie(c.RESTConfig()).BerthV1alpha1().Environments()
	suffix := fmt.Sprint(time.Now().UnixNano() % 1e6)
	mk := func(name, host string) *v1alpha1.Environment {
		return &v1alpha1.Environment{
			ObjectMeta: metav1.ObjectMeta{Name: name},
			Spec: v1alpha1.EnvironmentSpec{Host: host, Services: []v1alpha1.Service{{
				Name: "web", Image: "berth-testapp:dev", ImagePullPolicy: v1alpha1.PullNever,
			}}},
		}
	}
	pinned, unpinned, late := "pin-"+suffix, "free-"+suffix, "late-"+suffix
	for _, e := range []*v1alpha1.Environment{mk(pinned, "host-a"), mk(unpinned, "")} {
		if _, err := envs.Create(ctx, e, metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	defer func() {
		// Before the managers stop (defers run last first): a failed
		// run must not leave containers behind.
		for _, n := range []string{pinned, unpinned, late} {
			_ = envs.Delete(ctx, n, metav1.DeleteOptions{})
		}
		for deadline := time.Now().Add(60 * time.Second); time.Now().Before(deadline); time.Sleep(250 * time.Millisecond) {
			l, err := envs.List(ctx, metav1.ListOptions{})
			if err == nil && len(l.Items) == 0 {
				return
			}
		}
	}()
	get := func(name string) *v1alpha1.Environment {
		e, err := envs.Get(ctx, name, metav1.GetOptions{})
		if err != nil {
			t.Fatalf("get %s: %v", name, err)
		}
		return e
	}
	eventually := func(what string, cond func() bool) { t.Helper(); waitUntil(t, 90*time.Second, what, cond) }
	ready := func(name string) func() bool {
		return func() bool { return meta.IsStatusConditionTrue(get(name).Status.Conditions, v1alpha1.ConditionReady) }
	}

	eventually(pinned+" Ready", ready(pinned))
	if h := get(pinned).Status.Host; h != "host-a" {
		t.Fatalf("pinned Environment bound to %q, want host-a", h)
	}
	// Its container is host-a's manager's.
	dA, err := docker.New(docker.Config{Host: docker.DefaultConfig().Host, ManagerID: idA})
	if err != nil {
		t.Fatal(err)
	}
	defer dA.Close()
	cts, err := dA.ListContainers(ctx)
	if err != nil {
		t.Fatal(err)
	}
	owned := 0
	for _, ct := range cts {
		if ct.Environment == pinned && ct.Labels[v1alpha1.LabelManagedBy] == idA {
			owned++
		}
		if ct.Environment == unpinned {
			t.Errorf("host-a's manager made a container of %s, bound elsewhere", unpinned)
		}
	}
	if owned != 1 {
		t.Fatalf("containers of %s owned by host-a's manager: %d, want 1", pinned, owned)
	}

	// host-b has more free budget (2Gi against 1Gi less the pinned one).
	eventually(unpinned+" Ready", ready(unpinned))
	if h := get(unpinned).Status.Host; h != "host-b" {
		t.Fatalf("unpinned Environment bound to %q, want host-b (more free budget)", h)
	}

	if err := b.Stop(); err != nil {
		t.Fatalf("stop host-b's manager: %v", err)
	}
	bStopped = true
	// Stopped, not gone silent: host-b's heartbeat says its budget is no
	// longer known, so a new Environment goes to host-a at once, though
	// host-b's last heartbeat is within the grace and had more room.
	if _, err := envs.Create(ctx, mk(late, ""), metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	eventually(late+" bound", func() bool { return get(late).Status.Host != "" })
	if h := get(late).Status.Host; h != "host-a" {
		t.Errorf("created after host-b's manager stopped, %s was bound to %q, want host-a", late, h)
	}
	eventually(unpinned+" HostUnreachable", func() bool {
		r := meta.FindStatusCondition(get(unpinned).Status.Conditions, v1alpha1.ConditionReady)
		return r != nil && r.Status == metav1.ConditionUnknown && r.Reason == v1alpha1.ReasonHostUnreachable
	})
	e := get(unpinned)
	if e.Status.Host != "host-b" {
		t.Errorf("after host-b went silent, %s is bound to %q: it must not move", unpinned, e.Status.Host)
	}
	t.Logf("Ready: %s", meta.FindStatusCondition(e.Status.Conditions, v1alpha1.ConditionReady).Message)
	if !meta.IsStatusConditionTrue(get(pinned).Status.Conditions, v1alpha1.ConditionReady) {
		t.Errorf("%s on the live host-a is no longer Ready", pinned)
	}

	// host-b's manager back: its own reconcile rewrites Ready; then both
	// are torn down by their own hosts' managers.
	b = start(dirB, "host-b", "2Gi")
	bStopped = false
	eventually(unpinned+" Ready again", ready(unpinned))
	for _, n := range []string{pinned, unpinned, late} {
		if err := envs.Delete(ctx, n, metav1.DeleteOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	for _, n := range []string{pinned, unpinned, late} {
		eventually(n+" deleted", func() bool {
			_, err := envs.Get(ctx, n, metav1.GetOptions{})
			return apierrors.IsNotFound(err)
		})
	}
}

// TestHostFieldsOnCluster checks the CRD's own rules for spec.host and
// status.host on a real kube-apiserver (no manager runs): the pattern,
// create-only spec.host, and status.host written once.
func TestHostFieldsOnCluster(t *testing.T) {
	ctx := context.Background()
	c := startCluster(t)
	envs := versioned.NewForConfigOrDie(c.RESTConfig()).BerthV1alpha1().Environments()
	mk := func(name, host string) *v1alpha1.Environment {
		return &v1alpha1.Environment{ObjectMeta: metav1.ObjectMeta{Name: name}, Spec: v1alpha1.EnvironmentSpec{Host: host,
			Services: []v1alpha1.Service{{Name: "web", Image: "berth-testapp:dev"}}}}
	}
	refused := func(what string, err error, want string) {
		t.Helper()
		if !apierrors.IsInvalid(err) || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: got %v, want Invalid naming %q", what, err, want)
		}
	}
	_, err := envs.Create(ctx, mk("bad-host", "Docker_2"), metav1.CreateOptions{})
	refused("create with host Docker_2", err, "spec.host")

	pinned, err := envs.Create(ctx, mk("pinned", "docker-2"), metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	moved := pinned.DeepCopy()
	moved.Spec.Host = "docker-3"
	_, err = envs.Update(ctx, moved, metav1.UpdateOptions{})
	refused("change spec.host", err, "spec.host may not be set, changed or removed after create")
	unpinned, err := envs.Create(ctx, mk("unpinned", ""), metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	added := unpinned.DeepCopy()
	added.Spec.Host = "docker-3"
	_, err = envs.Update(ctx, added, metav1.UpdateOptions{})
	refused("add spec.host", err, "spec.host may not be set, changed or removed after create")

	bound := unpinned.DeepCopy()
	bound.Status.Host = "docker-1"
	bound, err = envs.UpdateStatus(ctx, bound, metav1.UpdateOptions{})
	if err != nil {
		t.Fatalf("first binding refused: %v", err)
	}
	rebound := bound.DeepCopy()
	rebound.Status.Host = "docker-2"
	_, err = envs.UpdateStatus(ctx, rebound, metav1.UpdateOptions{})
	refused("rebind", err, "status.host may not change once set")
	unbound := bound.DeepCopy()
	unbound.Status.Host = ""
	_, err = envs.UpdateStatus(ctx, unbound, metav1.UpdateOptions{})
	refused("unbind", err, "status.host may not change once set")
}

// TestPlacementPass drives one placement pass at a time on a real
// kube-apiserver, with heartbeats written as a host's manager writes them
// and the pass's clock chosen: no live host leaves an Environment unbound
// (NoLiveHost); a live one gets it; the same host silent past the grace
// turns it HostUnreachable, still bound.
func TestPlacementPass(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	c := startCluster(t)
	cs := versioned.NewForConfigOrDie(c.RESTConfig())
	kube := kubernetes.NewForConfigOrDie(c.RESTConfig())
	factory := informers.NewSharedInformerFactory(cs, time.Minute)
	inf := factory.Berth().V1alpha1().Environments()
	informer := inf.Informer()
	factory.Start(ctx.Done())
	// Shutdown waits for the informers, which stop with ctx.
	defer func() { cancel(); factory.Shutdown() }()
	grace := 10 * time.Second
	p := &placer{envs: cs, kube: kube, lister: inf.Lister(), ns: "default", grace: grace,
		plan: plan.Options{DefaultMemoryLimit: 64 << 20, DefaultMemoryReservation: 32 << 20}, log: logr.Discard()}
	envs := cs.BerthV1alpha1().Environments()
	e := &v1alpha1.Environment{ObjectMeta: metav1.ObjectMeta{Name: "unplaced"},
		Spec: v1alpha1.EnvironmentSpec{Services: []v1alpha1.Service{{Name: "web", Image: "berth-testapp:dev"}}}}
	if _, err := envs.Create(ctx, e, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	cached := func(cond func(*v1alpha1.Environment) bool) *v1alpha1.Environment {
		t.Helper()
		var got *v1alpha1.Environment
		waitUntil(t, 90*time.Second, "the cache to see the write", func() bool {
			got, _ = p.lister.Get("unplaced")
			return informer.HasSynced() && got != nil && cond(got)
		})
		return got
	}
	ready := func(e *v1alpha1.Environment) *metav1.Condition {
		return meta.FindStatusCondition(e.Status.Conditions, v1alpha1.ConditionReady)
	}
	cached(func(*v1alpha1.Environment) bool { return true })

	if err := p.pass(ctx, time.Now()); err != nil {
		t.Fatal(err)
	}
	got := cached(func(e *v1alpha1.Environment) bool { return ready(e) != nil })
	if got.Status.Host != "" || ready(got).Reason != v1alpha1.ReasonNoLiveHost || ready(got).Status != metav1.ConditionUnknown {
		t.Fatalf("no host: bound to %q, Ready %+v", got.Status.Host, ready(got))
	}

	// Two heartbeats: docker-1 has 1Gi with 900Mi admitted, docker-2 512Mi.
	for _, h := range []struct {
		name             string
		budget, admitted int64
	}{{"docker-1", 1 << 30, 900 << 20}, {"docker-2", 512 << 20, 0}} {
		read := func() (int64, int64) { return h.budget, h.admitted }
		if err := renewHeartbeat(ctx, kube, "default", h.name, "manager-of-"+h.name, grace, read); err != nil {
			t.Fatal(err)
		}
	}
	if err := p.pass(ctx, time.Now()); err != nil {
		t.Fatal(err)
	}
	got = cached(func(e *v1alpha1.Environment) bool { return e.Status.Host != "" })
	if got.Status.Host != "docker-2" {
		t.Fatalf("bound to %q, want docker-2 (512Mi free against 124Mi)", got.Status.Host)
	}

	// docker-2 silent for longer than the grace.
	if err := p.pass(ctx, time.Now().Add(grace+5*time.Second)); err != nil {
		t.Fatal(err)
	}
	got = cached(func(e *v1alpha1.Environment) bool {
		return ready(e) != nil && ready(e).Reason == v1alpha1.ReasonHostUnreachable
	})
	if got.Status.Host != "docker-2" || ready(got).Status != metav1.ConditionUnknown ||
		!strings.Contains(ready(got).Message, "host docker-2 was last seen") {
		t.Fatalf("silent host: bound to %q, Ready %+v", got.Status.Host, ready(got))
	}
	l, err := kube.CoordinationV1().Leases("default").Get(ctx, HostLeaseName("docker-2"), metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if *l.Spec.HolderIdentity != "manager-of-docker-2" || *l.Spec.LeaseDurationSeconds != 10 ||
		l.Annotations[annotationBudgetBytes] != fmt.Sprint(512<<20) || l.Annotations[annotationAdmittedBytes] != "0" {
		t.Errorf("heartbeat Lease: holder %q, duration %d, annotations %v", *l.Spec.HolderIdentity, *l.Spec.LeaseDurationSeconds, l.Annotations)
	}
}
