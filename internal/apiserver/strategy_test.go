package apiserver

import (
	"context"
	"strings"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"berth.dev/berth/apis/v1alpha1"
)

func privilegedEnv() *v1alpha1.Environment {
	env := &v1alpha1.Environment{
		ObjectMeta: metav1.ObjectMeta{Name: "priv", ResourceVersion: "1"},
		Spec: v1alpha1.EnvironmentSpec{Services: []v1alpha1.Service{
			{Name: "plain", Image: "berth-testapp:dev"},
			{Name: "dind", Image: "berth-testapp:dev", Privileged: true},
		}},
	}
	v1alpha1.SetDefaults(env)
	return env
}

// TestStrategyRefusesPrivilegedWithoutTheFlag: admission, not the API's
// own validation, decides about privileged, from the manager's flag.
func TestStrategyRefusesPrivilegedWithoutTheFlag(t *testing.T) {
	ctx := context.Background()
	const want = "spec.services[1].privileged: Forbidden: the manager was not started with --allow-privileged"

	errs := newStrategy(v1alpha1.Policy{}).Validate(ctx, privilegedEnv())
	if len(errs) != 1 || errs.ToAggregate().Error() != want {
		t.Errorf("create without --allow-privileged: got %v, want %q", errs, want)
	}
	if errs := newStrategy(v1alpha1.Policy{AllowPrivileged: true}).Validate(ctx, privilegedEnv()); len(errs) != 0 {
		t.Errorf("create with --allow-privileged: %v", errs)
	}

	old := privilegedEnv()
	changed := privilegedEnv()
	changed.Spec.Services[0].Args = []string{"--verbose"}
	if errs := newStrategy(v1alpha1.Policy{}).ValidateUpdate(ctx, changed, old); len(errs) != 1 || errs.ToAggregate().Error() != want {
		t.Errorf("spec update without --allow-privileged: got %v, want %q", errs, want)
	}
	// A stored Environment admitted under --allow-privileged must still
	// let its finalizer go after a restart without the flag.
	meta := privilegedEnv()
	meta.Finalizers = nil
	old.Finalizers = []string{"berth.dev/teardown"}
	if errs := newStrategy(v1alpha1.Policy{}).ValidateUpdate(ctx, meta, old); len(errs) != 0 {
		t.Errorf("metadata-only update refused: %v", errs)
	}
}

// TestStrategyRefusesHostPathsOutsideTheRoots: a host path is admitted
// only under --allow-host-path, and a relative one is refused with the
// hint that `berth apply -f` resolves it.
func TestStrategyRefusesHostPathsOutsideTheRoots(t *testing.T) {
	ctx := context.Background()
	env := func(p string) *v1alpha1.Environment {
		e := &v1alpha1.Environment{
			ObjectMeta: metav1.ObjectMeta{Name: "hp", ResourceVersion: "1"},
			Spec: v1alpha1.EnvironmentSpec{
				Volumes: []v1alpha1.Volume{{Name: "conf", HostPath: &v1alpha1.HostPathVolumeSource{Path: p}}},
				Services: []v1alpha1.Service{{Name: "app", Image: "berth-testapp:dev",
					VolumeMounts: []v1alpha1.VolumeMount{{Name: "conf", MountPath: "/conf"}}}},
			},
		}
		v1alpha1.SetDefaults(e)
		return e
	}
	errs := newStrategy(v1alpha1.Policy{}).Validate(ctx, env("/srv/conf"))
	if len(errs) != 1 || !strings.Contains(errs.ToAggregate().Error(), "spec.volumes[0].hostPath.path: Forbidden: host paths are not allowed: the manager permits none (start it with --allow-host-path DIR") {
		t.Errorf("no roots: %v", errs)
	}
	policy := v1alpha1.Policy{AllowedHostPaths: []string{"/srv"}}
	if errs := newStrategy(policy).Validate(ctx, env("/srv/conf")); len(errs) != 0 {
		t.Errorf("under the root: %v", errs)
	}
	errs = newStrategy(policy).Validate(ctx, env("/etc"))
	if len(errs) != 1 || !strings.Contains(errs.ToAggregate().Error(), "/etc is not under a directory the manager allows (--allow-host-path: /srv)") {
		t.Errorf("outside the root: %v", errs)
	}
	errs = newStrategy(policy).Validate(ctx, env("conf"))
	if len(errs) == 0 || !strings.Contains(errs.ToAggregate().Error(), "`berth apply -f` resolves a relative path") {
		t.Errorf("relative: %v", errs)
	}
}
