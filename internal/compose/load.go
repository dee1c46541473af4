package compose

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/compose-spec/compose-go/v2/cli"
	"github.com/compose-spec/compose-go/v2/loader"
	"github.com/compose-spec/compose-go/v2/types"
	"github.com/sirupsen/logrus"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/validation"
	sigsyaml "sigs.k8s.io/yaml"

	"berth.dev/berth/apis/v1alpha1"
)

// Options say which compose project to load, as `docker compose`'s flags do.
type Options struct {
	// Files are the compose files in order; later ones overlay earlier
	// ones, like `docker compose -f a -f b`.
	Files []string
	// Name is the Environment's name; "" takes the compose project name
	// (the top-level name:, else the project directory's name).
	Name string
	// Profiles enable the services of those profiles (--profile).
	Profiles []string
	// EnvFiles are read for ${VAR} interpolation (--env-file); none reads
	// the project directory's .env when there is one.
	EnvFiles []string
	// WorkingDir is the project directory; "" is the first file's
	// directory.
	WorkingDir string
	// Environ are the variables for ${VAR} interpolation, as KEY=value;
	// nil is os.Environ(). They win over .env, as in compose.
	Environ []string
}

// Load reads the compose project o names and maps it onto an Environment.
// Every refused attribute is reported at once, in a *RefusedError; the
// Environment is also checked with berth's own validation, so what Load
// returns is what the API server accepts. Relative paths (build contexts,
// bind mounts, env_file, configs' and secrets' files) come back absolute.
func Load(ctx context.Context, o Options) (*v1alpha1.Environment, error) {
	if len(o.Files) == 0 {
		return nil, errors.New("no compose file given")
	}
	files := make([]string, len(o.Files))
	for i, f := range o.Files {
		abs, err := filepath.Abs(f)
		if err != nil {
			return nil, fmt.Errorf("compose file %s: %w", f, err)
		}
		files[i] = abs
	}
	if o.Name != "" {
		if err := checkName(o.Name, "--name"); err != nil {
			return nil, err
		}
	}
	wd := o.WorkingDir
	if wd == "" {
		wd = filepath.Dir(files[0])
	}
	environ := o.Environ
	if environ == nil {
		environ = os.Environ()
	}

	var found []loader.UnsupportedAttribute
	opts := []cli.ProjectOptionsFn{
		cli.WithWorkingDirectory(wd),
		cli.WithEnv(environ),
		cli.WithEnvFiles(o.EnvFiles...),
		cli.WithDotEnv,
		cli.WithDefaultProfiles(o.Profiles...),
		cli.WithLoadOptions(loader.WithSupportedAttributes(supportedPaths(), func(f []loader.UnsupportedAttribute) {
			found = append(found, f...)
		})),
	}
	if o.Name != "" {
		opts = append(opts, cli.WithName(o.Name))
	}
	po, err := cli.NewProjectOptions(files, opts...)
	if err != nil {
		return nil, fmt.Errorf("compose project %s: %w", strings.Join(o.Files, ", "), err)
	}
	project, err := loadProject(ctx, po)
	if err != nil {
		return nil, fmt.Errorf("load compose project %s: %w", strings.Join(o.Files, ", "), err)
	}
	if o.Name == "" {
		if err := checkName(project.Name, ""); err != nil {
			return nil, err
		}
	}

	var refused refusals
	for _, f := range found {
		// Services a profile left out are not converted; their
		// attributes do not matter.
		if parts := strings.Split(string(f.Path), "."); len(parts) > 1 && parts[0] == "services" {
			if _, active := project.Services[parts[1]]; !active {
				continue
			}
		}
		// A false boolean (tty: false, external: false) asks for what
		// berth does anyway.
		if b, ok := f.Value.(bool); ok && !b {
			continue
		}
		refused.addFinding(f)
	}
	env := &v1alpha1.Environment{
		TypeMeta:   metav1.TypeMeta{APIVersion: v1alpha1.SchemeGroupVersion.String(), Kind: "Environment"},
		ObjectMeta: metav1.ObjectMeta{Name: project.Name},
	}
	mapProject(project, &env.Spec, &refused)
	if list := refused.sorted(); len(list) > 0 {
		return nil, &RefusedError{Files: o.Files, Refusals: list}
	}

	check := env.DeepCopy()
	v1alpha1.SetDefaults(check)
	if errs := v1alpha1.ValidateEnvironment(check); len(errs) > 0 {
		msgs := make([]string, len(errs))
		for i, e := range errs {
			msgs[i] = "\n  " + e.Error()
		}
		return nil, fmt.Errorf("%s: the Environment converted from it is not valid:%s",
			strings.Join(o.Files, ", "), strings.Join(msgs, ""))
	}
	for _, w := range refused.warnings {
		logrus.Warnf("%s: %s", strings.Join(o.Files, ", "), w)
	}
	return env, nil
}

// loadProject is compose-go's LoadProject, with a panic on odd input
// (the loader asserts types the schema is meant to have checked) turned
// into an error: berth never crashes on a file.
func loadProject(ctx context.Context, po *cli.ProjectOptions) (p *types.Project, err error) {
	defer func() {
		if r := recover(); r != nil {
			p, err = nil, fmt.Errorf("compose-go could not read the project: %v", r)
		}
	}()
	return po.LoadProject(ctx)
}

// checkName checks an Environment name; flag is the flag it came from,
// "" for the compose project name.
func checkName(name, flag string) error {
	var msgs []string
	if len(name) > v1alpha1.MaxNameLength {
		msgs = append(msgs, validation.MaxLenError(v1alpha1.MaxNameLength))
	}
	for _, m := range validation.IsDNS1123Label(name) {
		if m != validation.MaxLenError(validation.DNS1123LabelMaxLength) {
			msgs = append(msgs, m)
		}
	}
	if len(msgs) == 0 {
		return nil
	}
	if flag != "" {
		return fmt.Errorf("%s %q is not a valid Environment name: %s", flag, name, strings.Join(msgs, "; "))
	}
	return fmt.Errorf("the compose project name %q is not a valid Environment name: %s; name the Environment with --name (or set name: in the compose file)",
		name, strings.Join(msgs, "; "))
}

// IsComposeFile says whether data (the content of path) is a compose file
// rather than a Kubernetes-style manifest: a YAML mapping with a top-level
// services: or include:, and neither apiVersion nor kind.
func IsComposeFile(path string, data []byte) bool {
	ext := strings.ToLower(filepath.Ext(path))
	if ext != ".yml" && ext != ".yaml" && ext != "" {
		return false
	}
	// A multi-document file is a manifest stream; compose files are one
	// document.
	trimmed := bytes.TrimPrefix(bytes.TrimSpace(data), []byte("---"))
	if bytes.Contains(trimmed, []byte("\n---")) {
		return false
	}
	var top map[string]any
	if err := sigsyaml.Unmarshal(data, &top); err != nil || top == nil {
		return false
	}
	if _, ok := top["apiVersion"]; ok {
		return false
	}
	if _, ok := top["kind"]; ok {
		return false
	}
	_, services := top["services"]
	_, include := top["include"]
	return services || include
}

// projectServices returns the project's services in name order.
func projectServices(p *types.Project) []types.ServiceConfig {
	out := make([]types.ServiceConfig, 0, len(p.Services))
	for _, name := range p.ServiceNames() {
		out = append(out, p.Services[name])
	}
	return out
}
