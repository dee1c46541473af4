package v1alpha1

import (
	"testing"

	"k8s.io/apimachinery/pkg/api/equality"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/intstr"
)

// bareEnv sets nothing that SetDefaults fills.
func bareEnv() *Environment {
	return &Environment{Spec: EnvironmentSpec{Services: []Service{
		{Name: "db", Image: "postgres", ReadinessProbe: &Probe{TCPSocket: &TCPSocketAction{Port: intstr.FromInt32(5432)}}},
		{
			Name:  "api",
			Image: "api",
			Ports: []ServicePort{
				{Name: "http", ContainerPort: 8080, HostPort: ptr(int32(0))},
				{Name: "debug", ContainerPort: 2345},
			},
			ReadinessProbe: &Probe{HTTPGet: &HTTPGetAction{Port: intstr.FromString("http")}},
			DependsOn:      []Dependency{{Service: "db"}},
		},
	}}}
}

func TestSetDefaultsFillsEveryDefault(t *testing.T) {
	env := bareEnv()
	SetDefaults(env)
	db, api := env.Spec.Services[0], env.Spec.Services[1]

	checks := []struct {
		name      string
		got, want any
	}{
		{"imagePullPolicy", api.ImagePullPolicy, PullIfNotPresent},
		{"restartPolicy", api.RestartPolicy, RestartAlways},
		{"terminationGracePeriodSeconds", *api.TerminationGracePeriodSeconds, int64(10)},
		{"probe periodSeconds", db.ReadinessProbe.PeriodSeconds, int32(2)},
		{"probe timeoutSeconds", db.ReadinessProbe.TimeoutSeconds, int32(1)},
		{"probe successThreshold", db.ReadinessProbe.SuccessThreshold, int32(1)},
		{"probe failureThreshold", db.ReadinessProbe.FailureThreshold, int32(3)},
		{"probe initialDelaySeconds stays 0", db.ReadinessProbe.InitialDelaySeconds, int32(0)},
		{"httpGet path", api.ReadinessProbe.HTTPGet.Path, "/"},
		{"dependency condition", api.DependsOn[0].Condition, DependencyStarted},
		{"port protocol", api.Ports[0].Protocol, ProtocolTCP},
		{"unpublished port protocol", api.Ports[1].Protocol, ProtocolTCP},
		{"published port hostIP", api.Ports[0].HostIP, "127.0.0.1"},
		{"unpublished port gets no hostIP", api.Ports[1].HostIP, ""},
		{"hostPort 0 stays 0", *api.Ports[0].HostPort, int32(0)},
		{"memory limit is left to the manager", len(api.Resources.Limits), 0},
	}
	for _, c := range checks {
		if c.got != c.want {
			t.Errorf("%s: got %v, want %v", c.name, c.got, c.want)
		}
	}
	if errs := ValidateEnvironment(withName(env)); len(errs) != 0 {
		t.Errorf("a defaulted minimal spec should validate:\n%s", dump(errs))
	}
}

func withName(env *Environment) *Environment {
	env.Name = "bare"
	return env
}

func TestSetDefaultsKeepsUserValues(t *testing.T) {
	env := validEnv()
	s := &env.Spec.Services[2]
	s.ImagePullPolicy = PullNever
	s.RestartPolicy = RestartOnFailure
	s.TerminationGracePeriodSeconds = ptr(int64(0))
	s.Ports[0].HostIP = "0.0.0.0"
	s.Ports[0].Protocol = ProtocolUDP
	s.DependsOn[0].Condition = DependencyReady
	s.ReadinessProbe.PeriodSeconds = 7
	s.ReadinessProbe.FailureThreshold = 30
	s.ReadinessProbe.HTTPGet.Path = "/ready"
	want := env.DeepCopy()

	SetDefaults(env)
	if !equality.Semantic.DeepEqual(env, want) {
		t.Errorf("SetDefaults changed user values:\ngot  %+v\nwant %+v", env.Spec.Services[2], want.Spec.Services[2])
	}
}

func TestSetDefaultsIsIdempotent(t *testing.T) {
	for name, env := range map[string]*Environment{"bare": bareEnv(), "full": validEnv()} {
		SetDefaults(env)
		once := env.DeepCopy()
		SetDefaults(env)
		if !equality.Semantic.DeepEqual(env, once) {
			t.Errorf("%s: second SetDefaults changed the object", name)
		}
	}
	SetDefaults(nil) // must not panic
}

func TestRegisterDefaultsDefaultsThroughTheScheme(t *testing.T) {
	scheme := runtime.NewScheme()
	if err := AddToScheme(scheme); err != nil {
		t.Fatal(err)
	}
	if err := RegisterDefaults(scheme); err != nil {
		t.Fatal(err)
	}
	list := &EnvironmentList{Items: []Environment{*bareEnv()}}
	scheme.Default(list)
	if got := list.Items[0].Spec.Services[1].RestartPolicy; got != RestartAlways {
		t.Errorf("list item not defaulted: restartPolicy %q", got)
	}
	env := bareEnv()
	scheme.Default(env)
	if got := env.Spec.Services[1].Ports[0].HostIP; got != DefaultHostIP {
		t.Errorf("object not defaulted: hostIP %q", got)
	}
}
