// Package manager is berth's long-running process as a library: the
// embedded API server that stores Environments, the controllers that
// converge Docker to them, and the HTTP listener for /metrics and the
// dashboard. cmd/manager turns its flags into Options and calls Run;
// pkg/berthtest calls Start to run one inside a test binary.
package manager

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"sync"
	"sync/atomic"
	"time"

	"github.com/go-logr/logr"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"k8s.io/client-go/rest"

	"berth.dev/berth/client/clientset/versioned"
	informers "berth.dev/berth/client/informers/externalversions"
	envinformers "berth.dev/berth/client/informers/externalversions/apis/v1alpha1"
	"berth.dev/berth/controllers"
	"berth.dev/berth/controllers/plan"
	"berth.dev/berth/internal/admission"
	"berth.dev/berth/internal/apiserver"
	"berth.dev/berth/internal/buildctx"
	"berth.dev/berth/internal/dashboard"
	"berth.dev/berth/internal/docker"
	"berth.dev/berth/internal/informer"
	"berth.dev/berth/internal/paths"
)

// Run runs a manager until ctx is done, then shuts down gracefully: the
// controllers finish their reconciles against a live API (30 s at most),
// then the API server drains.
func Run(ctx context.Context, o Options) error {
	if o.DataDir == "" {
		d, err := paths.DefaultDataDir()
		if err != nil {
			return err
		}
		o.DataDir = d
	}
	if o.Out == nil {
		o.Out = io.Discard
	}
	return run(ctx, &o, o.Log)
}

func run(ctx context.Context, o *Options, log logr.Logger) error {
	started := time.Now()
	if err := checkStoreFlags(o); err != nil {
		return err
	}
	if err := checkLeaderFlags(o); err != nil {
		return err
	}
	if err := checkHostFlags(o); err != nil {
		return err
	}
	hostRoots, err := hostPathRoots(o.AllowHostPaths)
	if err != nil {
		return err
	}
	o.AllowHostPaths = hostRoots
	memLimit, err := parseBytes("--default-memory-limit", o.DefaultMemoryLimit)
	if err != nil {
		return err
	}
	memReservation, err := parseBytes("--default-memory-reservation", o.DefaultMemoryReservation)
	if err != nil {
		return err
	}
	if o.buildCacheBytes, err = parseBudget("--build-cache-max", o.BuildCacheMax); err != nil {
		return err
	}
	if o.memoryBudget, err = parseMemoryBudget(o.MemoryBudget); err != nil {
		return err
	}
	if o.memoryPressure, err = parsePressure(o.MemoryPressure); err != nil {
		return err
	}
	o.admission = newAdmissionBudget(o.memoryBudget)
	if err := paths.EnsurePrivateDir(o.DataDir); err != nil {
		return fmt.Errorf("data dir: %w", err)
	}
	lock, err := lockDataDir(o.DataDir)
	if err != nil {
		return err
	}
	defer lock.Release()

	registry, allMetrics := newRegistries()

	managerID, err := docker.LoadOrCreateIdentity(o.DataDir)
	if err != nil {
		return err
	}
	// With --leader-elect the managers of one host own the same objects:
	// the managed-by label is the host's, the data-dir identity names
	// this process in the Lease.
	identity := managerID
	if o.LeaderElection.Enabled {
		managerID = HostOwnerID(o.Host)
	}
	role, err := newLeaderRole(registry, identity, o.Host)
	if err != nil {
		return err
	}
	if !o.LeaderElection.Enabled {
		role.set(true)
	}
	if err := registerManagerInfo(registry, o.Host, identity); err != nil {
		return err
	}
	o.Docker.ManagerID = managerID
	o.Docker.Logger = log
	o.Docker.Registerer = registry
	dockerClient, err := docker.New(o.Docker)
	if err != nil {
		return err
	}
	defer dockerClient.Close()
	// Ping in the background: a Docker Engine that is down or slow to
	// answer (its retries take seconds) must not delay the API. The
	// informer keeps retrying, and Environments wait.
	var outMu sync.Mutex // the ready lines and the address pool line
	go func() {
		if v, err := dockerClient.Ping(ctx); err != nil {
			log.Error(err, "Docker Engine does not answer yet; will keep trying", "host", o.Docker.Host)
		} else {
			log.Info("Docker Engine answers", "host", o.Docker.Host, "apiVersion", v, "profile", string(o.Docker.Profile))
		}
		// The default pool is chosen from the daemon's networks: with the
		// daemon down it is chosen at the first network create instead.
		pool, chosen, err := dockerClient.AddressPool(ctx)
		if err != nil {
			log.Error(err, "no address pool yet; the first network create chooses one")
			return
		}
		log.Info("address pool", "pool", pool.String(), "default", chosen)
		outMu.Lock()
		fmt.Fprintf(o.Out, "address pool: %s\n", pool)
		outMu.Unlock()
	}()
	dockerInformer := informer.New(dockerClient)
	// Build output is kept by the controller and served by the API's logs.
	o.buildLogs = buildctx.NewLogStore(0)

	// The API server outlives the controllers on shutdown: in-flight
	// reconciles finish against a live API, then the server drains.
	apiCtx, stopAPI := context.WithCancel(context.Background())
	defer stopAPI()
	api, err := newStore(apiCtx, o, dockerClient, dockerInformer, memLimit, memReservation, log)
	if err != nil {
		return err
	}

	// One Environment informer for the controllers and the dashboard:
	// one watch, one decode of every Environment write. It runs for the
	// whole process, as the dashboard does; the controllers add their
	// handler for each run (with --leader-elect, only while leading) and
	// remove it when the run ends.
	envClient, err := versioned.NewForConfig(api.OwnConfig())
	if err != nil {
		return fmt.Errorf("environment informer clientset: %w", err)
	}
	resync := o.Resync
	if resync <= 0 {
		resync = controllers.DefaultResync
	}
	envFactory := informers.NewSharedInformerFactory(envClient, resync)
	envs := envFactory.Berth().V1alpha1().Environments()
	envs.Informer() // registered with the factory before Start
	informersCtx, stopInformers := context.WithCancel(ctx)
	defer func() {
		stopInformers()
		envFactory.Shutdown()
	}()

	httpLn, err := net.Listen("tcp", o.DashboardListen)
	if err != nil {
		return fmt.Errorf("listen on %s: %w", o.DashboardListen, err)
	}
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", promhttp.HandlerFor(allMetrics, promhttp.HandlerOpts{Registry: registry}))
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) { _, _ = w.Write([]byte("ok\n")) })
	if o.Profiling {
		mountProfiling(mux)
	}
	// Dashboard: pages at / next to /metrics and /healthz; the whole
	// listener needs the API token, loopback included.
	dash, err := newDashboard(api.OwnConfig(), envs, dockerClient, dockerInformer, registry, log)
	if err != nil {
		return err
	}
	mux.Handle("/", dash.Handler())
	httpServer := &http.Server{Handler: dashboard.Protect(mux, httpLn.Addr().String(), api.DashboardToken()), ReadHeaderTimeout: 10 * time.Second}
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
	controllersStarted := make(chan struct{})
	leaderLost := make(chan error, 1)
	ready := func() {
		close(controllersStarted)
		envFactory.Start(informersCtx.Done())
		controllers := func(ctx context.Context) error {
			return runControllers(ctx, api, envs, dockerClient, dockerInformer, registry, o, managerID, identity, memLimit, memReservation, log)
		}
		go func() {
			if !o.LeaderElection.Enabled {
				controllersDone <- controllers(ctx)
				return
			}
			err := runLeaderElection(ctx, api.RESTConfig(), o, identity, role, controllers, log.WithName("leader"))
			controllersDone <- err
			if errors.Is(err, ErrLostLeadership) {
				leaderLost <- err
			}
		}()
		// These lines are an interface: scripts and tests read them.
		outMu.Lock()
		fmt.Fprintf(o.Out, "api: %s\n", api.Host())
		fmt.Fprintf(o.Out, "kubeconfig: %s\n", api.KubeconfigPath())
		fmt.Fprintf(o.Out, "metrics: http://%s/metrics\n", httpLn.Addr())
		// The sign-in URL, as Jupyter prints one: its ?token= is exchanged
		// for a cookie and dropped from the address on first use.
		fmt.Fprintf(o.Out, "dashboard: http://%s/?token=%s\n", httpLn.Addr(), url.QueryEscape(api.DashboardToken()))
		outMu.Unlock()
		go func() {
			if err := dash.Run(ctx); err != nil && ctx.Err() == nil {
				log.Error(err, "dashboard stopped")
			}
		}()
		log.Info("manager ready", "api", api.Host(), "external", api.External(), "dataDir", o.DataDir, "managerID", managerID,
			"identity", identity, "host", o.Host, "leaderElect", o.LeaderElection.Enabled,
			"startup", time.Since(started).Round(time.Millisecond).String())
		if o.onReady != nil {
			o.onReady(api)
		}
	}
	apiDone := make(chan error, 1)
	go func() { apiDone <- api.Run(apiCtx, ready) }()

	select {
	case err := <-apiDone:
		return fmt.Errorf("API server stopped: %w", err)
	case err := <-leaderLost:
		// The controllers have stopped already (their context was the
		// lease's); exit non-zero for the supervisor.
		stopAPI()
		<-apiDone
		return err
	case <-ctx.Done():
	}
	log.Info("shutting down")
	select {
	case <-controllersStarted:
		select {
		case err := <-controllersDone:
			if err != nil {
				log.Error(err, "controllers stopped with an error")
			}
		case <-time.After(30 * time.Second):
			log.Info("controllers did not stop within 30s; stopping the API server anyway")
		}
	default:
		// Stopped before the API answered: no controllers to wait for.
	}
	stopAPI()
	if err := <-apiDone; err != nil {
		return err
	}
	log.Info("manager stopped")
	return nil
}

// newRegistries returns berth's own metrics registry (every berth_* and
// workqueue family is registered there) and what /metrics serves: that
// registry plus the Go runtime and process collectors, kept in a registry
// of their own. The dashboard samples berth's registry every 2 s and
// charts none of the runtime families; gathering them would read
// /proc/self and the runtime's metrics on every sample (about 0.4 ms, a
// few percent of an idle manager's CPU).
func newRegistries() (berth *prometheus.Registry, all prometheus.Gatherer) {
	berth = prometheus.NewRegistry()
	runtime := prometheus.NewRegistry()
	runtime.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return berth, prometheus.Gatherers{berth, runtime}
}

// runControllers runs the Docker informer and the Environment controller
// until ctx is done. envs is the manager's Environment informer, already
// started: the controller only adds its handler for this run.
func runControllers(ctx context.Context, api store, envs envinformers.EnvironmentInformer, dockerClient *docker.Client, dockerInformer *informer.Informer,
	registry *prometheus.Registry, o *Options, managerID, identity string, memLimit, memReservation int64, log logr.Logger) error {
	clientset, err := versioned.NewForConfig(api.OwnConfig())
	if err != nil {
		return fmt.Errorf("clientset: %w", err)
	}
	// Admission starts once docker info answered (a budget given as a
	// share of the daemon's memory needs it) and the daemon's memory was
	// read once (no admission into pressure nobody looked at); until
	// then the ledger admits nothing new, and the controllers, leases
	// included, run as usual.
	ledger := admission.NewLedger(-1, o.memoryPressure)
	if err := admission.RegisterMetrics(registry, ledger); err != nil {
		return err
	}
	meter := &lazyMeter{}
	// On a cluster the manager that holds the placement Lease is the one
	// that refills warm pools: one refiller, so two hosts' managers never
	// both create a pool's missing standbys. It campaigns only while it
	// runs its host's controllers (this function), so the holder always
	// has a pool worker; on the embedded server the only manager refills.
	var refills func() bool
	if api.External() {
		placing := &atomic.Bool{}
		refills = placing.Load
		go func() {
			planOpts := plan.Options{DefaultMemoryLimit: memLimit, DefaultMemoryReservation: memReservation}
			if err := runPlacement(ctx, api.RESTConfig(), o, identity, planOpts, placing, log.WithName("placement")); err != nil {
				log.Error(err, "placement stopped")
			}
		}()
	}
	go func() {
		budget, info, err := o.admission.resolve(ctx, o.memoryBudget, dockerClient, log)
		if err != nil {
			return // shutting down
		}
		m, every, kind := chooseMeter(o.Docker.Host, info, dockerClient, dockerInformer)
		meter.set(m, every)
		if u, err := meter.Memory(ctx); err == nil {
			ledger.SetUsage(u)
		}
		ledger.SetBudget(budget)
		log.Info("admission", "budget", budget, "daemonMemory", info.MemTotal, "pressure", o.memoryPressure, "memoryUse", kind)
	}()
	ctrl, err := controllers.New(ctx, controllers.Options{
		Clientset:    clientset,
		Environments: envs,
		Docker:       dockerClient,
		Cache:        dockerInformer,
		Workers:      o.Workers,
		Resync:       o.Resync,
		Plan: plan.Options{
			ManagerID:                managerID,
			DefaultMemoryLimit:       memLimit,
			DefaultMemoryReservation: memReservation,
			// Volumes created under retainVolumes carry a label that
			// keeps them out of the collector.
			CollectOrphanVolumes: true,
		},
		AllowedHostPaths: o.AllowHostPaths,
		ExternalAPI:      api.External(),
		Policy:           policy(o),
		Registerer:       registry,
		Log:              log.WithName("controller"),
		BuildLogs:        o.buildLogs,
		BuildCacheMax:    o.buildCacheBytes,
		Admission:        ledger,
		Meter:            meter,
		MeterInterval:    localMeterInterval,
		Host:             o.Host,
		PlaceLocally:     !api.External(),
		RefillPools:      refills,
	})
	if err != nil {
		return err
	}
	if api.External() {
		// The host's budget for the placement, published while this
		// manager leads its host (this function runs only then).
		hctx, stopHeartbeat := context.WithCancel(ctx)
		heartbeatDone, err := startHeartbeat(hctx, api.RESTConfig(), o, identity, ledger, log.WithName("heartbeat"))
		if err != nil {
			stopHeartbeat()
			return err
		}
		// Also when the controller fails on its own: the heartbeat
		// must not say this host is served once it is not.
		defer func() { stopHeartbeat(); <-heartbeatDone }()
	}
	informerDone := make(chan error, 1)
	go func() { informerDone <- dockerInformer.Run(ctx) }()
	err = ctrl.Run(ctx)
	<-informerDone
	return err
}

// newDashboard builds the web dashboard over the API (the manager's
// Environment informer, shared with the controllers), the Docker layer
// and berth's metrics registry.
func newDashboard(cfg *rest.Config, envs envinformers.EnvironmentInformer, dockerClient *docker.Client, dockerInformer *informer.Informer,
	registry *prometheus.Registry, log logr.Logger) (*dashboard.Server, error) {
	clientset, err := versioned.NewForConfig(cfg)
	if err != nil {
		return nil, fmt.Errorf("dashboard clientset: %w", err)
	}
	return dashboard.New(dashboard.Options{
		Clientset:    clientset,
		Environments: envs,
		Docker:       dockerClient,
		Cache:        dockerInformer,
		Gatherer:     registry,
		Log:          log.WithName("dashboard"),
	})
}

// newStore is the embedded API server (with the Docker-backed logs, exec
// and copies it serves), or with --kubeconfig the cluster.
func newStore(ctx context.Context, o *Options, dockerClient *docker.Client, dockerInformer *informer.Informer, memLimit, memReservation int64, log logr.Logger) (store, error) {
	if o.Kubeconfig != "" {
		return newClusterStore(o.Kubeconfig, o.DataDir, log.WithName("cluster"))
	}
	srv, err := apiserver.New(ctx, apiserver.Options{
		DataDir:       o.DataDir,
		ListenAddress: o.APIListen,
		EtcdServers:   o.EtcdServers,
		Logs:          newDockerLogs(dockerClient, dockerInformer, o.buildLogs),
		Containers:    newDockerContainers(dockerClient, dockerInformer),
		Policy:        policy(o),
		Admission:     o.admission.specCheck(plan.Options{DefaultMemoryLimit: memLimit, DefaultMemoryReservation: memReservation}),
		Log:           log.WithName("apiserver"),
	})
	if err != nil {
		return nil, err
	}
	return embeddedStore{srv}, nil
}
