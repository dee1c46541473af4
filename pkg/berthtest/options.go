package berthtest

import (
	"time"

	"berth.dev/berth/apis/v1alpha1"
)

// Option configures Start.
type Option func(*config)

type config struct {
	sources  []source
	name     string
	timeout  time.Duration
	logTail  int
	lease    time.Duration
	profiles []string
	// kubeconfig, when set, names the manager (no discovery).
	kubeconfig string
}

// source is one way to say which Environment to start; Start takes
// exactly one.
type source struct {
	what string // for error messages: File(x), Spec, Compose(x)
	file string
	env  *v1alpha1.Environment
	// compose files, one project
	compose []string
}

// Defaults of Start.
const (
	// DefaultTimeout bounds the wait for Ready.
	DefaultTimeout = 5 * time.Minute
	// DefaultLogTail is how many lines of each service's log a failed
	// test gets in t.Log.
	DefaultLogTail = 50
)

// File starts the Environment in a manifest file (YAML or JSON, as berth
// apply -f reads it; one Environment), or, when the file is a compose
// file, the compose project it describes. Relative host paths are taken
// against the file's directory.
func File(path string) Option {
	return func(c *config) { c.sources = append(c.sources, source{what: "File(" + path + ")", file: path}) }
}

// Spec starts an Environment with this spec, written with the API's Go
// types (berth.dev/berth/apis/v1alpha1). Its name comes from the test.
func Spec(spec *v1alpha1.EnvironmentSpec) Option {
	return func(c *config) {
		env := &v1alpha1.Environment{}
		if spec != nil {
			env.Spec = *spec.DeepCopy()
		}
		c.sources = append(c.sources, source{what: "Spec", env: env})
	}
}

// Environment starts a copy of env (its labels and annotations kept; its
// name, when set, is the base of the unique name unless Name is given).
func Environment(env *v1alpha1.Environment) Option {
	return func(c *config) {
		var cp *v1alpha1.Environment
		if env != nil {
			cp = env.DeepCopy()
		}
		c.sources = append(c.sources, source{what: "Environment", env: cp})
	}
}

// Compose starts the compose project of these files, later ones
// overlaying earlier ones as with docker compose -f a -f b. Fields berth
// cannot honour fail the test, each named with its path and reason.
func Compose(files ...string) Option {
	return func(c *config) {
		c.sources = append(c.sources, source{what: "Compose", compose: append([]string(nil), files...)})
	}
}

// Profiles enables compose profiles (docker compose --profile) for Compose
// and compose Files.
func Profiles(profiles ...string) Option {
	return func(c *config) { c.profiles = append(c.profiles, profiles...) }
}

// Name gives the Environment exactly this name instead of a unique one. A
// name already taken fails the test: Start never adopts an Environment it
// did not create.
func Name(name string) Option { return func(c *config) { c.name = name } }

// Timeout bounds the wait for Ready (DefaultTimeout when not given).
func Timeout(d time.Duration) Option { return func(c *config) { c.timeout = d } }

// LogTail sets how many lines of each service's log a failed test gets
// (DefaultLogTail when not given; 0 turns it off).
func LogTail(lines int) Option { return func(c *config) { c.logTail = lines } }

// LeaseDuration sets the session lease: how long after the test process's
// last renewal the manager tears the Environment down on its own (30 s
// when not given; 5 s at least).
func LeaseDuration(d time.Duration) Option { return func(c *config) { c.lease = d } }

// Kubeconfig uses the manager of this kubeconfig for this Start, instead
// of the test binary's shared one ($BERTH_KUBECONFIG, the default, or the
// in-process manager); it fails when that manager does not answer.
func Kubeconfig(path string) Option { return func(c *config) { c.kubeconfig = path } }

// Pool starts an Environment that claims a standby of the EnvironmentPool
// named pool (spec.poolRef): Ready as soon as the standby is unpaused, or,
// with no free standby, once it has converged from the pool's template.
// Endpoint, Exec, CopyTo/CopyFrom and Logs reach the standby's containers.
// Its name comes from the test.
func Pool(pool string) Option {
	return func(c *config) {
		env := &v1alpha1.Environment{Spec: v1alpha1.EnvironmentSpec{PoolRef: &v1alpha1.PoolRef{Name: pool}}}
		c.sources = append(c.sources, source{what: "Pool(" + pool + ")", env: env})
	}
}
