package v1alpha1

import (
	"strings"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/apimachinery/pkg/util/validation/field"
)

func ptr[T any](v T) *T { return &v }

func qty(s string) intstr.IntOrString { return intstr.FromString(s) }

// validEnv is a defaulted Environment that uses every feature once, with
// services in a known order: 0 migrate, 1 db, 2 api.
func validEnv() *Environment {
	env := &Environment{
		TypeMeta: metav1.TypeMeta{APIVersion: SchemeGroupVersion.String(), Kind: "Environment"},
		ObjectMeta: metav1.ObjectMeta{
			Name:   "checkout-it",
			Labels: map[string]string{"team": "payments"},
		},
		Spec: EnvironmentSpec{
			Services: []Service{
				{
					Name:          "migrate",
					Image:         "berth-testapp:dev",
					Args:          []string{"--http-port=0", "--exit-after=1s"},
					RestartPolicy: RestartNever,
				},
				{
					Name:  "db",
					Image: "postgres:16-alpine",
					Env:   []EnvVar{{Name: "POSTGRES_PASSWORD", Value: "test"}, {Name: "PGDATA", Value: "/var/lib/postgresql/data/pg"}},
					Ports: []ServicePort{{Name: "sql", ContainerPort: 5432}},
					Resources: ResourceRequirements{
						Limits:   ResourceList{ResourceMemory: qty("512Mi"), ResourceCPU: intstr.FromInt32(1)},
						Requests: ResourceList{ResourceMemory: qty("256Mi")},
					},
					VolumeMounts:   []VolumeMount{{Name: "pgdata", MountPath: "/var/lib/postgresql/data"}},
					ReadinessProbe: &Probe{Exec: &ExecAction{Command: []string{"pg_isready", "-U", "postgres"}}},
					DependsOn:      []Dependency{{Service: "migrate", Condition: DependencyCompleted}},
				},
				{
					Name:  "api",
					Image: "registry.example.com:5000/team/api@sha256:" + strings.Repeat("ab", 32),
					Ports: []ServicePort{
						{Name: "http", ContainerPort: 8080, HostPort: ptr(int32(18080))},
						{Name: "metrics", ContainerPort: 9090, HostPort: ptr(int32(0))},
					},
					ReadinessProbe: &Probe{HTTPGet: &HTTPGetAction{Path: "/healthz", Port: intstr.FromString("http")}},
					DependsOn: []Dependency{
						{Service: "db", Condition: DependencyReady},
						{Service: "migrate", Condition: DependencyCompleted},
					},
					TerminationGracePeriodSeconds: ptr(int64(2)),
				},
			},
			Volumes:              []Volume{{Name: "pgdata"}},
			TTLSecondsAfterReady: ptr(int64(600)),
		},
	}
	SetDefaults(env)
	return env
}

// storedEnv is validEnv as the API server would have stored it.
func storedEnv() *Environment {
	env := validEnv()
	env.ResourceVersion = "7"
	env.Generation = 1
	env.UID = "6a1f8a4e-8f0e-4f4e-9a51-0d5c1f3e2b11"
	env.Finalizers = []string{Finalizer}
	return env
}

// expectError asserts that errs holds exactly want errors and one of them
// is at path with the given type and a detail containing detail.
func expectError(t *testing.T, errs field.ErrorList, want int, path string, typ field.ErrorType, detail string) {
	t.Helper()
	found := false
	for _, e := range errs {
		if e.Field == path && e.Type == typ && strings.Contains(e.Detail, detail) {
			found = true
		}
	}
	if !found || len(errs) != want {
		t.Errorf("want %d error(s) including %s %s %q, got %d:\n%s", want, path, typ, detail, len(errs), dump(errs))
	}
}

func dump(errs field.ErrorList) string {
	var b strings.Builder
	for _, e := range errs {
		b.WriteString("  " + e.Error() + " [" + string(e.Type) + "]\n")
	}
	return b.String()
}
