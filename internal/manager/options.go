package manager

import (
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/go-logr/logr"
	"k8s.io/apimachinery/pkg/api/resource"

	"berth.dev/berth/apis/v1alpha1"
	"berth.dev/berth/internal/buildctx"
	"berth.dev/berth/internal/docker"
)

// Options are the manager's settings, one field per cmd/manager flag
// (DefaultOptions holds the flags' defaults).
type Options struct {
	// DataDir holds the store, certificate, token, kubeconfig and manager
	// identity; "" is paths.DefaultDataDir.
	DataDir string
	// Kubeconfig, when set, runs the manager against that Kubernetes
	// cluster (config/crd installed) instead of its own API server and
	// etcd.
	Kubeconfig      string
	APIListen       string
	DashboardListen string
	// Profiling serves Go's runtime profiles at /debug/pprof/ on the
	// dashboard listener (behind its token, like everything there).
	Profiling                bool
	EtcdServers              []string
	Docker                   docker.Config
	Workers                  int
	Resync                   time.Duration
	DefaultMemoryLimit       string
	DefaultMemoryReservation string
	AllowPrivileged          bool
	AllowHostPaths           []string
	BuildCacheMax            string
	// MemoryBudget is what admission lets Environments' memory requests
	// add up to: bytes (2Gi), a share of the daemon's memory (80%), or 0
	// for no budget. MemoryPressure is the share of the daemon's memory in
	// use above which nothing new is admitted (90%; 0 is off).
	MemoryBudget   string
	MemoryPressure string
	// Host names the Docker host this manager serves: it reconciles only
	// the Environments bound to it (status.host).
	Host string
	// HostGrace (--host-grace), with a cluster: how long a host's
	// heartbeat may be stale before its Environments show Ready=Unknown
	// (HostUnreachable); the heartbeat is renewed several times within it.
	HostGrace time.Duration
	// LeaderElection (--leader-elect…): managers of one Host, on a
	// cluster, elect one leader that runs the controllers.
	LeaderElection LeaderElection

	// Out receives the ready lines (api:, kubeconfig:, metrics:,
	// dashboard:) that scripts read; nil discards them.
	Out io.Writer
	// Log is the root logger (NewLogger); the zero value discards.
	Log logr.Logger

	// onReady, set by Start, is called once the API answers.
	onReady func(store)
	// Resolved in run: the budget in bytes and the build output store the
	// API's logs and the controller share; the memory budget as given,
	// the pressure threshold and the budget once known.
	buildCacheBytes int64
	buildLogs       *buildctx.LogStore
	memoryBudget    memoryBudget
	memoryPressure  float64
	admission       *admissionBudget
}

// DefaultOptions returns the flags' defaults.
func DefaultOptions() Options {
	return Options{
		APIListen:                "127.0.0.1:6443",
		DashboardListen:          "127.0.0.1:7878",
		Docker:                   docker.DefaultConfig(),
		Workers:                  8,
		Resync:                   10 * time.Minute,
		DefaultMemoryLimit:       "512Mi",
		DefaultMemoryReservation: "256Mi",
		BuildCacheMax:            "2Gi",
		MemoryBudget:             "80%",
		MemoryPressure:           "90%",
		Host:                     defaultHost(),
		HostGrace:                defaultHostGrace,
		LeaderElection:           DefaultLeaderElection(),
	}
}

// checkStoreFlags refuses flags of the embedded API server next to
// --kubeconfig, where they would silently do nothing.
func checkStoreFlags(o *Options) error {
	if o.Kubeconfig == "" {
		return nil
	}
	if len(o.EtcdServers) > 0 {
		return errors.New("--etcd-servers and --kubeconfig exclude each other: with --kubeconfig the cluster stores Environments")
	}
	if o.APIListen != DefaultOptions().APIListen {
		return errors.New("--api-listen and --kubeconfig exclude each other: with --kubeconfig the manager serves no API of its own")
	}
	return nil
}

func policy(o *Options) v1alpha1.Policy {
	return v1alpha1.Policy{AllowPrivileged: o.AllowPrivileged, AllowedHostPaths: o.AllowHostPaths}
}

// parseBytes reads a Kubernetes quantity flag (512Mi) as bytes.
func parseBytes(flag, value string) (int64, error) {
	q, err := resource.ParseQuantity(value)
	if err != nil {
		return 0, fmt.Errorf("%s %q: %w", flag, value, err)
	}
	if q.Sign() <= 0 {
		return 0, fmt.Errorf("%s %q: must be positive", flag, value)
	}
	return q.Value(), nil
}

// parseBudget is parseBytes that also takes 0 (off).
func parseBudget(flag, value string) (int64, error) {
	q, err := resource.ParseQuantity(value)
	if err != nil {
		return 0, fmt.Errorf("%s %q: %w", flag, value, err)
	}
	if q.Sign() < 0 {
		return 0, fmt.Errorf("%s %q: must not be negative", flag, value)
	}
	return q.Value(), nil
}
