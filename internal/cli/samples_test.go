package cli

import (
	"os"
	"path/filepath"
	"testing"

	"sigs.k8s.io/yaml"

	"berth.dev/berth/apis/v1alpha1"
)

// A sample in a directory of its own (config/samples/<name>/<name>.yaml)
// names its build contexts and host paths relative to its file: as sent by
// `berth apply -f`, after ResolvePaths, it must validate, and every path it
// names must exist.
func TestNestedSamplesValidateOnceResolved(t *testing.T) {
	files, err := filepath.Glob(filepath.Join("..", "..", "config", "samples", "*", "*.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	if len(files) == 0 {
		t.Fatal("no sample in a directory of its own (want config/samples/platform/platform.yaml)")
	}
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) {
			data, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			var obj map[string]any
			if err := yaml.Unmarshal(data, &obj); err != nil {
				t.Fatal(err)
			}
			dir, err := filepath.Abs(filepath.Dir(f))
			if err != nil {
				t.Fatal(err)
			}
			changed, err := ResolvePaths(obj, dir)
			if err != nil {
				t.Fatal(err)
			}
			if !changed {
				t.Errorf("%s has no relative path: it belongs in config/samples itself", f)
			}
			resolved, err := yaml.Marshal(obj)
			if err != nil {
				t.Fatal(err)
			}
			envs, err := v1alpha1.DecodeEnvironments(resolved)
			if err != nil {
				t.Fatal(err)
			}
			for _, env := range envs {
				v1alpha1.SetDefaults(env)
				if errs := v1alpha1.ValidateEnvironment(env); len(errs) != 0 {
					t.Errorf("%s: %v", env.Name, errs.ToAggregate())
				}
				policy := v1alpha1.Policy{AllowedHostPaths: []string{dir}}
				if errs := v1alpha1.ValidatePolicy(&env.Spec, policy); len(errs) != 0 {
					t.Errorf("%s with --allow-host-path %s: %v", env.Name, dir, errs.ToAggregate())
				}
				var paths []string
				for _, s := range env.Spec.Services {
					if s.Build != nil {
						paths = append(paths, s.Build.Context)
					}
				}
				for _, v := range env.Spec.Volumes {
					if v.HostPath != nil {
						paths = append(paths, v.HostPath.Path)
					}
				}
				for _, f := range env.Spec.Files {
					if f.Path != "" {
						paths = append(paths, f.Path)
					}
				}
				for _, p := range paths {
					if _, err := os.Stat(p); err != nil {
						t.Errorf("%s names %s: %v", env.Name, p, err)
					}
				}
			}
		})
	}
}
