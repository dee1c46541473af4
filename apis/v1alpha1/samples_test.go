package v1alpha1

import (
	"os"
	"path/filepath"
	"testing"
)

const samplesDir = "../../config/samples"

// Every sample must apply cleanly: they are what users copy first.
func TestSamplesDecodeAndValidate(t *testing.T) {
	files, err := filepath.Glob(filepath.Join(samplesDir, "*.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	// A sample with files of its own (build contexts, config) has its
	// directory, config/samples/<name>/<name>.yaml, and relative paths
	// that only `berth apply -f` resolves: internal/cli's
	// TestNestedSamplesValidateOnceResolved validates those.
	if len(files) < 2 {
		t.Fatalf("want demo.yaml and postgres-redis.yaml in %s, found %v", samplesDir, files)
	}
	for _, f := range files {
		rel, _ := filepath.Rel(samplesDir, f)
		t.Run(rel, func(t *testing.T) {
			data, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			envs, err := DecodeEnvironments(data)
			if err != nil {
				t.Fatal(err)
			}
			for _, env := range envs {
				SetDefaults(env)
				if errs := ValidateEnvironment(env); len(errs) != 0 {
					t.Errorf("%s:\n%s", env.Name, dump(errs))
				}
			}
		})
	}
}

// The demo is what `make demo` and the e2e tests run offline: it must keep
// the shape they rely on.
func TestDemoSample(t *testing.T) {
	data, err := os.ReadFile(filepath.Join(samplesDir, "demo.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	envs, err := DecodeEnvironments(data)
	if err != nil {
		t.Fatal(err)
	}
	if len(envs) != 1 || envs[0].Name != "demo" {
		t.Fatalf("want one Environment demo, got %d", len(envs))
	}
	byName := map[string]Service{}
	for _, s := range envs[0].Spec.Services {
		if s.Image != "berth-testapp:dev" || s.ImagePullPolicy != PullIfNotPresent {
			t.Errorf("%s: image %s %s, want berth-testapp:dev IfNotPresent (offline)", s.Name, s.Image, s.ImagePullPolicy)
		}
		if _, ok := s.Resources.Limits[ResourceMemory]; !ok {
			t.Errorf("%s: no memory limit", s.Name)
		}
		byName[s.Name] = s
	}
	if byName["migrate"].RestartPolicy != RestartNever {
		t.Error("migrate must be a one-shot job")
	}
	if p := byName["db"].ReadinessProbe; p == nil || p.TCPSocket == nil {
		t.Error("db needs a tcpSocket probe")
	}
	api := byName["api"]
	if p := api.ReadinessProbe; p == nil || p.HTTPGet == nil || p.HTTPGet.Path != "/healthz" {
		t.Error("api needs an httpGet /healthz probe")
	}
	if len(api.Ports) != 1 || api.Ports[0].HostPort == nil || *api.Ports[0].HostPort != 0 {
		t.Error("api must publish its port on a free host port")
	}
	conds := map[string]DependencyCondition{}
	for _, d := range api.DependsOn {
		conds[d.Service] = d.Condition
	}
	if conds["migrate"] != DependencyCompleted || conds["db"] != DependencyReady {
		t.Errorf("api dependsOn %v, want migrate Completed and db Ready", conds)
	}
}

// The platform sample carries the seed's memory table (limits / requests):
// it is the point of the sample, so a change to it must be deliberate.
func TestPlatformSample(t *testing.T) {
	data, err := os.ReadFile(filepath.Join(samplesDir, "platform", "platform.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	envs, err := DecodeEnvironments(data)
	if err != nil {
		t.Fatal(err)
	}
	if len(envs) != 1 || envs[0].Name != "platform" {
		t.Fatalf("want one Environment platform, got %d", len(envs))
	}
	want := map[string][2]string{
		"backend":  {"2Gi", "1Gi"},
		"auth":     {"1Gi", "512Mi"},
		"frontend": {"512Mi", "256Mi"},
		"postgres": {"512Mi", "256Mi"},
		"redis":    {"256Mi", "128Mi"},
	}
	got := map[string][2]string{}
	for _, s := range envs[0].Spec.Services {
		got[s.Name] = [2]string{
			quantityText(s.Resources.Limits[ResourceMemory]),
			quantityText(s.Resources.Requests[ResourceMemory]),
		}
	}
	for svc, w := range want {
		if got[svc] != w {
			t.Errorf("%s memory limit/request %v, want the seed's %v", svc, got[svc], w)
		}
	}
	if len(got) != len(want) {
		t.Errorf("services %v, want %v", got, want)
	}
}
