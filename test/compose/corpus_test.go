package compose

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	apiequality "k8s.io/apimachinery/pkg/api/equality"
	"k8s.io/cli-runtime/pkg/genericiooptions"
	cmdutil "k8s.io/kubectl/pkg/cmd/util"

	"berth.dev/berth/apis/v1alpha1"
	"berth.dev/berth/internal/cli"
)

var update = flag.Bool("update", false, "rewrite every corpus project's expected.txt from what berth convert does now")

const (
	// corpusDir holds one directory per project.
	corpusDir = "corpus"
	// minProjects keeps the corpus from shrinking unnoticed: a test over
	// an emptied directory would pass on nothing.
	minProjects = 25
	// expectedFile is the committed outcome of each project.
	expectedFile = "expected.txt"
	// argsFile, when present, holds convert's flags for the project
	// (-f, --profile, --env-file, --name); paths are relative to the
	// project's directory.
	argsFile = "args.txt"
	// corpusToken replaces the corpus's absolute path in everything
	// compared or printed, so expected.txt holds in every checkout.
	corpusToken = "<corpus>"
)

// defaultFiles are the names `docker compose` looks for, in its order;
// the first one present is the project's file when there is no args.txt.
var defaultFiles = []string{"compose.yaml", "compose.yml", "docker-compose.yml", "docker-compose.yaml"}

// project is one corpus entry.
type project struct {
	name string
	dir  string   // absolute
	args []string // convert's flags as written in args.txt
}

// result is what `berth convert` made of a project.
type result struct {
	project  string
	env      *v1alpha1.Environment // nil when convert refused
	refusals []refusal             // when refused: each line of the error
	needs    []string              // when converted: what admission needs beyond --allow-host-path <project dir>
}

// refusal is one line of a refused conversion, split at the field path
// when the line has one.
type refusal struct {
	path   string // "services.web.network_mode"; "" when the line names none
	reason string
}

// TestCorpus runs `berth convert` over every corpus project and checks
// each outcome against the project's expected.txt, and every converted
// Environment against the API server's validation. With -v it prints the
// share that converts and every refused field with its reason.
func TestCorpus(t *testing.T) {
	unsetComposeEnv(t)
	root, err := filepath.Abs(corpusDir)
	if err != nil {
		t.Fatal(err)
	}
	projects, err := loadProjects(root)
	if err != nil {
		t.Fatal(err)
	}
	if len(projects) < minProjects {
		t.Fatalf("corpus has %d projects, want at least %d", len(projects), minProjects)
	}
	var results []result
	for _, p := range projects {
		t.Run(p.name, func(t *testing.T) {
			r := convertProject(t, root, p)
			results = append(results, r)
			checkExpected(t, p, r)
		})
	}
	t.Log("\n" + report(results))
}

// unsetComposeEnv removes the COMPOSE_* variables of the caller's shell
// for the test (COMPOSE_PROFILES, COMPOSE_FILE, COMPOSE_PROJECT_NAME
// would change what every project loads), restoring them afterwards.
func unsetComposeEnv(t *testing.T) {
	for _, kv := range os.Environ() {
		k, _, _ := strings.Cut(kv, "=")
		if strings.HasPrefix(k, "COMPOSE_") {
			t.Setenv(k, "") // registers the restore
			if err := os.Unsetenv(k); err != nil {
				t.Fatal(err)
			}
		}
	}
}

// loadProjects lists the corpus's projects in name order.
func loadProjects(root string) ([]project, error) {
	entries, err := os.ReadDir(root)
	if err != nil {
		return nil, fmt.Errorf("read corpus: %w", err)
	}
	var projects []project
	for _, e := range entries {
		if !e.IsDir() {
			continue
		}
		p := project{name: e.Name(), dir: filepath.Join(root, e.Name())}
		data, err := os.ReadFile(filepath.Join(p.dir, argsFile))
		switch {
		case err == nil:
			p.args = strings.Fields(string(data))
		case errors.Is(err, os.ErrNotExist):
			for _, f := range defaultFiles {
				if _, err := os.Stat(filepath.Join(p.dir, f)); err == nil {
					p.args = []string{"-f", f}
					break
				}
			}
			if p.args == nil {
				return nil, fmt.Errorf("project %s: no %s and none of %s", p.name, argsFile, strings.Join(defaultFiles, ", "))
			}
		default:
			return nil, fmt.Errorf("project %s: %w", p.name, err)
		}
		projects = append(projects, p)
	}
	return projects, nil
}

// convertArgs is the command line of `berth convert -o output` for p: its flags
// with every path made absolute (the test's working directory is not
// the project's).
func convertArgs(p project, output string) []string {
	args := []string{"convert", "-o", output}
	for i := 0; i < len(p.args); i++ {
		a := p.args[i]
		if (a == "-f" || a == "--file" || a == "--env-file") && i+1 < len(p.args) {
			args = append(args, a, filepath.Join(p.dir, p.args[i+1]))
			i++
			continue
		}
		args = append(args, a)
	}
	return args
}

// fatalError is what a kubectl-style fatal exit becomes inside the test
// (cmdutil.CheckErr would otherwise end the test binary).
type fatalError struct {
	msg  string
	code int
}

func (e *fatalError) Error() string { return strings.TrimSpace(e.msg) }

// runBerth runs the berth command in-process, the same root command
// bin/berth runs, and returns its stdout and its error.
func runBerth(ctx context.Context, args []string) (stdout string, err error) {
	var out, errOut bytes.Buffer
	cmd := cli.NewRootCommand(genericiooptions.IOStreams{In: strings.NewReader(""), Out: &out, ErrOut: &errOut})
	cmd.SetArgs(args)
	cmdutil.BehaviorOnFatal(func(msg string, code int) { panic(&fatalError{msg: msg, code: code}) })
	defer cmdutil.DefaultBehaviorOnFatal()
	defer func() {
		if r := recover(); r != nil {
			fe, ok := r.(*fatalError)
			if !ok {
				panic(r)
			}
			err = fe
		}
	}()
	err = cmd.ExecuteContext(ctx)
	if err == nil && out.Len() == 0 {
		err = fmt.Errorf("printed nothing; stderr: %s", errOut.String())
	}
	return out.String(), err
}

// convertProject converts p and checks what came out: a converted
// Environment must decode strictly and pass the API's validation, since
// the manager would refuse it otherwise.
func convertProject(t *testing.T, root string, p project) result {
	t.Helper()
	r := result{project: p.name}
	out, err := runBerth(t.Context(), convertArgs(p, "yaml"))
	if err != nil {
		r.refusals = parseRefusals(normalize(err.Error(), root))
		// A refusal names the fields it refuses; an error that names none
		// (a flag error, a file compose-go cannot load, a crash) is a
		// failure of convert, never an expected outcome.
		if !slices.ContainsFunc(r.refusals, func(f refusal) bool { return f.path != "" }) {
			t.Fatalf("berth convert failed without naming a refused field: %v", normalize(err.Error(), root))
		}
		return r
	}
	envs, err := v1alpha1.DecodeEnvironments([]byte(out))
	if err != nil {
		t.Fatalf("berth convert printed what the API cannot decode (a bug in internal/compose): %v\n%s", err, out)
	}
	if len(envs) != 1 {
		t.Fatalf("berth convert printed %d Environments, want 1", len(envs))
	}
	env := envs[0]
	// A second run, printed as JSON, must give the same Environment:
	// conversion is deterministic (derived volume names, order) and both
	// printers carry every field.
	if again := convertJSON(t, p); again != nil && !apiequality.Semantic.DeepEqual(env, again) {
		t.Errorf("berth convert -o json gave another Environment than -o yaml (a bug in internal/compose):\nyaml: %+v\njson: %+v", env.Spec, again.Spec)
	}
	v1alpha1.SetDefaults(env)
	if errs := v1alpha1.ValidateEnvironment(env); len(errs) > 0 {
		t.Errorf("the converted Environment fails the API's validation, so the manager would refuse it (a bug in internal/compose):\n%s",
			normalize(errs.ToAggregate().Error(), root))
	}
	r.env = env
	r.needs = admissionNeeds(env, p.dir, root)
	return r
}

// convertJSON converts p again with -o json and decodes the result.
func convertJSON(t *testing.T, p project) *v1alpha1.Environment {
	t.Helper()
	out, err := runBerth(t.Context(), convertArgs(p, "json"))
	if err != nil {
		t.Errorf("berth convert -o json failed where -o yaml converted: %v", err)
		return nil
	}
	envs, err := v1alpha1.DecodeEnvironments([]byte(out))
	if err != nil || len(envs) != 1 {
		t.Errorf("berth convert -o json printed %d Environments (%v):\n%s", len(envs), err, out)
		return nil
	}
	return envs[0]
}

// admissionNeeds says what a manager must allow to admit env beyond
// --allow-host-path <project dir> (which every project with a bind mount,
// a file or a build needs): --allow-privileged, and host paths outside
// the project.
func admissionNeeds(env *v1alpha1.Environment, dir, root string) []string {
	var needs []string
	policy := v1alpha1.Policy{AllowedHostPaths: []string{dir}}
	for _, e := range v1alpha1.ValidatePolicy(&env.Spec, policy) {
		if strings.HasSuffix(e.Field, ".privileged") {
			if !slices.Contains(needs, "--allow-privileged") {
				needs = append(needs, "--allow-privileged")
			}
		}
	}
	var outside []string
	for _, hp := range hostPaths(&env.Spec) {
		if policy.HostPathAllowed(hp) != nil {
			outside = append(outside, normalize(hp, root))
		}
	}
	if len(outside) > 0 {
		slices.Sort(outside)
		needs = append(needs, "host paths outside the project: "+strings.Join(slices.Compact(outside), " "))
	}
	return needs
}

// hostPaths lists every host path a spec reads or mounts, the ones
// ValidatePolicy checks.
func hostPaths(spec *v1alpha1.EnvironmentSpec) []string {
	var paths []string
	for _, v := range spec.Volumes {
		if v.HostPath != nil {
			paths = append(paths, v.HostPath.Path)
		}
	}
	for _, f := range spec.Files {
		if f.Path != "" {
			paths = append(paths, f.Path)
		}
	}
	for _, s := range spec.Secrets {
		if s.Path != "" {
			paths = append(paths, s.Path)
		}
	}
	for _, s := range spec.Services {
		if s.Build != nil && s.Build.Context != "" {
			paths = append(paths, s.Build.Context)
		}
	}
	return paths
}

// normalize replaces the corpus's absolute path (as given and with
// symlinks resolved) with corpusToken.
func normalize(s, root string) string {
	if real, err := filepath.EvalSymlinks(root); err == nil && real != root {
		s = strings.ReplaceAll(s, real, corpusToken)
	}
	return strings.ReplaceAll(s, root, corpusToken)
}
