package plan

import (
	"regexp"
	"testing"

	"k8s.io/apimachinery/pkg/util/intstr"

	"berth.dev/berth/apis/v1alpha1"
)

// TestSpecHashGolden pins the hash of a fixed config: if it changes, every
// container in the field gets recreated on upgrade, so bump hashVersion on
// purpose or fix the accident.
func TestSpecHashGolden(t *testing.T) {
	cfg := ContainerConfig{
		Name: "berth-demo-api", Image: "nginx:1", Cmd: []string{"a", "b"}, Env: []string{"A=1", "B=2"},
		Ports:     []PortBinding{{Name: "http", ContainerPort: 80, Protocol: v1alpha1.ProtocolTCP, HostIP: "127.0.0.1", HostPort: 0}},
		Resources: Resources{MemoryLimit: 512 << 20, MemoryReservation: 256 << 20},
		Mounts:    []Mount{{Volume: "berth-demo-data", Target: "/data"}},
		Network:   "berth-demo", NetworkAlias: "api", Hostname: "api", StopSignal: "SIGTERM",
	}
	const golden = "c5a57c1da8a1fe6c"
	got := SpecHash(cfg)
	if !regexp.MustCompile(`^[0-9a-f]{16}$`).MatchString(got) {
		t.Fatalf("hash %q is not 16 hex digits", got)
	}
	if got != golden {
		t.Errorf("SpecHash = %s, want %s", got, golden)
	}
	for range 20 {
		if again := SpecHash(cfg); again != got {
			t.Fatalf("hash not stable: %s then %s", got, again)
		}
	}
}

func TestSpecHashIgnores(t *testing.T) {
	base := func() *v1alpha1.Environment { return demoEnv() }
	tests := []struct {
		name   string
		mutate func(env *v1alpha1.Environment, o *Options)
	}{
		{"readiness probe", func(e *v1alpha1.Environment, _ *Options) {
			service(e, "api").ReadinessProbe.PeriodSeconds = 10
			service(e, "api").ReadinessProbe.HTTPGet.Path = "/ready"
		}},
		{"probe removed", func(e *v1alpha1.Environment, _ *Options) { service(e, "api").ReadinessProbe = nil }},
		{"dependsOn", func(e *v1alpha1.Environment, _ *Options) { service(e, "api").DependsOn = nil }},
		{"restartPolicy", func(e *v1alpha1.Environment, _ *Options) { service(e, "api").RestartPolicy = v1alpha1.RestartOnFailure }},
		{"restartLimit", func(e *v1alpha1.Environment, _ *Options) {
			service(e, "api").RestartPolicy = v1alpha1.RestartOnFailure
			service(e, "api").RestartLimit = ptr(int32(3))
		}},
		{"imagePullPolicy", func(e *v1alpha1.Environment, _ *Options) { service(e, "api").ImagePullPolicy = v1alpha1.PullAlways }},
		{"grace period", func(e *v1alpha1.Environment, _ *Options) {
			service(e, "api").TerminationGracePeriodSeconds = ptr(int64(60))
		}},
		{"env order", func(e *v1alpha1.Environment, _ *Options) {
			s := service(e, "api")
			s.Env[0], s.Env[1] = s.Env[1], s.Env[0]
		}},
		{"port name", func(e *v1alpha1.Environment, _ *Options) { service(e, "api").Ports[0].Name = "web" }},
		{"environment UID", func(e *v1alpha1.Environment, _ *Options) { e.UID = "uid-2" }},
		{"generation", func(e *v1alpha1.Environment, _ *Options) { e.Generation = 7 }},
		{"manager identity", func(_ *v1alpha1.Environment, o *Options) { o.ManagerID = "other" }},
		{"other services", func(e *v1alpha1.Environment, _ *Options) { service(e, "db").Image = "postgres:16" }},
		{"ttl and teardown", func(e *v1alpha1.Environment, _ *Options) {
			e.Spec.TTLSecondsAfterReady = ptr(int64(60))
			e.Spec.Teardown.RetainVolumes = true
		}},
		// Binding or releasing a lease on a running Environment must not
		// recreate its containers.
		{"lease", func(e *v1alpha1.Environment, _ *Options) {
			e.Spec.Lease = &v1alpha1.LeaseBinding{HolderIdentity: "berth-run/host/1", DurationSeconds: 30}
		}},
	}
	want := mustConfig(t, base(), "api").Labels[v1alpha1.LabelSpecHash]
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			env, opts := base(), testOptions()
			tt.mutate(env, &opts)
			cfg, err := BuildContainerConfig(env, service(env, "api"), opts)
			if err != nil {
				t.Fatal(err)
			}
			if got := cfg.Labels[v1alpha1.LabelSpecHash]; got != want {
				t.Errorf("hash changed %s → %s: this must not recreate the container", want, got)
			}
		})
	}
}

func TestSpecHashDetects(t *testing.T) {
	tests := []struct {
		name   string
		mutate func(env *v1alpha1.Environment, o *Options)
	}{
		{"image", func(e *v1alpha1.Environment, _ *Options) { service(e, "api").Image = "berth-testapp:v2" }},
		{"env value", func(e *v1alpha1.Environment, _ *Options) { service(e, "api").Env[0].Value = "other" }},
		{"env added", func(e *v1alpha1.Environment, _ *Options) {
			service(e, "api").Env = append(service(e, "api").Env, v1alpha1.EnvVar{Name: "X", Value: "1"})
		}},
		{"args", func(e *v1alpha1.Environment, _ *Options) { service(e, "api").Args = []string{"--verbose"} }},
		{"command", func(e *v1alpha1.Environment, _ *Options) { service(e, "api").Command = []string{"/bin/sh"} }},
		{"memory limit", func(e *v1alpha1.Environment, _ *Options) {
			service(e, "api").Resources.Limits[v1alpha1.ResourceMemory] = intstr.FromString("128Mi")
		}},
		{"memory request", func(e *v1alpha1.Environment, _ *Options) {
			service(e, "api").Resources.Requests = v1alpha1.ResourceList{v1alpha1.ResourceMemory: intstr.FromString("16Mi")}
		}},
		{"cpu limit", func(e *v1alpha1.Environment, _ *Options) {
			service(e, "api").Resources.Limits[v1alpha1.ResourceCPU] = intstr.FromString("1")
		}},
		{"host port", func(e *v1alpha1.Environment, _ *Options) { service(e, "api").Ports[0].HostPort = ptr(int32(8080)) }},
		{"host IP", func(e *v1alpha1.Environment, _ *Options) { service(e, "api").Ports[0].HostIP = "0.0.0.0" }},
		{"port unpublished", func(e *v1alpha1.Environment, _ *Options) { service(e, "api").Ports[0].HostPort = nil }},
		{"mount", func(e *v1alpha1.Environment, _ *Options) {
			service(e, "api").VolumeMounts = []v1alpha1.VolumeMount{{Name: "data", MountPath: "/data"}}
		}},
		{"manager default memory limit", func(_ *v1alpha1.Environment, o *Options) { o.DefaultMemoryLimit = 1 << 30 }},
		{"manager default memory reservation", func(_ *v1alpha1.Environment, o *Options) { o.DefaultMemoryReservation = 8 << 20 }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before, after := demoEnv(), demoEnv()
			// Without a spec limit and request the manager's defaults apply.
			for _, e := range []*v1alpha1.Environment{before, after} {
				service(e, "api").Resources = v1alpha1.ResourceRequirements{
					Limits: v1alpha1.ResourceList{v1alpha1.ResourceCPU: intstr.FromString("500m")},
				}
			}
			opts := testOptions()
			tt.mutate(after, &opts)
			h1 := mustConfig(t, before, "api").Labels[v1alpha1.LabelSpecHash]
			cfg, err := BuildContainerConfig(after, service(after, "api"), opts)
			if err != nil {
				t.Fatal(err)
			}
			if h2 := cfg.Labels[v1alpha1.LabelSpecHash]; h1 == h2 {
				t.Errorf("hash unchanged (%s): the container would keep the old config", h1)
			}
		})
	}
}

func TestSpecHashOrderOfHandBuiltConfig(t *testing.T) {
	a := ContainerConfig{
		Image: "x", Env: []string{"B=2", "A=1"},
		Ports:  []PortBinding{{ContainerPort: 2, Protocol: "TCP"}, {ContainerPort: 1, Protocol: "UDP"}},
		Mounts: []Mount{{Volume: "v2", Target: "/b"}, {Volume: "v1", Target: "/a"}},
		Labels: map[string]string{"x": "1", "y": "2"},
	}
	b := ContainerConfig{
		Image: "x", Env: []string{"A=1", "B=2"},
		Ports:  []PortBinding{{ContainerPort: 1, Protocol: "udp"}, {ContainerPort: 2, Protocol: "tcp"}},
		Mounts: []Mount{{Volume: "v1", Target: "/a"}, {Volume: "v2", Target: "/b"}},
		Labels: map[string]string{"z": "3"},
	}
	if SpecHash(a) != SpecHash(b) {
		t.Errorf("order of env, ports, mounts, protocol case or labels changed the hash")
	}
	b.Cmd = []string{"y", "x"}
	a.Cmd = []string{"x", "y"}
	if SpecHash(a) == SpecHash(b) {
		t.Errorf("args order must matter")
	}
}
