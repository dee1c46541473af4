package manager

import (
	"context"
	"fmt"
	"testing"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"berth.dev/berth/apis/v1alpha1"
	"berth.dev/berth/client/clientset/versioned"
	"berth.dev/berth/internal/apimetrics"
)

// TestTeardownWrites counts the manager's writes of a teardown on the real
// API server and Docker Engine. One whose containers exit on SIGTERM is
// over before its Terminating notice: the finalizer's release is its only
// write. One whose container waits out an 8 s grace period reads
// Terminating (Ready False, TearingDown) while it runs: one status write,
// then the release.
func TestTeardownWrites(t *testing.T) {
	ctx := context.Background()
	m, err := Start(ctx, testOptions(t))
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = m.Stop() }()
	cs := versioned.NewForConfigOrDie(m.RESTConfig())
	envs := cs.BerthV1alpha1().Environments()
	suffix := fmt.Sprint(time.Now().UnixNano() % 1e6)
	quick, slow := "quick-"+suffix, "slow-"+suffix
	grace := int64(8)
	for name, args := range map[string][]string{quick: {"--http-port=0"}, slow: {"--http-port=0", "--ignore-sigterm"}} {
		e := &v1alpha1.Environment{ObjectMeta: metav1.ObjectMeta{Name: name}, Spec: v1alpha1.EnvironmentSpec{
			Services: []v1alpha1.Service{{Name: "web", Image: "berth-testapp:dev", ImagePullPolicy: v1alpha1.PullNever,
				Args: args, TerminationGracePeriodSeconds: &grace}}}}
		if _, err := envs.Create(ctx, e, metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	defer func() {
		// Before the manager stops: a failed run leaves no container.
		_ = envs.Delete(ctx, quick, metav1.DeleteOptions{})
		_ = envs.Delete(ctx, slow, metav1.DeleteOptions{})
		waitUntil(t, 60*time.Second, "all gone", func() bool {
			l, err := envs.List(ctx, metav1.ListOptions{})
			return err == nil && len(l.Items) == 0
		})
	}()
	get := func(name string) (*v1alpha1.Environment, bool) {
		e, err := envs.Get(ctx, name, metav1.GetOptions{})
		if apierrors.IsNotFound(err) {
			return nil, false
		}
		if err != nil {
			t.Fatalf("get %s: %v", name, err)
		}
		return e, true
	}
	for _, name := range []string{quick, slow} {
		waitUntil(t, 90*time.Second, name+" Ready", func() bool {
			e, _ := get(name)
			return e != nil && meta.IsStatusConditionTrue(e.Status.Conditions, v1alpha1.ConditionReady)
		})
	}
	requests := func() map[string]float64 {
		r, err := apimetrics.Read(ctx, cs.Discovery().RESTClient(), "environments")
		if err != nil {
			t.Fatal(err)
		}
		return r
	}
	// Each request to the server passes through this test or the
	// manager; only the manager writes besides the deletes below.
	before := requests()
	if err := envs.Delete(ctx, quick, metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	waitUntil(t, 60*time.Second, quick+" gone", func() bool { _, ok := get(quick); return !ok })
	after := requests()
	if d := after["PUT status 200"] - before["PUT status 200"]; d != 0 {
		t.Errorf("the quick teardown wrote its status %v times, want 0 (the release alone)", d)
	}
	if d := after["PUT - 200"] - before["PUT - 200"]; d != 1 {
		t.Errorf("the quick teardown made %v object updates, want 1 (the finalizer's release)", d)
	}

	before = after
	if err := envs.Delete(ctx, slow, metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	sawTerminating := false
	waitUntil(t, 60*time.Second, slow+" gone", func() bool {
		e, ok := get(slow)
		if ok && e.Status.Phase == v1alpha1.PhaseTerminating {
			r := meta.FindStatusCondition(e.Status.Conditions, v1alpha1.ConditionReady)
			sawTerminating = sawTerminating || (r != nil && r.Status == metav1.ConditionFalse && r.Reason == "TearingDown")
		}
		return !ok
	})
	if !sawTerminating {
		t.Error("the teardown waiting out its grace period never read Terminating with Ready False, TearingDown")
	}
	after = requests()
	if d := after["PUT status 200"] - before["PUT status 200"]; d != 1 {
		t.Errorf("the slow teardown wrote its status %v times, want 1 (the Terminating notice)", d)
	}
	if d := after["PUT - 200"] - before["PUT - 200"]; d != 1 {
		t.Errorf("the slow teardown made %v object updates, want 1 (the finalizer's release)", d)
	}
}
