package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"berth.dev/berth/apis/v1alpha1"
	"berth.dev/berth/internal/compose"
)

// runInput is what `berth run -f …` read: exactly one Environment, and the
// name a unique Environment name is derived from.
type runInput struct {
	env *v1alpha1.Environment
	// base is the first file's name, used when the Environment has no
	// metadata.name.
	base string
}

// ReadManifest reads one manifest file, bounded as berth apply bounds it,
// refusing a directory.
func ReadManifest(path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, err
	}
	if st.IsDir() {
		return nil, errors.New("is a directory, not a file")
	}
	data, err := io.ReadAll(io.LimitReader(f, maxManifestBytes+1))
	if err != nil {
		return nil, err
	}
	if len(data) > maxManifestBytes {
		return nil, fmt.Errorf("larger than %d MiB", maxManifestBytes>>20)
	}
	return data, nil
}

// DecodeManifest decodes the Environments of data, read from the manifest
// file path, strictly, with relative host paths made absolute against the
// file's directory: what `berth apply -f path` sends.
func DecodeManifest(path string, data []byte) ([]*v1alpha1.Environment, error) {
	resolved, changed, err := resolveManifest(path, data)
	if err != nil {
		return nil, err
	}
	if changed {
		data = resolved
	}
	return v1alpha1.DecodeEnvironments(data)
}

// oneEnvironment checks that the files hold exactly one Environment: a
// run owns what it creates and tears down, and one name per run keeps its
// variables and teardown unambiguous.
func oneEnvironment(envs []*v1alpha1.Environment, from []string) (*v1alpha1.Environment, error) {
	switch len(envs) {
	case 0:
		return nil, errors.New("no Environment in the -f files")
	case 1:
		return envs[0], nil
	}
	parts := make([]string, len(envs))
	for i, e := range envs {
		name := e.Name
		if name == "" {
			name = "(unnamed)"
		}
		parts[i] = name + " from " + from[i]
	}
	return nil, fmt.Errorf("berth run runs one Environment, and the -f files hold %d: %s; "+
		"run them separately, or merge their services into one", len(envs), strings.Join(parts, ", "))
}

// baseName is a file's name without directory and extension.
func baseName(path string) string {
	b := filepath.Base(path)
	return strings.TrimSuffix(b, filepath.Ext(b))
}

// load reads the -f files into the one Environment to run. Compose files
// among them (compose.IsComposeFile) form one project, loaded as `docker
// compose -f a -f b` would; Environment manifests are decoded as berth
// apply reads them.
func (o *runOptions) load(ctx context.Context) (*runInput, error) {
	if o.pool != "" {
		return o.loadClaim(ctx)
	}
	var envs []*v1alpha1.Environment
	var from, composeFiles []string
	for _, f := range o.files {
		data, err := ReadManifest(f)
		if err != nil {
			return nil, fmt.Errorf("-f %s: %w", f, err)
		}
		if compose.IsComposeFile(f, data) {
			composeFiles = append(composeFiles, f)
			continue
		}
		got, err := DecodeManifest(f, data)
		if err != nil {
			return nil, fmt.Errorf("-f %s: %w", f, err)
		}
		for range got {
			from = append(from, f)
		}
		envs = append(envs, got...)
	}
	if len(composeFiles) > 0 {
		env, err := compose.Load(ctx, compose.Options{Files: composeFiles, Profiles: o.profiles, EnvFiles: o.envFiles})
		if err != nil {
			return nil, err
		}
		envs = append(envs, env)
		from = append(from, "the compose project of "+strings.Join(composeFiles, ", "))
	} else if len(o.profiles) > 0 || len(o.envFiles) > 0 {
		return nil, errors.New("--profile and --env-file apply to compose files, and -f names none")
	}
	env, err := oneEnvironment(envs, from)
	if err != nil {
		return nil, err
	}
	return &runInput{env: env, base: baseName(o.files[0])}, nil
}

// loadClaim is the Environment of `berth run --pool POOL`: a claimant of
// the pool with no services of its own. The -f files, when given, name it
// (their metadata.name, else the first file's name); their spec is not
// used, and validation would refuse services next to spec.poolRef.
func (o *runOptions) loadClaim(ctx context.Context) (*runInput, error) {
	base := o.pool
	var name string
	if len(o.files) > 0 {
		o.pool = ""
		in, err := o.load(ctx)
		o.pool = base
		if err != nil {
			return nil, err
		}
		name, base = in.env.Name, in.base
	}
	env := &v1alpha1.Environment{
		TypeMeta:   metav1.TypeMeta{APIVersion: v1alpha1.SchemeGroupVersion.String(), Kind: "Environment"},
		ObjectMeta: metav1.ObjectMeta{Name: name},
		Spec:       v1alpha1.EnvironmentSpec{PoolRef: &v1alpha1.PoolRef{Name: o.pool}},
	}
	return &runInput{env: env, base: base}, nil
}
