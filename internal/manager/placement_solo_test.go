package manager

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"berth.dev/berth/apis/v1alpha1"
	"berth.dev/berth/client/clientset/versioned"
)

// TestSoloManagerPlacesItself runs one manager on its embedded API server
// and the local Docker Engine: an unpinned Environment is bound to its
// --host and converges; one pinned to another host stays unconverged,
// Ready=Unknown HostUnreachable, and deletes without a manager of its own.
func TestSoloManagerPlacesItself(t *testing.T) {
	ctx := context.Background()
	o := testOptions(t)
	o.Host = "solo-host"
	m, err := Start(ctx, o)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = m.Stop() }()
	envs := versioned.NewForConfigOrDie(m.RESTConfig()).BerthV1alpha1().Environments()
	suffix := fmt.Sprint(time.Now().UnixNano() % 1e6)
	here, elsewhere := "here-"+suffix, "there-"+suffix
	for name, host := range map[string]string{here: "", elsewhere: "other-host"} {
		e := &v1alpha1.Environment{ObjectMeta: metav1.ObjectMeta{Name: name}, Spec: v1alpha1.EnvironmentSpec{Host: host,
			Services: []v1alpha1.Service{{Name: "web", Image: "berth-testapp:dev", ImagePullPolicy: v1alpha1.PullNever}}}}
		if _, err := envs.Create(ctx, e, metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	defer func() {
		// Before the manager stops: a failed run leaves no container.
		_ = envs.Delete(ctx, here, metav1.DeleteOptions{})
		_ = envs.Delete(ctx, elsewhere, metav1.DeleteOptions{})
		for deadline := time.Now().Add(60 * time.Second); time.Now().Before(deadline); time.Sleep(250 * time.Millisecond) {
			if l, err := envs.List(ctx, metav1.ListOptions{}); err == nil && len(l.Items) == 0 {
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
	waitUntil(t, 90*time.Second, here+" Ready", func() bool { return meta.IsStatusConditionTrue(get(here).Status.Conditions, v1alpha1.ConditionReady) })
	if h := get(here).Status.Host; h != "solo-host" {
		t.Fatalf("%s bound to %q, want solo-host", here, h)
	}
	waitUntil(t, 90*time.Second, elsewhere+" HostUnreachable", func() bool {
		r := meta.FindStatusCondition(get(elsewhere).Status.Conditions, v1alpha1.ConditionReady)
		return r != nil && r.Status == metav1.ConditionUnknown && r.Reason == v1alpha1.ReasonHostUnreachable &&
			strings.Contains(r.Message, "no manager serves host other-host")
	})
	e := get(elsewhere)
	if e.Status.Host != "" || len(e.Status.Services) != 0 {
		t.Errorf("%s pinned to another host was bound or converged: host %q, services %v", elsewhere, e.Status.Host, e.Status.Services)
	}
	for _, n := range []string{here, elsewhere} {
		if err := envs.Delete(ctx, n, metav1.DeleteOptions{}); err != nil {
			t.Fatal(err)
		}
		waitUntil(t, 90*time.Second, n+" deleted", func() bool {
			_, err := envs.Get(ctx, n, metav1.GetOptions{})
			return apierrors.IsNotFound(err)
		})
	}
}
