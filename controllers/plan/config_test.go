package plan

import (
	"reflect"
	"strings"
	"testing"
	"time"

	"k8s.io/apimachinery/pkg/util/intstr"

	"berth.dev/berth/apis/v1alpha1"
)

func TestBuildContainerConfigDemoAPI(t *testing.T) {
	env := demoEnv()
	cfg := mustConfig(t, env, "api")

	want := ContainerConfig{
		Name:  "berth_demo_api",
		Image: testImage,
		Env:   []string{"DATABASE_ADDR=db:5432", "TESTAPP_NAME=demo-api"},
		Ports: []PortBinding{{Name: "http", ContainerPort: 8080, Protocol: v1alpha1.ProtocolTCP, HostIP: "127.0.0.1", HostPort: PortRandom}},
		Resources: Resources{
			MemoryLimit: 64 << 20, MemoryReservation: 32 << 20, NanoCPUs: 500_000_000,
		},
		Network: "berth_demo", NetworkAlias: "api", Hostname: "api",
		StopTimeout: 2 * time.Second,
	}
	labels := cfg.Labels
	cfg.Labels = nil
	if !reflect.DeepEqual(cfg, want) {
		t.Errorf("config:\n got  %+v\n want %+v", cfg, want)
	}
	for k, v := range map[string]string{
		v1alpha1.LabelManagedBy:      testManager,
		v1alpha1.LabelEnvironment:    "demo",
		v1alpha1.LabelEnvironmentUID: "uid-1",
		v1alpha1.LabelService:        "api",
	} {
		if labels[k] != v {
			t.Errorf("label %s = %q, want %q", k, labels[k], v)
		}
	}
	if h := labels[v1alpha1.LabelSpecHash]; h != SpecHash(want) || len(h) != 16 {
		t.Errorf("spec-hash label %q, want SpecHash of the config (16 hex digits) %q", h, SpecHash(want))
	}
	if len(labels) != 5 {
		t.Errorf("labels %v: want exactly berth's five", labels)
	}
}

func TestBuildContainerConfigPortsAndMounts(t *testing.T) {
	env := simpleEnv("s")
	env.Spec.Volumes = []v1alpha1.Volume{{Name: "a"}, {Name: "b"}}
	svc := service(env, "s")
	svc.Command = []string{"/bin/app"}
	svc.Args = []string{"serve", "--port=80"}
	svc.Ports = []v1alpha1.ServicePort{
		{Name: "dns", ContainerPort: 53, Protocol: v1alpha1.ProtocolUDP, HostPort: ptr(int32(5353)), HostIP: "0.0.0.0"},
		{Name: "web", ContainerPort: 80},
		{Name: "admin", ContainerPort: 9000, HostPort: ptr(int32(0))},
	}
	svc.VolumeMounts = []v1alpha1.VolumeMount{{Name: "b", MountPath: "/z", ReadOnly: true}, {Name: "a", MountPath: "/a"}}
	cfg := mustConfig(t, env, "s")

	wantPorts := []PortBinding{
		{Name: "dns", ContainerPort: 53, Protocol: v1alpha1.ProtocolUDP, HostIP: "0.0.0.0", HostPort: 5353},
		{Name: "web", ContainerPort: 80, Protocol: v1alpha1.ProtocolTCP, HostPort: PortUnpublished},
		{Name: "admin", ContainerPort: 9000, Protocol: v1alpha1.ProtocolTCP, HostIP: "127.0.0.1", HostPort: PortRandom},
	}
	if !reflect.DeepEqual(cfg.Ports, wantPorts) {
		t.Errorf("ports:\n got  %+v\n want %+v", cfg.Ports, wantPorts)
	}
	if cfg.Ports[1].Published() || !cfg.Ports[2].Published() {
		t.Errorf("Published: unset hostPort must not publish, hostPort 0 must")
	}
	wantMounts := []Mount{{Volume: "berth_web_a", Target: "/a"}, {Volume: "berth_web_b", Target: "/z", ReadOnly: true}}
	if !reflect.DeepEqual(cfg.Mounts, wantMounts) {
		t.Errorf("mounts: got %+v, want %+v", cfg.Mounts, wantMounts)
	}
	if !reflect.DeepEqual(cfg.Entrypoint, []string{"/bin/app"}) || !reflect.DeepEqual(cfg.Cmd, []string{"serve", "--port=80"}) {
		t.Errorf("entrypoint %q cmd %q: command must become the entrypoint, args the cmd", cfg.Entrypoint, cfg.Cmd)
	}
	if cfg.StopTimeout != 10*time.Second {
		t.Errorf("stop timeout %s, want the 10s grace period", cfg.StopTimeout)
	}
}

func TestBuildContainerConfigResources(t *testing.T) {
	list := func(kv ...string) v1alpha1.ResourceList {
		l := v1alpha1.ResourceList{}
		for i := 0; i < len(kv); i += 2 {
			l[v1alpha1.ResourceName(kv[i])] = intstr.Parse(kv[i+1])
		}
		return l
	}
	tests := []struct {
		name    string
		opts    Options
		res     v1alpha1.ResourceRequirements
		want    Resources
		wantErr string
	}{
		{name: "nothing set: manager defaults", want: Resources{MemoryLimit: 512 << 20, MemoryReservation: 256 << 20}},
		{name: "manager's own defaults", opts: Options{DefaultMemoryLimit: 1 << 30, DefaultMemoryReservation: 100 << 20},
			want: Resources{MemoryLimit: 1 << 30, MemoryReservation: 100 << 20}},
		{name: "small limit clamps the default reservation", res: v1alpha1.ResourceRequirements{Limits: list("memory", "128Mi")},
			want: Resources{MemoryLimit: 128 << 20, MemoryReservation: 128 << 20}},
		{name: "request above the default limit clamps to it", res: v1alpha1.ResourceRequirements{Requests: list("memory", "1Gi")},
			want: Resources{MemoryLimit: 512 << 20, MemoryReservation: 512 << 20}},
		{name: "limit and request", res: v1alpha1.ResourceRequirements{Limits: list("memory", "1Gi"), Requests: list("memory", "300Mi")},
			want: Resources{MemoryLimit: 1 << 30, MemoryReservation: 300 << 20}},
		{name: "plain byte count as an int", res: v1alpha1.ResourceRequirements{Limits: list("memory", "67108864")},
			want: Resources{MemoryLimit: 64 << 20, MemoryReservation: 64 << 20}},
		{name: "decimal suffix", res: v1alpha1.ResourceRequirements{Limits: list("memory", "1G")},
			want: Resources{MemoryLimit: 1_000_000_000, MemoryReservation: 256 << 20}},
		{name: "whole cpus as an int", res: v1alpha1.ResourceRequirements{Limits: list("cpu", "2")},
			want: Resources{MemoryLimit: 512 << 20, MemoryReservation: 256 << 20, NanoCPUs: 2_000_000_000}},
		{name: "cpu request to shares", res: v1alpha1.ResourceRequirements{Requests: list("cpu", "250m")},
			want: Resources{MemoryLimit: 512 << 20, MemoryReservation: 256 << 20, CPUShares: 256}},
		{name: "tiny cpu request gets Docker's minimum shares", res: v1alpha1.ResourceRequirements{Requests: list("cpu", "1m")},
			want: Resources{MemoryLimit: 512 << 20, MemoryReservation: 256 << 20, CPUShares: 2}},
		{name: "unparsable", res: v1alpha1.ResourceRequirements{Limits: list("memory", "lots")}, wantErr: "resources.limits.memory"},
		{name: "negative", res: v1alpha1.ResourceRequirements{Requests: list("cpu", "-1")}, wantErr: "resources.requests.cpu"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			env := simpleEnv("s")
			service(env, "s").Resources = tt.res
			opts := tt.opts
			opts.ManagerID = testManager
			cfg, err := BuildContainerConfig(env, service(env, "s"), opts)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) || !strings.Contains(err.Error(), `"s"`) {
					t.Fatalf("error %v, want one naming service \"s\" and %s", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if cfg.Resources != tt.want {
				t.Errorf("resources %+v, want %+v", cfg.Resources, tt.want)
			}
		})
	}
}

func TestBuildContainerConfigNilInput(t *testing.T) {
	if _, err := BuildContainerConfig(nil, nil, testOptions()); err == nil {
		t.Fatal("want an error for a nil Environment and Service")
	}
}

func TestGracePeriod(t *testing.T) {
	for _, tt := range []struct {
		grace *int64
		want  time.Duration
	}{{nil, 10 * time.Second}, {ptr(int64(0)), 0}, {ptr(int64(30)), 30 * time.Second}, {ptr(int64(-1)), 10 * time.Second}} {
		if got := GracePeriod(&v1alpha1.Service{TerminationGracePeriodSeconds: tt.grace}); got != tt.want {
			t.Errorf("GracePeriod(%v) = %s, want %s", tt.grace, got, tt.want)
		}
	}
}
