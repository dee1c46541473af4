package v1alpha1

import (
	"testing"

	"k8s.io/apimachinery/pkg/util/validation/field"
)

func TestValidateReplicas(t *testing.T) {
	for _, tc := range []struct {
		name   string
		mutate func(e *Environment)
		path   string // "" = valid
		detail string
	}{
		{"three replicas with a picked host port", func(e *Environment) {
			e.Spec.Services[2].Replicas = ptr(int32(3))
			e.Spec.Services[2].Ports[0].HostPort = ptr(int32(0))
		}, "", ""},
		{"unpublished ports", func(e *Environment) {
			e.Spec.Services[2].Replicas = ptr(int32(50))
			e.Spec.Services[2].Ports[0].HostPort = nil
			e.Spec.Services[2].Ports[0].HostIP = ""
		}, "", ""},
		{"one replica keeps a fixed port", func(e *Environment) { e.Spec.Services[2].Replicas = ptr(int32(1)) }, "", ""},
		{"zero", func(e *Environment) { e.Spec.Services[1].Replicas = ptr(int32(0)) },
			"spec.services[1].replicas", "delete the service from the spec instead"},
		{"negative", func(e *Environment) { e.Spec.Services[1].Replicas = ptr(int32(-2)) },
			"spec.services[1].replicas", "between 1 and 50"},
		{"too many", func(e *Environment) { e.Spec.Services[1].Replicas = ptr(int32(51)) },
			"spec.services[1].replicas", "between 1 and 50"},
		{"fixed host port", func(e *Environment) { e.Spec.Services[2].Replicas = ptr(int32(2)) },
			"spec.services[2].ports[0].hostPort", "a host port can be published by one container only; use hostPort 0 or omit it with replicas > 1"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			env := validEnv()
			tc.mutate(env)
			errs := ValidateEnvironment(env)
			if tc.path == "" {
				if len(errs) != 0 {
					t.Errorf("unexpected errors:\n%s", dump(errs))
				}
				return
			}
			expectError(t, errs, 1, tc.path, field.ErrorTypeInvalid, tc.detail)
		})
	}
}

func TestReplicaCount(t *testing.T) {
	if n := (&Service{}).ReplicaCount(); n != 1 {
		t.Errorf("unset: %d, want 1", n)
	}
	if n := (&Service{Replicas: ptr(int32(4))}).ReplicaCount(); n != 4 {
		t.Errorf("4: %d", n)
	}
}
