package kubetest

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"berth.dev/berth/apis/v1alpha1"
	"berth.dev/berth/client/clientset/versioned"
)

// TestClusterServesBerth starts a real etcd + kube-apiserver, checks the
// CRDs serve Environments the way a cluster does (no finalizer added,
// status only through its subresource, the schema enforced), then that
// Stop leaves no process and no data behind.
func TestClusterServesBerth(t *testing.T) {
	if _, _, err := Binaries(); errors.Is(err, ErrNoBinaries) {
		t.Skip("no kube-apiserver built: run hack/ensure-kube-apiserver.sh or set " + EnvAPIServer)
	} else if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	dir := t.TempDir() + "/cluster"
	c, err := Start(ctx, Options{Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	stopped := false
	defer func() {
		if !stopped {
			_ = c.Stop()
		}
	}()
	t.Logf("etcd + kube-apiserver + CRDs ready in %s", c.Started.Round(time.Millisecond))

	cs, err := versioned.NewForConfig(c.RESTConfig())
	if err != nil {
		t.Fatal(err)
	}
	envs := cs.BerthV1alpha1().Environments()
	env := &v1alpha1.Environment{
		ObjectMeta: metav1.ObjectMeta{Name: "kubetest"},
		Spec:       v1alpha1.EnvironmentSpec{Services: []v1alpha1.Service{{Name: "api", Image: "berth-testapp:dev"}}},
	}
	got, err := envs.Create(ctx, env, metav1.CreateOptions{})
	if err != nil {
		t.Fatalf("create: %v", err)
	}
	if len(got.Finalizers) != 0 || got.Generation != 1 {
		t.Errorf("finalizers %v generation %d: a cluster adds no finalizer and starts at 1", got.Finalizers, got.Generation)
	}
	got.Status.Phase = v1alpha1.PhaseReady
	if got, err = envs.UpdateStatus(ctx, got, metav1.UpdateOptions{}); err != nil || got.Status.Phase != v1alpha1.PhaseReady {
		t.Fatalf("status update: %v (phase %q)", err, got.Status.Phase)
	}
	bad := env.DeepCopy()
	bad.Name = "kubetest-bad"
	bad.Spec.Services[0].RestartPolicy = "Sometimes"
	if _, err := envs.Create(ctx, bad, metav1.CreateOptions{}); err == nil {
		t.Error("the CRD schema let restartPolicy Sometimes through")
	}

	// The schema is no stricter than berth: every sample is admitted.
	samples, _ := filepath.Glob("../../config/samples/*.yaml")
	if len(samples) == 0 {
		t.Fatal("no samples found")
	}
	for _, path := range samples {
		b, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		decoded, err := v1alpha1.DecodeEnvironments(b)
		if err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		for _, e := range decoded {
			if _, err := envs.Create(ctx, e, metav1.CreateOptions{DryRun: []string{metav1.DryRunAll}}); err != nil {
				t.Errorf("%s: the CRD refuses sample %s: %v", path, e.Name, err)
			}
		}
	}

	pids := []int{c.api.cmd.Process.Pid, c.etcd.cmd.Process.Pid}
	if err := c.Stop(); err != nil {
		t.Fatal(err)
	}
	stopped = true
	for _, pid := range pids {
		if err := syscall.Kill(pid, 0); err == nil {
			t.Errorf("process %d still runs after Stop", pid)
		}
	}
	if _, err := os.Stat(dir); !os.IsNotExist(err) {
		t.Errorf("%s still exists after Stop (%v)", dir, err)
	}
}
