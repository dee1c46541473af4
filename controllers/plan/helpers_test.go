package plan

import (
	"slices"
	"strings"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"

	"berth.dev/berth/apis/v1alpha1"
)

const (
	testManager = "mgr-test"
	testImage   = "berth-testapp:dev"
)

var t0 = time.Date(2026, 3, 4, 10, 0, 0, 0, time.UTC)

func testOptions() Options { return Options{ManagerID: testManager} }

func ptr[T any](v T) *T { return &v }

// demoEnv mirrors config/samples/demo.yaml, already defaulted: migrate is a
// one-shot, db has a probe and a volume, api waits for both.
func demoEnv() *v1alpha1.Environment {
	return &v1alpha1.Environment{
		ObjectMeta: metav1.ObjectMeta{Name: "demo", UID: "uid-1", Generation: 1},
		Spec: v1alpha1.EnvironmentSpec{
			Services: []v1alpha1.Service{
				{
					Name: "migrate", Image: testImage, ImagePullPolicy: v1alpha1.PullIfNotPresent,
					Args:                          []string{"--exit-after=1s"},
					RestartPolicy:                 v1alpha1.RestartNever,
					TerminationGracePeriodSeconds: ptr(int64(2)),
					Resources:                     v1alpha1.ResourceRequirements{Limits: v1alpha1.ResourceList{v1alpha1.ResourceMemory: intstr.FromString("64Mi")}},
				},
				{
					Name: "db", Image: testImage, ImagePullPolicy: v1alpha1.PullIfNotPresent,
					Args:          []string{"--tcp-port=5432"},
					Ports:         []v1alpha1.ServicePort{{Name: "sql", ContainerPort: 5432, Protocol: v1alpha1.ProtocolTCP}},
					VolumeMounts:  []v1alpha1.VolumeMount{{Name: "data", MountPath: "/data"}},
					RestartPolicy: v1alpha1.RestartAlways,
					ReadinessProbe: &v1alpha1.Probe{
						TCPSocket:     &v1alpha1.TCPSocketAction{Port: intstr.FromString("sql")},
						PeriodSeconds: 1, TimeoutSeconds: 1, SuccessThreshold: 1, FailureThreshold: 30,
					},
					TerminationGracePeriodSeconds: ptr(int64(2)),
				},
				{
					Name: "api", Image: testImage, ImagePullPolicy: v1alpha1.PullIfNotPresent,
					Env: []v1alpha1.EnvVar{{Name: "TESTAPP_NAME", Value: "demo-api"}, {Name: "DATABASE_ADDR", Value: "db:5432"}},
					Ports: []v1alpha1.ServicePort{{Name: "http", ContainerPort: 8080, HostPort: ptr(int32(0)),
						HostIP: "127.0.0.1", Protocol: v1alpha1.ProtocolTCP}},
					ReadinessProbe: &v1alpha1.Probe{
						HTTPGet:       &v1alpha1.HTTPGetAction{Path: "/healthz", Port: intstr.FromString("http")},
						PeriodSeconds: 1, TimeoutSeconds: 1, SuccessThreshold: 1, FailureThreshold: 30,
					},
					DependsOn: []v1alpha1.Dependency{
						{Service: "migrate", Condition: v1alpha1.DependencyCompleted},
						{Service: "db", Condition: v1alpha1.DependencyReady},
					},
					RestartPolicy:                 v1alpha1.RestartAlways,
					TerminationGracePeriodSeconds: ptr(int64(2)),
					Resources: v1alpha1.ResourceRequirements{
						Limits:   v1alpha1.ResourceList{v1alpha1.ResourceMemory: intstr.FromString("64Mi"), v1alpha1.ResourceCPU: intstr.FromString("500m")},
						Requests: v1alpha1.ResourceList{v1alpha1.ResourceMemory: intstr.FromString("32Mi")},
					},
				},
			},
			Volumes: []v1alpha1.Volume{{Name: "data"}},
		},
	}
}

// simpleEnv has independent services with the defaults, named as given.
func simpleEnv(names ...string) *v1alpha1.Environment {
	env := &v1alpha1.Environment{ObjectMeta: metav1.ObjectMeta{Name: "web", UID: "uid-w", Generation: 1}}
	for _, n := range names {
		env.Spec.Services = append(env.Spec.Services, v1alpha1.Service{
			Name: n, Image: testImage, ImagePullPolicy: v1alpha1.PullIfNotPresent,
			RestartPolicy: v1alpha1.RestartAlways, TerminationGracePeriodSeconds: ptr(int64(10)),
		})
	}
	return env
}

func service(env *v1alpha1.Environment, name string) *v1alpha1.Service {
	for i := range env.Spec.Services {
		if env.Spec.Services[i].Name == name {
			return &env.Spec.Services[i]
		}
	}
	return nil
}

func mustConfig(t *testing.T, env *v1alpha1.Environment, name string) ContainerConfig {
	t.Helper()
	cfg, err := BuildContainerConfig(env, service(env, name), testOptions())
	if err != nil {
		t.Fatalf("BuildContainerConfig(%s): %v", name, err)
	}
	return cfg
}

// container is a container berth created for the current spec of name.
func container(t *testing.T, env *v1alpha1.Environment, name, id string, state ContainerState) ObservedContainer {
	t.Helper()
	cfg := mustConfig(t, env, name)
	c := ObservedContainer{ID: id, Name: "/" + cfg.Name, Labels: cfg.Labels, State: state, StopTimeout: cfg.StopTimeout}
	if state != StateCreated {
		c.StartedAt = t0.Add(-time.Hour)
	}
	if state == StateExited || state == StateDead {
		c.FinishedAt = t0.Add(-30 * time.Minute)
	}
	return c
}

func ownedNetwork(env *v1alpha1.Environment) *ObservedNetwork {
	return &ObservedNetwork{Name: NetworkName(env.Name), ID: "net-" + env.Name, Labels: EnvironmentLabels(env, testOptions())}
}

func ownedVolumes(env *v1alpha1.Environment) map[string]ObservedVolume {
	out := map[string]ObservedVolume{}
	for _, v := range env.Spec.Volumes {
		name := VolumeName(env.Name, v.Name)
		labels := EnvironmentLabels(env, testOptions())
		labels[v1alpha1.LabelVolume] = v.Name
		out[name] = ObservedVolume{Name: name, Labels: labels}
	}
	return out
}

// converged is demo fully up: migrate completed, db and api running and
// ready, api published on 127.0.0.1:49153.
func converged(t *testing.T, env *v1alpha1.Environment) Observed {
	t.Helper()
	migrate := container(t, env, "migrate", "c-migrate", StateExited)
	db := container(t, env, "db", "c-db", StateRunning)
	api := container(t, env, "api", "c-api", StateRunning)
	api.Ports = []ObservedPort{{ContainerPort: 8080, Protocol: "tcp", HostIP: "127.0.0.1", HostPort: 49153}}
	return Observed{
		Network:    ownedNetwork(env),
		Volumes:    ownedVolumes(env),
		Containers: []ObservedContainer{migrate, db, api},
		Images:     map[string]ObservedImage{testImage: {Present: true}},
		Probes: map[string]ProbeResult{
			"c-db":  {Known: true, Ready: true, HasBeenReady: true},
			"c-api": {Known: true, Ready: true, HasBeenReady: true},
		},
		Memory: map[string]ServiceMemory{},
	}
}

// withContainer replaces (or adds) the container of c's service.
func withContainer(obs Observed, c ObservedContainer) Observed {
	obs.Containers = slices.DeleteFunc(slices.Clone(obs.Containers), func(o ObservedContainer) bool {
		return o.service() == c.service() && o.Labels[v1alpha1.LabelEnvironment] == c.Labels[v1alpha1.LabelEnvironment]
	})
	obs.Containers = append(obs.Containers, c)
	return obs
}

func withoutService(obs Observed, svc string) Observed {
	obs.Containers = slices.DeleteFunc(slices.Clone(obs.Containers), func(o ObservedContainer) bool { return o.service() == svc })
	return obs
}

func assertStrings(t *testing.T, what string, got, want []string) {
	t.Helper()
	if !slices.Equal(got, want) {
		t.Errorf("%s:\n got  %s\n want %s", what, strings.Join(got, " | "), strings.Join(want, " | "))
	}
}

func findOp(p Plan, kind OpKind, svc string) (Op, int) {
	for i, o := range p.Ops {
		if o.Kind == kind && o.Service == svc {
			return o, i
		}
	}
	return Op{}, -1
}
