package cli

import (
	"context"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"k8s.io/apimachinery/pkg/util/diff"
	"sigs.k8s.io/yaml"

	"berth.dev/berth/apis/v1alpha1"
	"berth.dev/berth/controllers/plan"
	"berth.dev/berth/internal/compose"
)

// platformDir is the platform sample, which ships both forms.
var platformDir = filepath.Join("..", "..", "config", "samples", "platform")

// The platform sample's compose pair (docker-compose.yml +
// docker-compose.test.yml) and platform.yaml are one stack: loaded as
// `berth apply -f` loads each (compose.Load; platform.yaml with its
// relative paths resolved against its directory) and defaulted as the API
// server defaults them, the two Environments are equal, field for field
// and in the same order, and every service gets the same spec hash, so
// applying either converges the same containers (applying one after the
// other changes nothing, not even the generation).
func TestPlatformSampleComposeMatchesPlatformYAML(t *testing.T) {
	dir, err := filepath.Abs(platformDir)
	if err != nil {
		t.Fatal(err)
	}
	fromCompose, err := compose.Load(context.Background(), compose.Options{
		Files: []string{filepath.Join(dir, "docker-compose.yml"), filepath.Join(dir, "docker-compose.test.yml")},
		// No variable of the test's own environment (COMPOSE_PROJECT_NAME
		// and the like) may change what is loaded.
		Environ: []string{},
	})
	if err != nil {
		t.Fatalf("compose.Load: %v", err)
	}
	fromYAML := loadResolved(t, filepath.Join(dir, "platform.yaml"))

	for _, env := range []*v1alpha1.Environment{fromCompose, fromYAML} {
		v1alpha1.SetDefaults(env)
		if errs := v1alpha1.ValidateEnvironment(env); len(errs) != 0 {
			t.Errorf("%s: %v", env.Name, errs.ToAggregate())
		}
	}
	if fromCompose.Name != fromYAML.Name {
		t.Errorf("name: compose project %q, platform.yaml %q", fromCompose.Name, fromYAML.Name)
	}

	t.Run("spec", func(t *testing.T) {
		a, b := fromCompose.Spec, fromYAML.Spec
		if !reflect.DeepEqual(a, b) {
			t.Errorf("the compose pair and platform.yaml differ (- compose, + platform.yaml):\n%s", diff.Diff(a, b))
		}
	})

	t.Run("spec hash per service", func(t *testing.T) {
		hc, hy := specHashes(t, fromCompose, dir), specHashes(t, fromYAML, dir)
		if len(hc) != 5 {
			t.Errorf("compose pair: %d services, want the sample's 5: %v", len(hc), hc)
		}
		if !reflect.DeepEqual(hc, hy) {
			t.Errorf("spec hashes differ (- compose, + platform.yaml):\n%s", diff.Diff(hc, hy))
		}
	})
}

// loadResolved reads an Environment manifest as `berth apply -f` sends it:
// relative host paths resolved against the file's directory.
func loadResolved(t *testing.T, file string) *v1alpha1.Environment {
	t.Helper()
	data, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	var obj map[string]any
	if err := yaml.Unmarshal(data, &obj); err != nil {
		t.Fatalf("%s: %v", file, err)
	}
	if _, err := ResolvePaths(obj, filepath.Dir(file)); err != nil {
		t.Fatal(err)
	}
	resolved, err := yaml.Marshal(obj)
	if err != nil {
		t.Fatal(err)
	}
	envs, err := v1alpha1.DecodeEnvironments(resolved)
	if err != nil {
		t.Fatalf("%s: %v", file, err)
	}
	if len(envs) != 1 {
		t.Fatalf("%s: %d Environments, want 1", file, len(envs))
	}
	return envs[0]
}

// specHashes is each service's spec-hash label as the manager computes it,
// with the host reads it would make (the content of files[].path, the
// hostPath volumes' resolved paths). The sample directory is the only
// host path either form may name.
func specHashes(t *testing.T, env *v1alpha1.Environment, dir string) map[string]string {
	t.Helper()
	host := plan.HostReads{Files: map[string][]byte{}, Paths: map[string]string{}}
	for _, f := range env.Spec.Files {
		if f.Path == "" {
			continue
		}
		if !strings.HasPrefix(f.Path, dir+string(filepath.Separator)) {
			t.Errorf("%s: file %s reads %s, outside the sample", env.Name, f.Name, f.Path)
		}
		b, err := os.ReadFile(f.Path)
		if err != nil {
			t.Fatalf("%s: file %s: %v", env.Name, f.Name, err)
		}
		host.Files[f.Path] = b
	}
	for _, v := range env.Spec.Volumes {
		if v.HostPath == nil {
			continue
		}
		real, err := filepath.EvalSymlinks(v.HostPath.Path)
		if err != nil {
			t.Fatalf("%s: volume %s: %v", env.Name, v.Name, err)
		}
		host.Paths[v.HostPath.Path] = real
	}
	out := map[string]string{}
	for i := range env.Spec.Services {
		svc := &env.Spec.Services[i]
		cfg, err := plan.BuildContainerConfigHost(env, svc, plan.Options{ManagerID: "platform-compose-test"}, host)
		if err != nil {
			t.Fatalf("%s: %v", env.Name, err)
		}
		out[svc.Name] = cfg.Labels[v1alpha1.LabelSpecHash]
	}
	return out
}
