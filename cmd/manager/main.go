// Command manager is berth's long-running process: the embedded API server
// that stores Environments, the controllers that converge Docker to them,
// and the HTTP listener for /metrics and the dashboard.
package main

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/go-logr/logr"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"github.com/spf13/cobra"
	"k8s.io/apimachinery/pkg/api/resource"

	"berth.dev/berth/apis/v1alpha1"
	"berth.dev/berth/client/clientset/versioned"
	"berth.dev/berth/controllers"
	"berth.dev/berth/controllers/plan"
	"berth.dev/berth/internal/apiserver"
	"berth.dev/berth/internal/buildctx"
	"berth.dev/berth/internal/dashboard"
	"berth.dev/berth/internal/docker"
	"berth.dev/berth/internal/informer"
	"berth.dev/berth/internal/paths"
	"berth.dev/berth/internal/version"
)

type options struct {
	dataDir                  string
	apiListen                string
	dashboardListen          string
	etcdServers              []string
	docker                   docker.Config
	workers                  int
	resync                   time.Duration
	defaultMemoryLimit       string
	defaultMemoryReservation string
	allowPrivileged          bool
	allowHostPaths           []string
	verbosity                int
	buildCacheMax            string
	// Resolved in run: the budget in bytes and the build output store the
	// API's logs and the controller share.
	buildCacheBytes int64
	buildLogs       *buildctx.LogStore
}

func main() {
	if err := newCommand().Execute(); err != nil {
		fmt.Fprintln(os.Stderr, "manager:", err)
		os.Exit(1)
	}
}

func newCommand() *cobra.Command {
	o := &options{docker: docker.DefaultConfig()}
	cmd := &cobra.Command{
		Use:   "manager",
		Short: "Run berth's API server, controllers and dashboard",
		Long: `manager runs berth: an API server for Environments (berth.dev/v1alpha1),
the controllers that converge the Docker Engine to them, and an HTTP listener
for /metrics and the dashboard. When the API answers it writes
<data-dir>/kubeconfig for berth and kubectl.`,
		Version:       version.Version,
		SilenceUsage:  true,
		SilenceErrors: true,
		Args:          cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if o.dataDir == "" {
				d, err := paths.DefaultDataDir()
				if err != nil {
					return err
				}
				o.dataDir = d
			}
			ctx, stop := signal.NotifyContext(cmd.Context(), syscall.SIGTERM, syscall.SIGINT)
			defer stop()
			return run(ctx, o, newLogger(o.verbosity))
		},
	}
	f := cmd.Flags()
	f.StringVar(&o.dataDir, "data-dir", "", "directory for the store, certificate, token, kubeconfig and manager identity (default $XDG_DATA_HOME/berth, else ~/.local/share/berth)")
	f.StringVar(&o.apiListen, "api-listen", "127.0.0.1:6443", "host:port of the HTTPS API server (port 0 picks a free port)")
	f.StringVar(&o.dashboardListen, "dashboard-listen", "127.0.0.1:7878", "host:port of the dashboard and /metrics (port 0 picks a free port)")
	f.StringSliceVar(&o.etcdServers, "etcd-servers", nil, "external etcd URLs to store Environments in, instead of the embedded etcd in the data dir")
	o.docker.BindFlags(f)
	f.IntVar(&o.workers, "workers", 3, "Environments reconciled in parallel (one Environment is never reconciled twice at once)")
	f.DurationVar(&o.resync, "resync", 10*time.Minute, "how often every Environment is reconciled again and orphans are collected, even without changes")
	f.StringVar(&o.defaultMemoryLimit, "default-memory-limit", "512Mi", "memory limit of containers whose spec sets none (no container is ever unbounded)")
	f.StringVar(&o.defaultMemoryReservation, "default-memory-reservation", "256Mi", "memory reservation of containers whose spec sets none")
	f.StringVar(&o.buildCacheMax, "build-cache-max", "2Gi", "budget of the images berth built from build contexts; over it, the least recently used ones no Environment needs are removed (0 disables pruning)")
	f.BoolVar(&o.allowPrivileged, "allow-privileged", false, "admit services with privileged: true (every capability and the host's devices); refused by default")
	f.StringArrayVar(&o.allowHostPaths, "allow-host-path", nil, "a directory under which specs may mount host paths (hostPath volumes) and read files and secrets (path); repeatable; none by default")
	f.IntVarP(&o.verbosity, "v", "v", 0, "log verbosity (0 = info, 1 = debug, higher = more)")
	return cmd
}

func run(ctx context.Context, o *options, log logr.Logger) error {
	started := time.Now()
	hostRoots, err := hostPathRoots(o.allowHostPaths)
	if err != nil {
		return err
	}
	o.allowHostPaths = hostRoots
	memLimit, err := parseBytes("--default-memory-limit", o.defaultMemoryLimit)
	if err != nil {
		return err
	}
	memReservation, err := parseBytes("--default-memory-reservation", o.defaultMemoryReservation)
	if err != nil {
		return err
	}
	if o.buildCacheBytes, err = parseBudget("--build-cache-max", o.buildCacheMax); err != nil {
		return err
	}
	if err := paths.EnsurePrivateDir(o.dataDir); err != nil {
		return fmt.Errorf("data dir: %w", err)
	}
	lock, err := lockDataDir(o.dataDir)
	if err != nil {
		return err
	}
	defer lock.Release()

	registry := prometheus.NewRegistry()
	registry.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))

	managerID, err := docker.LoadOrCreateIdentity(o.dataDir)
	if err != nil {
		return err
	}
	o.docker.ManagerID = managerID
	o.docker.Logger = log
	o.docker.Registerer = registry
	dockerClient, err := docker.New(o.docker)
	if err != nil {
		return err
	}
	defer dockerClient.Close()
	// Ping in the background: a Docker Engine that is down or slow to
	// answer (its retries take seconds) must not delay the API. The
	// informer keeps retrying, and Environments wait.
	go func() {
		if v, err := dockerClient.Ping(ctx); err != nil {
			log.Error(err, "Docker Engine does not answer yet; will keep trying", "host", o.docker.Host)
		} else {
			log.Info("Docker Engine answers", "host", o.docker.Host, "apiVersion", v, "profile", string(o.docker.Profile))
		}
	}()
	dockerInformer := informer.New(dockerClient)
	// Build output is kept by the controller and served by the API's logs.
	o.buildLogs = buildctx.NewLogStore(0)

	// The API server outlives the controllers on shutdown: in-flight
	// reconciles finish against a live API, then the server drains.
	apiCtx, stopAPI := context.WithCancel(context.Background())
	defer stopAPI()
	api, err := apiserver.New(apiCtx, apiserver.Options{
		DataDir:       o.dataDir,
		ListenAddress: o.apiListen,
		EtcdServers:   o.etcdServers,
		Logs:          newDockerLogs(dockerClient, dockerInformer, o.buildLogs),
		Containers:    newDockerContainers(dockerClient, dockerInformer),
		Policy:        v1alpha1.Policy{AllowPrivileged: o.allowPrivileged, AllowedHostPaths: o.allowHostPaths},
		Log:           log.WithName("apiserver"),
	})
	if err != nil {
		return err
	}

	httpLn, err := net.Listen("tcp", o.dashboardListen)
	if err != nil {
		return fmt.Errorf("listen on %s: %w", o.dashboardListen, err)
	}
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", promhttp.HandlerFor(registry, promhttp.HandlerOpts{Registry: registry}))
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) { _, _ = w.Write([]byte("ok\n")) })
	// Dashboard: pages at / next to /metrics and /healthz; the whole
	// listener needs the API token, loopback included.
	dash, err := newDashboard(api, dockerClient, dockerInformer, registry, log)
	if err != nil {
		return err
	}
	mux.Handle("/", dash.Handler())
	httpServer := &http.Server{Handler: dashboard.Protect(mux, httpLn.Addr().String(), api.RESTConfig().BearerToken), ReadHeaderTimeout: 10 * time.Second}
	go func() {
		if err := httpServer.Serve(httpLn); err != nil && !errors.Is(err, http.ErrServerClosed) {
			log.Error(err, "dashboard listener stopped")
		}
	}()
	defer func() {
		shutdownCtx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = httpServer.Shutdown(shutdownCtx)
	}()

	controllersDone := make(chan error, 1)
	ready := func() {
		go func() {
			controllersDone <- runControllers(ctx, api, dockerClient, dockerInformer, registry, o, managerID, memLimit, memReservation, log)
		}()
		// These lines are an interface: scripts and tests read them.
		fmt.Printf("api: %s\n", api.Host())
		fmt.Printf("kubeconfig: %s\n", api.KubeconfigPath())
		fmt.Printf("metrics: http://%s/metrics\n", httpLn.Addr())
		// The sign-in URL, as Jupyter prints one: its ?token= is exchanged
		// for a cookie and dropped from the address on first use.
		fmt.Printf("dashboard: http://%s/?token=%s\n", httpLn.Addr(), url.QueryEscape(api.RESTConfig().BearerToken))
		go func() {
			if err := dash.Run(ctx); err != nil && ctx.Err() == nil {
				log.Error(err, "dashboard stopped")
			}
		}()
		log.Info("manager ready", "api", api.Host(), "dataDir", o.dataDir, "managerID", managerID,
			"startup", time.Since(started).Round(time.Millisecond).String())
	}
	apiDone := make(chan error, 1)
	go func() { apiDone <- api.Run(apiCtx, ready) }()

	select {
	case err := <-apiDone:
		return fmt.Errorf("API server stopped: %w", err)
	case <-ctx.Done():
	}
	log.Info("shutting down")
	select {
	case err := <-controllersDone:
		if err != nil {
			log.Error(err, "controllers stopped with an error")
		}
	case <-time.After(30 * time.Second):
		log.Info("controllers did not stop within 30s; stopping the API server anyway")
	}
	stopAPI()
	if err := <-apiDone; err != nil {
		return err
	}
	log.Info("manager stopped")
	return nil
}

// runControllers runs the Docker informer and the Environment controller
// until ctx is done.
func runControllers(ctx context.Context, api *apiserver.Server, dockerClient *docker.Client, dockerInformer *informer.Informer,
	registry *prometheus.Registry, o *options, managerID string, memLimit, memReservation int64, log logr.Logger) error {
	clientset, err := versioned.NewForConfig(api.RESTConfig())
	if err != nil {
		return fmt.Errorf("clientset: %w", err)
	}
	ctrl, err := controllers.New(ctx, controllers.Options{
		Clientset: clientset,
		Docker:    dockerClient,
		Cache:     dockerInformer,
		Workers:   o.workers,
		Resync:    o.resync,
		Plan: plan.Options{
			ManagerID:                managerID,
			DefaultMemoryLimit:       memLimit,
			DefaultMemoryReservation: memReservation,
			// Volumes created under retainVolumes carry a label that
			// keeps them out of the collector.
			CollectOrphanVolumes: true,
		},
		AllowedHostPaths: o.allowHostPaths,
		Registerer:       registry,
		Log:              log.WithName("controller"),
		BuildLogs:        o.buildLogs,
		BuildCacheMax:    o.buildCacheBytes,
	})
	if err != nil {
		return err
	}
	informerDone := make(chan error, 1)
	go func() { informerDone <- dockerInformer.Run(ctx) }()
	err = ctrl.Run(ctx)
	<-informerDone
	return err
}

// newDashboard builds the web dashboard over the API (its own watch of
// Environments), the Docker layer and the metrics registry.
func newDashboard(api *apiserver.Server, dockerClient *docker.Client, dockerInformer *informer.Informer,
	registry *prometheus.Registry, log logr.Logger) (*dashboard.Server, error) {
	clientset, err := versioned.NewForConfig(api.RESTConfig())
	if err != nil {
		return nil, fmt.Errorf("dashboard clientset: %w", err)
	}
	return dashboard.New(dashboard.Options{
		Clientset: clientset,
		Docker:    dockerClient,
		Cache:     dockerInformer,
		Gatherer:  registry,
		Log:       log.WithName("dashboard"),
	})
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
