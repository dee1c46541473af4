package lease

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/go-logr/logr"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"berth.dev/berth/apis/v1alpha1"
	"berth.dev/berth/client/clientset/versioned"
	"berth.dev/berth/internal/apiserver"
)

// startServer runs berth's real API server (embedded etcd) with no
// controller: the holder's side alone.
func startServer(t *testing.T) versioned.Interface {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	s, err := apiserver.New(ctx, apiserver.Options{DataDir: t.TempDir(), ListenAddress: "127.0.0.1:0", Log: logr.Discard()})
	if err != nil {
		cancel()
		t.Fatalf("New: %v", err)
	}
	done := make(chan error, 1)
	ready := make(chan struct{})
	go func() { done <- s.Run(ctx, func() { close(ready) }) }()
	t.Cleanup(func() {
		cancel()
		<-done
	})
	select {
	case <-ready:
	case err := <-done:
		t.Fatalf("Run: %v", err)
	case <-time.After(90 * time.Second):
		t.Fatal("API server not ready in 90s")
	}
	cs, err := versioned.NewForConfig(s.RESTConfig())
	if err != nil {
		t.Fatal(err)
	}
	return cs
}

func createEnv(t *testing.T, cs versioned.Interface, name string, mutate func(*v1alpha1.Environment)) *v1alpha1.Environment {
	t.Helper()
	env := &v1alpha1.Environment{ObjectMeta: metav1.ObjectMeta{Name: name},
		Spec: v1alpha1.EnvironmentSpec{Services: []v1alpha1.Service{{Name: "web", Image: "berth-testapp:dev"}}}}
	if mutate != nil {
		mutate(env)
	}
	created, err := cs.BerthV1alpha1().Environments().Create(context.Background(), env, metav1.CreateOptions{})
	if err != nil {
		t.Fatalf("create %s: %v", name, err)
	}
	return created
}

// eventually polls cond until it holds; the bound only ends a broken test.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("%s: not within 60s", what)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func TestHoldAgainstTheAPIServer(t *testing.T) {
	cs := startServer(t)
	ctx := context.Background()
	envs, leases := cs.BerthV1alpha1().Environments(), cs.BerthV1alpha1().EnvironmentLeases()

	t.Run("the API refuses a bad binding with its field path", func(t *testing.T) {
		env := &v1alpha1.Environment{ObjectMeta: metav1.ObjectMeta{Name: "bad"},
			Spec: v1alpha1.EnvironmentSpec{Services: []v1alpha1.Service{{Name: "web", Image: "x"}},
				Lease: &v1alpha1.LeaseBinding{HolderIdentity: "h", DurationSeconds: 3}}}
		_, err := envs.Create(ctx, env, metav1.CreateOptions{})
		if !apierrors.IsInvalid(err) || !strings.Contains(err.Error(), "spec.lease.durationSeconds") {
			t.Fatalf("got %v, want an Invalid error naming spec.lease.durationSeconds", err)
		}
	})

	t.Run("Hold binds, renews, refuses a second holder; Stop releases", func(t *testing.T) {
		env := createEnv(t, cs, "held", nil)
		if _, err := Hold(ctx, cs, "held", "a", time.Second); err == nil || !strings.Contains(err.Error(), "between 5s and 86400s") {
			t.Fatalf("a 1s lease: got %v", err)
		}
		h, err := Hold(ctx, cs, "held", "a", 6*time.Second)
		if err != nil {
			t.Fatal(err)
		}
		bound, err := envs.Get(ctx, "held", metav1.GetOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if l := bound.Spec.Lease; l == nil || l.HolderIdentity != "a" || l.DurationSeconds != 6 {
			t.Fatalf("spec.lease = %+v, want a/6", l)
		}
		if bound.Generation != env.Generation+1 {
			t.Errorf("binding: generation %d, want %d", bound.Generation, env.Generation+1)
		}
		rec, err := leases.Get(ctx, "held", metav1.GetOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if rec.Spec.HolderIdentity != "a" || len(rec.OwnerReferences) != 1 || rec.OwnerReferences[0].UID != env.UID {
			t.Fatalf("record %+v", rec)
		}
		first := rec.Spec.RenewTime.Time
		eventually(t, "a renewal", func() bool {
			r, err := leases.Get(ctx, "held", metav1.GetOptions{})
			return err == nil && r.Spec.RenewTime.After(first) && r.Spec.AcquireTime.Equal(rec.Spec.AcquireTime)
		})
		after, err := envs.Get(ctx, "held", metav1.GetOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if after.Generation != bound.Generation || after.ResourceVersion != bound.ResourceVersion {
			t.Errorf("a renewal changed the Environment: generation %d→%d, resourceVersion %s→%s",
				bound.Generation, after.Generation, bound.ResourceVersion, after.ResourceVersion)
		}
		if _, err := Hold(ctx, cs, "held", "b", 6*time.Second); err == nil || !strings.Contains(err.Error(), `held by "a"`) {
			t.Fatalf("second holder: got %v, want held by \"a\"", err)
		}

		if err := h.Stop(); err != nil {
			t.Fatal(err)
		}
		released, err := envs.Get(ctx, "held", metav1.GetOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if released.Spec.Lease != nil {
			t.Errorf("after Stop: spec.lease = %+v", released.Spec.Lease)
		}
		if _, err := leases.Get(ctx, "held", metav1.GetOptions{}); !apierrors.IsNotFound(err) {
			t.Errorf("after Stop: record still there (%v)", err)
		}
		if err := h.Stop(); err != nil {
			t.Errorf("second Stop: %v", err)
		}
		select {
		case <-h.Expired():
			t.Error("a released lease is not lost")
		default:
		}
	})

	t.Run("a bound Environment's holder resumes; Expired closes when the Environment goes", func(t *testing.T) {
		env := createEnv(t, cs, "gone", func(e *v1alpha1.Environment) { Bind(e, "c", 5500*time.Millisecond) })
		if env.Spec.Lease.DurationSeconds != 6 {
			t.Fatalf("Bind rounds up: got %d", env.Spec.Lease.DurationSeconds)
		}
		h, err := Hold(ctx, cs, "gone", "c", 6*time.Second)
		if err != nil {
			t.Fatal(err)
		}
		defer h.Stop()
		if again, _ := envs.Get(ctx, "gone", metav1.GetOptions{}); again.Generation != env.Generation {
			t.Errorf("Hold on an Environment bound by Bind wrote its spec: generation %d→%d", env.Generation, again.Generation)
		}
		// What the controller does at the end of a teardown: the record,
		// then the Environment (its finalizer released) go.
		if err := leases.Delete(ctx, "gone", metav1.DeleteOptions{}); err != nil {
			t.Fatal(err)
		}
		if err := envs.Delete(ctx, "gone", metav1.DeleteOptions{}); err != nil {
			t.Fatal(err)
		}
		cur, err := envs.Get(ctx, "gone", metav1.GetOptions{})
		if err != nil {
			t.Fatal(err)
		}
		cur.Finalizers = nil
		if _, err := envs.Update(ctx, cur, metav1.UpdateOptions{}); err != nil {
			t.Fatal(err)
		}
		select {
		case <-h.Expired():
		case <-time.After(60 * time.Second):
			t.Fatal("Expired not closed within 60s of the Environment going")
		}
		if err := h.Err(); !errors.Is(err, ErrLost) || !strings.Contains(err.Error(), "the Environment is gone") {
			t.Errorf("Err = %v", err)
		}
		if err := h.Stop(); err != nil {
			t.Errorf("Stop after loss: %v", err)
		}
	})

	t.Run("a cancelled context stops renewing without releasing", func(t *testing.T) {
		createEnv(t, cs, "crash", nil)
		hctx, cancel := context.WithCancel(ctx)
		if _, err := Hold(hctx, cs, "crash", "d", 6*time.Second); err != nil {
			t.Fatal(err)
		}
		cancel()
		rec, err := leases.Get(ctx, "crash", metav1.GetOptions{})
		if err != nil {
			t.Fatal(err)
		}
		// Two renewal periods later, nothing has been written.
		time.Sleep(4 * time.Second)
		later, err := leases.Get(ctx, "crash", metav1.GetOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if later.ResourceVersion != rec.ResourceVersion {
			t.Errorf("renewed after its context ended: %s → %s", rec.ResourceVersion, later.ResourceVersion)
		}
		env, err := envs.Get(ctx, "crash", metav1.GetOptions{})
		if err != nil || env.Spec.Lease == nil || env.Spec.Lease.HolderIdentity != "d" {
			t.Errorf("the binding must stay for the manager to expire: %+v %v", env.Spec.Lease, err)
		}
	})
}
