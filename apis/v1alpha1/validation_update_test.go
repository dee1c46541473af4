package v1alpha1

import (
	"strings"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/validation/field"
)

func TestValidateEnvironmentUpdate(t *testing.T) {
	cases := []struct {
		name   string
		mutate func(newEnv, oldEnv *Environment)
		path   string // "" means valid
		typ    field.ErrorType
		detail string
	}{
		{"no change", func(_, _ *Environment) {}, "", "", ""},
		{"spec change", func(n, _ *Environment) {
			n.Spec.Services[2].Image = "api:v2"
			n.Spec.Services = append(n.Spec.Services, Service{Name: "cache", Image: "redis:7-alpine"})
			SetDefaults(n)
		}, "", "", ""},
		{"finalizer removed during deletion", func(n, o *Environment) {
			o.DeletionTimestamp = &metav1.Time{Time: time.Unix(1700000000, 0)}
			n.DeletionTimestamp = o.DeletionTimestamp.DeepCopy()
			n.Finalizers = nil
		}, "", "", ""},
		{"stored spec that today's rules reject may still lose its finalizer", func(n, o *Environment) {
			o.Spec.Services[1].Resources.Limits[ResourceMemory] = qty("1Mi")
			n.Spec = *o.Spec.DeepCopy()
			n.Finalizers = nil
		}, "", "", ""},
		{"invalid spec change", func(n, _ *Environment) { n.Spec.Services[2].DependsOn[0].Service = "redis" },
			"spec.services[2].dependsOn[0].service", field.ErrorTypeNotFound, ""},
		{"rename", func(n, _ *Environment) { n.Name = "other" },
			"metadata.name", field.ErrorTypeInvalid, "immutable"},
		{"no resourceVersion", func(n, _ *Environment) { n.ResourceVersion = "" },
			"metadata.resourceVersion", field.ErrorTypeInvalid, "must be specified for an update"},
		{"spec change during deletion", func(n, o *Environment) {
			o.DeletionTimestamp = &metav1.Time{Time: time.Unix(1700000000, 0)}
			n.DeletionTimestamp = o.DeletionTimestamp.DeepCopy()
			n.Spec.Services[2].Image = "api:v2"
		}, "spec", field.ErrorTypeForbidden, "being deleted"},
		{"finalizer added during deletion", func(n, o *Environment) {
			o.DeletionTimestamp = &metav1.Time{Time: time.Unix(1700000000, 0)}
			n.DeletionTimestamp = o.DeletionTimestamp.DeepCopy()
			n.Finalizers = append(n.Finalizers, "example.com/other")
		}, "metadata.finalizers", field.ErrorTypeForbidden, "no new finalizers"},
		{"host added after create", func(n, _ *Environment) { n.Spec.Host = "web-1" },
			"spec.host", field.ErrorTypeInvalid, "after create (it was unset)"},
		{"host changed", func(n, o *Environment) { o.Spec.Host, n.Spec.Host = "web-1", "web-2" },
			"spec.host", field.ErrorTypeInvalid, `after create (it was "web-1")`},
		{"host removed", func(n, o *Environment) { o.Spec.Host = "web-1" },
			"spec.host", field.ErrorTypeInvalid, "after create"},
		{"host kept while the rest changes", func(n, o *Environment) {
			o.Spec.Host, n.Spec.Host = "web-1", "web-1"
			n.Spec.Services[2].Image = "api:v2"
		}, "", "", ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			oldEnv, newEnv := storedEnv(), storedEnv()
			tc.mutate(newEnv, oldEnv)
			errs := ValidateEnvironmentUpdate(newEnv, oldEnv)
			if tc.path == "" {
				if len(errs) != 0 {
					t.Errorf("want no errors, got:\n%s", dump(errs))
				}
				return
			}
			expectError(t, errs, 1, tc.path, tc.typ, tc.detail)
		})
	}
	if errs := ValidateEnvironmentUpdate(nil, storedEnv()); len(errs) == 0 {
		t.Error("nil new object accepted")
	}
}

func validStatus() EnvironmentStatus {
	now := metav1.NewTime(time.Unix(1700000000, 0))
	return EnvironmentStatus{
		Phase:              PhaseReady,
		ObservedGeneration: 1,
		Ready:              "3/3",
		Conditions: []metav1.Condition{
			{Type: ConditionReady, Status: metav1.ConditionTrue, Reason: "AllServicesReady", LastTransitionTime: now},
			{Type: ConditionProgressing, Status: metav1.ConditionFalse, Reason: "Converged", LastTransitionTime: now},
		},
		Services: []ServiceStatus{{Name: "migrate", State: "exited"}, {Name: "db", Ready: true}, {Name: "api", Ready: true}},
		Events:   []EnvironmentEvent{{Time: now, Type: EventTypeNormal, Reason: "Created", Service: "db", Message: "created container"}},
	}
}

func TestValidateEnvironmentStatusUpdate(t *testing.T) {
	cases := []struct {
		name   string
		mutate func(st *EnvironmentStatus, newEnv *Environment)
		path   string // "" means valid
		typ    field.ErrorType
		detail string
	}{
		{"valid", func(*EnvironmentStatus, *Environment) {}, "", "", ""},
		{"empty status", func(st *EnvironmentStatus, _ *Environment) { *st = EnvironmentStatus{} }, "", "", ""},
		{"an invalid spec is not the status writer's business", func(_ *EnvironmentStatus, n *Environment) {
			n.Spec.Services = nil
		}, "", "", ""},
		{"fifty events", func(st *EnvironmentStatus, _ *Environment) {
			for len(st.Events) < MaxStatusEvents {
				st.Events = append(st.Events, st.Events[0])
			}
		}, "", "", ""},
		{"unknown phase", func(st *EnvironmentStatus, _ *Environment) { st.Phase = "Running" },
			"status.phase", field.ErrorTypeNotSupported, `"Terminating"`},
		{"negative observedGeneration", func(st *EnvironmentStatus, _ *Environment) { st.ObservedGeneration = -1 },
			"status.observedGeneration", field.ErrorTypeInvalid, "greater than or equal to 0"},
		{"condition without reason", func(st *EnvironmentStatus, _ *Environment) { st.Conditions[1].Reason = "" },
			"status.conditions[1].reason", field.ErrorTypeRequired, ""},
		{"condition with a bad status", func(st *EnvironmentStatus, _ *Environment) { st.Conditions[0].Status = "Yes" },
			"status.conditions[0].status", field.ErrorTypeNotSupported, ""},
		{"duplicate condition", func(st *EnvironmentStatus, _ *Environment) { st.Conditions[1].Type = ConditionReady },
			"status.conditions[1]", field.ErrorTypeDuplicate, ""},
		{"duplicate service status", func(st *EnvironmentStatus, _ *Environment) { st.Services[2].Name = "db" },
			"status.services[2].name", field.ErrorTypeDuplicate, ""},
		{"service status without name", func(st *EnvironmentStatus, _ *Environment) { st.Services[0].Name = "" },
			"status.services[0].name", field.ErrorTypeRequired, ""},
		{"more than fifty events", func(st *EnvironmentStatus, _ *Environment) {
			for len(st.Events) <= MaxStatusEvents {
				st.Events = append(st.Events, st.Events[0])
			}
		}, "status.events", field.ErrorTypeTooMany, "must have at most 50 items"},
		{"event of unknown type", func(st *EnvironmentStatus, _ *Environment) { st.Events[0].Type = "Error" },
			"status.events[0].type", field.ErrorTypeNotSupported, `"Normal", "Warning"`},
		{"event without reason", func(st *EnvironmentStatus, _ *Environment) { st.Events[0].Reason = "" },
			"status.events[0].reason", field.ErrorTypeRequired, ""},
		{"host bound", func(st *EnvironmentStatus, _ *Environment) { st.Host = "web-1.example" }, "", "", ""},
		{"host not a DNS name", func(st *EnvironmentStatus, _ *Environment) { st.Host = "Web_1" },
			"status.host", field.ErrorTypeInvalid, "RFC 1123"},
		{"metadata still checked", func(_ *EnvironmentStatus, n *Environment) { n.Name = "other" },
			"metadata.name", field.ErrorTypeInvalid, "immutable"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			oldEnv, newEnv := storedEnv(), storedEnv()
			newEnv.Status = validStatus()
			tc.mutate(&newEnv.Status, newEnv)
			errs := ValidateEnvironmentStatusUpdate(newEnv, oldEnv)
			if tc.path == "" {
				if len(errs) != 0 {
					t.Errorf("want no errors, got:\n%s", dump(errs))
				}
				return
			}
			expectError(t, errs, 1, tc.path, tc.typ, tc.detail)
		})
	}
	// Once bound, the host stays.
	oldEnv, newEnv := storedEnv(), storedEnv()
	oldEnv.Status.Host, newEnv.Status.Host = "web-1", "web-2"
	expectError(t, ValidateEnvironmentStatusUpdate(newEnv, oldEnv), 1, "status.host", field.ErrorTypeInvalid, `once set (bound to "web-1")`)
	newEnv.Status.Host = ""
	expectError(t, ValidateEnvironmentStatusUpdate(newEnv, oldEnv), 1, "status.host", field.ErrorTypeInvalid, "once set")
	if errs := ValidateEnvironmentStatusUpdate(storedEnv(), nil); len(errs) == 0 || !strings.Contains(errs[0].Detail, "required") {
		t.Errorf("nil old object: %v", errs)
	}
}
