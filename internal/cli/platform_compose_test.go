package cli

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"slices"
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
// server defaults them, the two Environments are equal, and every service
// gets the same spec hash, so applying either converges the same
// containers (applying one after the other recreates nothing).
//
// Two things are compared up to what cannot matter, and only those:
//   - The order of lists keyed by name (services, networks, volumes,
//     files, dependsOn, env): compose's maps come out sorted, while
//     platform.yaml lists services in start order.
//   - The names of hostPath and emptyDir volumes: the compose loader
//     derives them from what they hold (bind-conf-<hash of the host path>,
//     tmpfs-postgres-data-<hash>), so they depend on where the sample is
//     checked out, and platform.yaml calls them conf and pgdata. Such a
//     name never reaches Docker (a bind or a tmpfs is mounted by what it
//     is), which the spec-hash half of this test proves: the hash is
//     computed from the Environments exactly as loaded, names and all.
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
		a, b := canonicalSpec(t, fromCompose), canonicalSpec(t, fromYAML)
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

// canonicalSpec is a copy of env's spec with name-keyed lists sorted and
// hostPath / emptyDir volumes renamed after what they are (see the test's
// comment for why only these).
func canonicalSpec(t *testing.T, env *v1alpha1.Environment) v1alpha1.EnvironmentSpec {
	t.Helper()
	spec := *env.DeepCopy().Spec.DeepCopy()
	rename := map[string]string{}
	for i := range spec.Volumes {
		v := &spec.Volumes[i]
		var what string
		switch {
		case v.HostPath != nil:
			what = "hostpath:" + v.HostPath.Path
		case v.EmptyDir != nil:
			// Two tmpfs volumes alike are told apart by where they
			// are mounted.
			what = fmt.Sprintf("emptydir:%s:%s:%s", v.EmptyDir.Medium, v.EmptyDir.SizeLimit.String(), mountedAt(spec, v.Name))
		default:
			continue
		}
		if prev, dup := rename[v.Name]; dup {
			t.Fatalf("%s: volume %s twice (%s)", env.Name, v.Name, prev)
		}
		rename[v.Name] = what
		v.Name = what
	}
	byName := func(a, b string) int { return strings.Compare(a, b) }
	slices.SortFunc(spec.Volumes, func(a, b v1alpha1.Volume) int { return byName(a.Name, b.Name) })
	slices.SortFunc(spec.Networks, func(a, b v1alpha1.Network) int { return byName(a.Name, b.Name) })
	slices.SortFunc(spec.Files, func(a, b v1alpha1.File) int { return byName(a.Name, b.Name) })
	slices.SortFunc(spec.Secrets, func(a, b v1alpha1.Secret) int { return byName(a.Name, b.Name) })
	slices.SortFunc(spec.Services, func(a, b v1alpha1.Service) int { return byName(a.Name, b.Name) })
	for i := range spec.Services {
		s := &spec.Services[i]
		for j := range s.VolumeMounts {
			if n, ok := rename[s.VolumeMounts[j].Name]; ok {
				s.VolumeMounts[j].Name = n
			}
		}
		slices.SortFunc(s.VolumeMounts, func(a, b v1alpha1.VolumeMount) int { return byName(a.MountPath, b.MountPath) })
		slices.SortFunc(s.Env, func(a, b v1alpha1.EnvVar) int { return byName(a.Name, b.Name) })
		slices.SortFunc(s.DependsOn, func(a, b v1alpha1.Dependency) int { return byName(a.Service, b.Service) })
		slices.SortFunc(s.Networks, func(a, b v1alpha1.ServiceNetwork) int { return byName(a.Name, b.Name) })
		slices.SortFunc(s.Files, func(a, b v1alpha1.FileMount) int { return byName(a.MountPath, b.MountPath) })
	}
	return spec
}

// mountedAt lists where volume is mounted, as service:path.
func mountedAt(spec v1alpha1.EnvironmentSpec, volume string) string {
	var at []string
	for _, s := range spec.Services {
		for _, m := range s.VolumeMounts {
			if m.Name == volume {
				at = append(at, s.Name+":"+m.MountPath)
			}
		}
	}
	slices.Sort(at)
	return strings.Join(at, ",")
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
