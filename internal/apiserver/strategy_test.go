package apiserver

import (
	"context"
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
