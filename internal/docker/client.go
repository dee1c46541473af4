package docker

import (
	"context"
	"fmt"
	"net/netip"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/go-logr/logr"
	"github.com/moby/moby/client"

	"berth.dev/berth/internal/governor"
)

// Client is berth's Docker client: every method goes through the governor,
// and stop/remove methods refuse objects without this manager's identity.
type Client struct {
	api *client.Client
	gov *governor.Governor
	id  string
	log logr.Logger
	// poolMu guards pool, poolChosen and reserved.
	poolMu sync.Mutex
	// pool is the --docker-address-pool, or the default pool once chosen
	// (AddressPool); nil until then.
	pool *subnetPool
	// poolChosen: pool is the default berth chose, not the flag's.
	poolChosen bool
	// reserved are subnets picked for creates: the zero time while the
	// create is in flight, then when it returned (pickSubnet).
	reserved map[netip.Prefix]time.Time
	// localDaemon: the daemon is on this host (unix socket), so it shares
	// this host's routes.
	localDaemon bool
	// dockerConfig is Config.DockerConfigDir: where pulls find registry
	// credentials (registryauth.go).
	dockerConfig string

	// nameLocks serialise creates of the same network name in this
	// process: Docker (before API 1.44) happily creates two networks with
	// one name.
	nameLocks keyedMutex
	// exits and daemonAPI: one container of an Environment goes at a time
	// on a daemon that keeps a stored endpoint count (exitturns.go);
	// daemonAPI is the daemon's API version from the last Ping.
	exits     exitTurns
	daemonAPI atomic.Value
	// owned holds container IDs verified to carry this manager's identity.
	owned ownedIDs
	// known is what this process created, for the informer (known.go).
	known knownObjects
}

// New builds a Client from a config. It does not contact the daemon; the
// first call negotiates the API version (Ping does it explicitly).
func New(cfg Config) (*Client, error) {
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("docker config: %w", err)
	}
	opts := []client.Opt{client.WithHost(cfg.Host)}
	// Not client.FromEnv / WithTLSClientConfigFromEnv: those turn TLS on
	// whenever DOCKER_CERT_PATH is set, skip verification unless
	// DOCKER_TLS_VERIFY is set, and ignore ~/.docker; berth follows the
	// CLI (tlsFiles) and loads the files with the library's own loader.
	useTLS, ca, cert, key, _ := cfg.tlsFiles() // validated above
	if useTLS {
		opts = append(opts, client.WithTLSClientConfig(ca, cert, key))
	}
	api, err := client.New(opts...)
	if err != nil {
		return nil, fmt.Errorf("docker client for %s: %w", cfg.Host, err)
	}
	gov, err := governor.New(governor.Config{Profile: cfg.Profile, MaxInFlight: cfg.MaxInFlight, QPS: cfg.QPS,
		Classify: classifyCall, Logger: cfg.Logger, Registerer: cfg.Registerer,
		RetryBackoff: cfg.RetryBackoff, CallTimeout: cfg.CallTimeout})
	if err != nil {
		api.Close()
		return nil, err
	}
	pool, _ := parseSubnetPool(cfg.AddressPool, cfg.SubnetBits) // validated above
	return &Client{api: api, gov: gov, id: cfg.ManagerID, log: cfg.Logger.WithName("docker"), pool: pool,
		localDaemon: strings.HasPrefix(cfg.Host, "unix://"), dockerConfig: cfg.DockerConfigDir}, nil
}

// Close releases idle connections and stops the governor's timers.
func (c *Client) Close() error {
	c.gov.Close()
	return c.api.Close()
}

// ManagerID is the identity this client labels objects with and acts on.
func (c *Client) ManagerID() string { return c.id }

// Stats is a snapshot of the governor for the dashboard and tests.
func (c *Client) Stats() governor.Stats { return c.gov.Stats() }

// Logger is the layer's logger, for the informer built on this client.
func (c *Client) Logger() logr.Logger { return c.log }

// Events opens one Docker event stream, admitted by the governor as a
// stream (a token, no slot). done must be called once with the stream's
// final error when the caller stops reading.
func (c *Client) Events(ctx context.Context, object string, opts client.EventsListOptions) (res client.EventsResult, done func(err error), err error) {
	done, err = c.gov.Stream(ctx, "events", object)
	if err != nil {
		return client.EventsResult{}, nil, err
	}
	return c.api.Events(ctx, opts), done, nil
}

// Governor exposes the governor, for benchmarks and metrics wiring.
func (c *Client) Governor() *governor.Governor { return c.gov }

// Ping checks the daemon answers and negotiates the API version.
func (c *Client) Ping(ctx context.Context) (apiVersion string, err error) {
	err = c.gov.Do(ctx, governor.Call{Op: "ping", Lane: governor.LaneRead, Idempotent: true}, func(ctx context.Context, _ int) error {
		r, err := c.api.Ping(ctx, client.PingOptions{NegotiateAPIVersion: true})
		apiVersion = r.APIVersion
		return err
	})
	if err == nil && apiVersion != "" {
		c.daemonAPI.Store(apiVersion)
	}
	return apiVersion, err
}

// DaemonInfo is what the dashboard shows about the engine.
type DaemonInfo struct {
	ID            string
	Name          string
	ServerVersion string
	APIVersion    string // the daemon's API version
	ClientAPI     string // the version this client negotiated
	OS            string
	Arch          string
	Kernel        string
	CPUs          int
	MemTotal      int64
	Containers    int
	Running       int
	Images        int
	SystemTime    time.Time
}

// Info reads the daemon's info and version (two reads).
func (c *Client) Info(ctx context.Context) (DaemonInfo, error) {
	var d DaemonInfo
	err := c.gov.Do(ctx, governor.Call{Op: "info", Lane: governor.LaneRead, Idempotent: true}, func(ctx context.Context, _ int) error {
		r, err := c.api.Info(ctx, client.InfoOptions{})
		if err != nil {
			return err
		}
		i := r.Info
		d.ID, d.Name, d.ServerVersion, d.OS, d.Kernel = i.ID, i.Name, i.ServerVersion, i.OperatingSystem, i.KernelVersion
		d.Arch, d.CPUs, d.MemTotal = i.Architecture, i.NCPU, i.MemTotal
		d.Containers, d.Running, d.Images = i.Containers, i.ContainersRunning, i.Images
		if t, err := time.Parse(time.RFC3339Nano, i.SystemTime); err == nil {
			d.SystemTime = t
		}
		return nil
	})
	if err != nil {
		return d, err
	}
	err = c.gov.Do(ctx, governor.Call{Op: "version", Lane: governor.LaneRead, Idempotent: true}, func(ctx context.Context, _ int) error {
		v, err := c.api.ServerVersion(ctx, client.ServerVersionOptions{})
		d.APIVersion = v.APIVersion
		return err
	})
	d.ClientAPI = c.api.ClientVersion()
	return d, err
}

// keyedMutex is a set of mutexes by name, created on demand and dropped
// when unused.
type keyedMutex struct {
	mu    sync.Mutex
	locks map[string]*keyedEntry
}

type keyedEntry struct {
	mu   sync.Mutex
	refs int
}

func (k *keyedMutex) lock(key string) (unlock func()) {
	k.mu.Lock()
	if k.locks == nil {
		k.locks = map[string]*keyedEntry{}
	}
	e := k.locks[key]
	if e == nil {
		e = &keyedEntry{}
		k.locks[key] = e
	}
	e.refs++
	k.mu.Unlock()
	e.mu.Lock()
	return func() {
		e.mu.Unlock()
		k.mu.Lock()
		e.refs--
		if e.refs == 0 {
			delete(k.locks, key)
		}
		k.mu.Unlock()
	}
}
