package v1alpha1

import (
	"fmt"
	"strings"
	"testing"

	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/apimachinery/pkg/util/validation/field"
)

// Builders of long lists for the limit tests. Every item is valid on its
// own, so the limit is the only thing a case breaks.

func manyServices(n int) []Service {
	out := make([]Service, n)
	for i := range out {
		out[i] = Service{Name: fmt.Sprintf("s%d", i), Image: "nginx"}
	}
	return out
}

func manyVolumes(n int) []Volume {
	out := make([]Volume, n)
	for i := range out {
		out[i] = Volume{Name: fmt.Sprintf("v%d", i)}
	}
	return out
}

func manyPorts(n int) []ServicePort {
	out := make([]ServicePort, n)
	for i := range out {
		out[i] = ServicePort{Name: fmt.Sprintf("p%d", i), ContainerPort: int32(10000 + i)}
	}
	return out
}

func manyEnv(n int) []EnvVar {
	out := make([]EnvVar, n)
	for i := range out {
		out[i] = EnvVar{Name: fmt.Sprintf("VAR_%d", i), Value: "x"}
	}
	return out
}

// manyMounts mounts n volumes, which it declares in env next to validEnv's
// own, at distinct paths.
func manyMounts(env *Environment, n int) []VolumeMount {
	env.Spec.Volumes = append(env.Spec.Volumes, manyVolumes(n)...)
	out := make([]VolumeMount, n)
	for i := range out {
		out[i] = VolumeMount{Name: fmt.Sprintf("v%d", i), MountPath: fmt.Sprintf("/data/%d", i)}
	}
	return out
}

func manyArgs(n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = fmt.Sprintf("--flag-%d", i)
	}
	return out
}

// realisticService is one service of a large stack, written the way the
// postgres service of config/samples/postgres-redis.yaml is: an image with a
// registry, a dozen settings, two ports, a mount, a probe, resources and
// dependencies.
func realisticService(i int) Service {
	s := Service{
		Name:  fmt.Sprintf("service-%03d", i),
		Image: fmt.Sprintf("registry.example.com/team/service-%03d:1.2.3", i),
		Args:  []string{"--config", "/etc/service/config.yaml", "--log-level", "info"},
		Ports: []ServicePort{{Name: "http", ContainerPort: 8080}, {Name: "metrics", ContainerPort: 9090}},
		Resources: ResourceRequirements{
			Limits:   ResourceList{ResourceMemory: qty("256Mi"), ResourceCPU: qty("500m")},
			Requests: ResourceList{ResourceMemory: qty("128Mi")},
		},
		ReadinessProbe: &Probe{HTTPGet: &HTTPGetAction{Path: "/healthz", Port: intstr.FromString("http")}, PeriodSeconds: 2, FailureThreshold: 30},
		VolumeMounts:   []VolumeMount{{Name: "shared", MountPath: "/var/lib/service"}},
	}
	for k := range 12 {
		s.Env = append(s.Env, EnvVar{Name: fmt.Sprintf("SERVICE_SETTING_%d", k), Value: fmt.Sprintf("value-%d-of-service-%03d", k, i)})
	}
	if i > 0 {
		s.DependsOn = []Dependency{{Service: fmt.Sprintf("service-%03d", i-1), Condition: DependencyReady}}
	}
	return s
}

func TestValidateEnvironmentAcceptsSpecsAtTheLimits(t *testing.T) {
	cases := []struct {
		name   string
		mutate func(env *Environment)
	}{
		{"200 services", func(e *Environment) { e.Spec.Services = append(e.Spec.Services, manyServices(MaxServices-3)...) }},
		{"200 volumes", func(e *Environment) { e.Spec.Volumes = append(e.Spec.Volumes, manyVolumes(MaxVolumes-1)...) }},
		{"100 ports", func(e *Environment) { e.Spec.Services[0].Ports = manyPorts(MaxPortsPerService) }},
		{"1000 env vars", func(e *Environment) { e.Spec.Services[0].Env = manyEnv(MaxEnvPerService) }},
		{"64 mounts", func(e *Environment) { e.Spec.Services[0].VolumeMounts = manyMounts(e, MaxVolumeMountsPerService) }},
		{"256 command and args items", func(e *Environment) {
			e.Spec.Services[0].Command = manyArgs(MaxArgs)
			e.Spec.Services[0].Args = manyArgs(MaxArgs)
			e.Spec.Services[1].ReadinessProbe.Exec.Command = manyArgs(MaxArgs)
		}},
		{"32 KiB strings", func(e *Environment) {
			e.Spec.Services[0].Command = []string{strings.Repeat("c", MaxStringBytes)}
			e.Spec.Services[0].Args = []string{strings.Repeat("a", MaxStringBytes)}
			e.Spec.Services[1].Env[0].Value = strings.Repeat("v", MaxStringBytes)
		}},
		{"probe timings at their maxima", func(e *Environment) {
			p := e.Spec.Services[1].ReadinessProbe
			p.TimeoutSeconds, p.PeriodSeconds = MaxProbeTimeoutSeconds, MaxProbePeriodSeconds
			p.InitialDelaySeconds, p.SuccessThreshold, p.FailureThreshold = 3600, MaxProbeThreshold, MaxProbeThreshold
		}},
		{"200 realistic services", func(e *Environment) {
			e.Spec = EnvironmentSpec{Volumes: []Volume{{Name: "shared"}}}
			for i := range MaxServices {
				e.Spec.Services = append(e.Spec.Services, realisticService(i))
			}
			SetDefaults(e)
			n := encodedSize(&e.Spec)
			t.Logf("200 realistic services encode to %d bytes defaulted (%d per service)", n, n/MaxServices)
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			env := validEnv()
			tc.mutate(env)
			SetDefaults(env)
			if errs := ValidateEnvironment(env); len(errs) != 0 {
				t.Errorf("want no errors, got %d:\n%s", len(errs), dump(errs[:min(len(errs), 10)]))
			}
		})
	}
}

func TestValidateEnvironmentRejectsSpecsOverTheLimits(t *testing.T) {
	const (
		invalid   = field.ErrorTypeInvalid
		tooLong   = field.ErrorTypeTooLong
		tooMany   = field.ErrorTypeTooMany
		duplicate = field.ErrorTypeDuplicate
	)
	migrate := "spec.services[0]"
	db := "spec.services[1]"
	cases := []struct {
		name   string
		mutate func(env *Environment)
		path   string
		typ    field.ErrorType
		detail string
		count  int // errors expected in all; 0 means 1
	}{
		// The Environment as a whole: reported alone, the rest is not
		// checked.
		{"spec over 512 KiB", func(e *Environment) {
			for i := range 17 {
				e.Spec.Services[2].Env = append(e.Spec.Services[2].Env, EnvVar{Name: fmt.Sprintf("BLOB_%d", i), Value: strings.Repeat("b", 30<<10)})
			}
		}, "spec", tooLong, "may not be more than 524288 bytes", 0},
		{"201 services", func(e *Environment) { e.Spec.Services = append(e.Spec.Services, manyServices(MaxServices-2)...) },
			"spec.services", tooMany, "must have at most 200 items", 0},
		{"201 services, other errors left unchecked", func(e *Environment) {
			e.Spec.Services = append(e.Spec.Services, manyServices(MaxServices-2)...)
			e.Spec.Services[0].Image = "Not An Image"
		}, "spec.services", tooMany, "must have at most 200 items", 0},
		{"201 volumes", func(e *Environment) { e.Spec.Volumes = append(e.Spec.Volumes, manyVolumes(MaxVolumes)...) },
			"spec.volumes", tooMany, "must have at most 200 items", 0},

		// per service
		{"101 ports", func(e *Environment) { e.Spec.Services[0].Ports = manyPorts(MaxPortsPerService + 1) },
			migrate + ".ports", tooMany, "must have at most 100 items", 0},
		{"1001 env vars", func(e *Environment) { e.Spec.Services[1].Env = manyEnv(MaxEnvPerService + 1) },
			db + ".env", tooMany, "must have at most 1000 items", 0},
		{"65 mounts", func(e *Environment) { e.Spec.Services[0].VolumeMounts = manyMounts(e, MaxVolumeMountsPerService+1) },
			migrate + ".volumeMounts", tooMany, "must have at most 64 items", 0},
		{"201 dependencies", func(e *Environment) {
			for range MaxDependsOnPerService {
				e.Spec.Services[1].DependsOn = append(e.Spec.Services[1].DependsOn, Dependency{Service: "migrate", Condition: DependencyCompleted})
			}
		}, db + ".dependsOn", tooMany, "must have at most 200 items", 1 + MaxDependsOnPerService}, // and 200 duplicates
		{"257 command items", func(e *Environment) { e.Spec.Services[0].Command = manyArgs(MaxArgs + 1) },
			migrate + ".command", tooMany, "must have at most 256 items", 0},
		{"257 args", func(e *Environment) { e.Spec.Services[0].Args = manyArgs(MaxArgs + 1) },
			migrate + ".args", tooMany, "must have at most 256 items", 0},
		{"257 exec probe items", func(e *Environment) { e.Spec.Services[1].ReadinessProbe.Exec.Command = manyArgs(MaxArgs + 1) },
			db + ".readinessProbe.exec.command", tooMany, "must have at most 256 items", 0},
		{"command item over 32 KiB", func(e *Environment) {
			e.Spec.Services[0].Command = []string{"/bin/app", strings.Repeat("c", MaxStringBytes+1)}
		}, migrate + ".command[1]", tooLong, "may not be more than 32768 bytes", 0},
		{"args item over 32 KiB", func(e *Environment) { e.Spec.Services[0].Args[1] = strings.Repeat("a", MaxStringBytes+1) },
			migrate + ".args[1]", tooLong, "may not be more than 32768 bytes", 0},
		{"env value over 32 KiB", func(e *Environment) { e.Spec.Services[1].Env[1].Value = strings.Repeat("v", MaxStringBytes+1) },
			db + ".env[1].value", tooLong, "may not be more than 32768 bytes", 0},
		{"exec probe item over 32 KiB", func(e *Environment) {
			e.Spec.Services[1].ReadinessProbe.Exec.Command[2] = strings.Repeat("u", MaxStringBytes+1)
		}, db + ".readinessProbe.exec.command[2]", tooLong, "may not be more than 32768 bytes", 0},

		// probe timings
		{"probe timeout over a minute", func(e *Environment) { e.Spec.Services[1].ReadinessProbe.TimeoutSeconds = 61 },
			db + ".readinessProbe.timeoutSeconds", invalid, "must be at most 60", 0},
		{"probe period over five minutes", func(e *Environment) { e.Spec.Services[1].ReadinessProbe.PeriodSeconds = 301 },
			db + ".readinessProbe.periodSeconds", invalid, "must be at most 300", 0},
		{"probe initial delay over an hour", func(e *Environment) { e.Spec.Services[1].ReadinessProbe.InitialDelaySeconds = 3601 },
			db + ".readinessProbe.initialDelaySeconds", invalid, "must be at most 3600", 0},
		{"success threshold over 1000", func(e *Environment) { e.Spec.Services[1].ReadinessProbe.SuccessThreshold = 1001 },
			db + ".readinessProbe.successThreshold", invalid, "must be at most 1000", 0},
		{"failure threshold over 1000", func(e *Environment) { e.Spec.Services[1].ReadinessProbe.FailureThreshold = 1 << 30 },
			db + ".readinessProbe.failureThreshold", invalid, "must be at most 1000", 0},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			env := validEnv()
			tc.mutate(env)
			SetDefaults(env)
			want := tc.count
			if want == 0 {
				want = 1
			}
			errs := ValidateEnvironment(env)
			if len(errs) <= 20 {
				expectError(t, errs, want, tc.path, tc.typ, tc.detail)
				return
			}
			// Too many to print: check the same, show the first few.
			found := false
			for _, e := range errs {
				found = found || (e.Field == tc.path && e.Type == tc.typ && strings.Contains(e.Detail, tc.detail))
			}
			if !found || len(errs) != want {
				t.Errorf("want %d errors including %s %s %q, got %d, first:\n%s", want, tc.path, tc.typ, tc.detail, len(errs), dump(errs[:20]))
			}
		})
	}
}

// A dense dependency graph has more cycles than anyone can read; only the
// first few are named, so validation's memory does not grow with them.
func TestValidateEnvironmentNamesAFewCycles(t *testing.T) {
	env := validEnv()
	env.Spec = EnvironmentSpec{Services: manyServices(40)}
	for i := range env.Spec.Services {
		for j := range env.Spec.Services {
			if i != j {
				env.Spec.Services[i].DependsOn = append(env.Spec.Services[i].DependsOn, Dependency{Service: fmt.Sprintf("s%d", j)})
			}
		}
	}
	SetDefaults(env)
	errs := ValidateEnvironment(env)
	if len(errs) != maxReportedCycles {
		t.Fatalf("want %d cycles named, got %d errors:\n%s", maxReportedCycles, len(errs), dump(errs[:min(len(errs), 5)]))
	}
	for _, e := range errs {
		if !strings.HasPrefix(e.Detail, "dependency cycle: ") {
			t.Errorf("unexpected error %s", e)
		}
	}
}
