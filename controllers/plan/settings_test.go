package plan

import (
	"reflect"
	"testing"

	"k8s.io/apimachinery/pkg/util/intstr"

	"berth.dev/berth/apis/v1alpha1"
)

func setAllSettings(s *v1alpha1.Service) {
	s.User = "1000:1000"
	s.WorkingDir = "/srv"
	s.Labels = map[string]string{"com.example.team": "payments"}
	s.ReadOnlyRootFilesystem = true
	s.Init = true
	s.ShmSize = ptr(intstr.FromString("128Mi"))
	s.CapAdd = []string{"sys_ptrace", "CAP_NET_ADMIN"}
	s.CapDrop = []string{"all"}
	s.Ulimits = []v1alpha1.Ulimit{{Name: "nproc", Soft: 100, Hard: 200}, {Name: "memlock", Soft: -1, Hard: -1}}
	s.ExtraHosts = []v1alpha1.ExtraHost{{Hostname: "host.docker.internal", IP: v1alpha1.HostGateway}, {Hostname: "db.local", IP: "10.1.2.3"}}
	s.Sysctls = map[string]string{"net.core.somaxconn": "1024"}
	s.Privileged = true
}

func TestBuildContainerConfigSettings(t *testing.T) {
	env := demoEnv()
	setAllSettings(service(env, "api"))
	cfg := mustConfig(t, env, "api")
	want := Settings{
		User: "1000:1000", WorkingDir: "/srv", Labels: map[string]string{"com.example.team": "payments"},
		ReadOnly: true, Init: true, ShmSize: 128 << 20,
		CapAdd:     []string{"CAP_NET_ADMIN", "CAP_SYS_PTRACE"},
		CapDrop:    []string{"ALL"},
		Ulimits:    []Ulimit{{Name: "memlock", Soft: -1, Hard: -1}, {Name: "nproc", Soft: 100, Hard: 200}},
		ExtraHosts: []string{"host.docker.internal:host-gateway", "db.local:10.1.2.3"},
		Sysctls:    map[string]string{"net.core.somaxconn": "1024"},
		Privileged: true,
	}
	if !reflect.DeepEqual(cfg.Settings, want) {
		t.Errorf("settings:\n got %+v\nwant %+v", cfg.Settings, want)
	}
	if cfg.Labels["com.example.team"] != "payments" {
		t.Errorf("user label missing from the container's labels: %v", cfg.Labels)
	}
	for _, k := range []string{v1alpha1.LabelManagedBy, v1alpha1.LabelEnvironment, v1alpha1.LabelService, v1alpha1.LabelSpecHash} {
		if cfg.Labels[k] == "" {
			t.Errorf("berth label %s missing next to the user's: %v", k, cfg.Labels)
		}
	}
}

// A spec that got past validation with a berth.dev/ key (or was built by
// hand) must still not take ownership away from berth.
func TestBuildContainerConfigBerthLabelsWin(t *testing.T) {
	env := demoEnv()
	service(env, "api").Labels = map[string]string{v1alpha1.LabelManagedBy: "someone-else", v1alpha1.LabelService: "db"}
	cfg := mustConfig(t, env, "api")
	if cfg.Labels[v1alpha1.LabelManagedBy] != testManager || cfg.Labels[v1alpha1.LabelService] != "api" {
		t.Errorf("berth's labels overridden by the spec's: %v", cfg.Labels)
	}
}

// TestBuildContainerConfigHostname: the spec's hostname is the container's
// host name; unset, it is the service name.
func TestBuildContainerConfigHostname(t *testing.T) {
	env := demoEnv()
	service(env, "api").Hostname = "api-1.example"
	if got := mustConfig(t, env, "api").Hostname; got != "api-1.example" {
		t.Errorf("api hostname = %q, want api-1.example", got)
	}
	if got := mustConfig(t, env, "db").Hostname; got != "db" {
		t.Errorf("db hostname = %q, want the service name db", got)
	}
}

func TestBuildContainerConfigNoSettings(t *testing.T) {
	cfg := mustConfig(t, demoEnv(), "api")
	if !reflect.ValueOf(cfg.Settings).IsZero() {
		t.Errorf("a service without settings got %+v; unset must keep the image's and Docker's defaults", cfg.Settings)
	}
}

// TestSpecHashSettings: each setting recreates only the service that sets
// it, and unset (or empty) settings keep the hash containers were created
// with before the settings existed.
func TestSpecHashSettings(t *testing.T) {
	tests := []struct {
		name   string
		mutate func(s *v1alpha1.Service)
	}{
		{"user", func(s *v1alpha1.Service) { s.User = "nobody" }},
		{"workingDir", func(s *v1alpha1.Service) { s.WorkingDir = "/tmp" }},
		{"hostname", func(s *v1alpha1.Service) { s.Hostname = "api-1.example" }},
		{"labels", func(s *v1alpha1.Service) { s.Labels = map[string]string{"a": "1"} }},
		{"readOnlyRootFilesystem", func(s *v1alpha1.Service) { s.ReadOnlyRootFilesystem = true }},
		{"init", func(s *v1alpha1.Service) { s.Init = true }},
		{"shmSize", func(s *v1alpha1.Service) { s.ShmSize = ptr(intstr.FromString("1Gi")) }},
		{"capAdd", func(s *v1alpha1.Service) { s.CapAdd = []string{"NET_ADMIN"} }},
		{"capDrop", func(s *v1alpha1.Service) { s.CapDrop = []string{"NET_RAW"} }},
		{"ulimits", func(s *v1alpha1.Service) { s.Ulimits = []v1alpha1.Ulimit{{Name: "nofile", Soft: 1, Hard: 2}} }},
		{"extraHosts", func(s *v1alpha1.Service) {
			s.ExtraHosts = []v1alpha1.ExtraHost{{Hostname: "x", IP: v1alpha1.HostGateway}}
		}},
		{"sysctls", func(s *v1alpha1.Service) { s.Sysctls = map[string]string{"net.ipv4.ip_forward": "1"} }},
		{"privileged", func(s *v1alpha1.Service) { s.Privileged = true }},
	}
	hashes := func(env *v1alpha1.Environment) map[string]string {
		out := map[string]string{}
		for _, s := range env.Spec.Services {
			out[s.Name] = mustConfig(t, env, s.Name).Labels[v1alpha1.LabelSpecHash]
		}
		return out
	}
	before := hashes(demoEnv())
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			env := demoEnv()
			tt.mutate(service(env, "api"))
			after := hashes(env)
			for name, h := range before {
				switch {
				case name == "api" && after[name] == h:
					t.Errorf("api hash unchanged (%s): the container would keep the old setting", h)
				case name != "api" && after[name] != h:
					t.Errorf("%s hash changed %s → %s: only api sets %s", name, h, after[name], tt.name)
				}
			}
		})
	}
	t.Run("empty lists and maps", func(t *testing.T) {
		env := demoEnv()
		s := service(env, "api")
		s.Labels, s.Sysctls = map[string]string{}, map[string]string{}
		s.CapAdd, s.CapDrop, s.Ulimits, s.ExtraHosts = []string{}, []string{}, []v1alpha1.Ulimit{}, []v1alpha1.ExtraHost{}
		if got := hashes(env)["api"]; got != before["api"] {
			t.Errorf("empty settings changed the hash %s → %s", before["api"], got)
		}
	})
	t.Run("order and spelling", func(t *testing.T) {
		a, b := demoEnv(), demoEnv()
		service(a, "api").CapAdd = []string{"NET_ADMIN", "sys_ptrace"}
		service(b, "api").CapAdd = []string{"CAP_SYS_PTRACE", "cap_net_admin"}
		service(a, "api").Ulimits = []v1alpha1.Ulimit{{Name: "nofile", Soft: 1, Hard: 2}, {Name: "core", Hard: 1}}
		service(b, "api").Ulimits = []v1alpha1.Ulimit{{Name: "core", Hard: 1}, {Name: "nofile", Soft: 1, Hard: 2}}
		if ha, hb := hashes(a)["api"], hashes(b)["api"]; ha != hb {
			t.Errorf("reordered or respelled capabilities/ulimits changed the hash: %s vs %s", ha, hb)
		}
	})
}

// TestPortStatusUnnamedPorts: with names optional, status pairs a port with
// its binding by container port and protocol, so the address the spec asked
// for is the one reported.
func TestPortStatusUnnamedPorts(t *testing.T) {
	env := simpleEnv("s")
	svc := service(env, "s")
	svc.Ports = []v1alpha1.ServicePort{
		{ContainerPort: 8080, Protocol: v1alpha1.ProtocolTCP, HostPort: ptr(int32(0)), HostIP: "0.0.0.0"},
		{ContainerPort: 9090, Protocol: v1alpha1.ProtocolTCP},
	}
	cfg := mustConfig(t, env, "s")
	c := container(t, env, "s", "c-s", StateRunning)
	c.Ports = []ObservedPort{
		{ContainerPort: 8080, Protocol: "tcp", HostIP: "::", HostPort: 32001},
		{ContainerPort: 8080, Protocol: "tcp", HostIP: "0.0.0.0", HostPort: 32000},
	}
	got := portStatus(svc, cfg, &c)
	want := []v1alpha1.PortStatus{
		{ContainerPort: 8080, Protocol: v1alpha1.ProtocolTCP, HostIP: "0.0.0.0", HostPort: 32000},
		{ContainerPort: 9090, Protocol: v1alpha1.ProtocolTCP},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("port status:\n got %+v\nwant %+v", got, want)
	}
}
