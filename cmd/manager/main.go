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
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/go-logr/logr"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"github.com/spf13/cobra"

	"berth.dev/berth/internal/apiserver"
	"berth.dev/berth/internal/paths"
	"berth.dev/berth/internal/version"
)

type options struct {
	dataDir         string
	apiListen       string
	dashboardListen string
	etcdServers     []string
	dockerHost      string
	verbosity       int
}

func main() {
	if err := newCommand().Execute(); err != nil {
		fmt.Fprintln(os.Stderr, "manager:", err)
		os.Exit(1)
	}
}

func newCommand() *cobra.Command {
	o := &options{}
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
	f.StringVar(&o.dockerHost, "docker-host", "", "Docker Engine address (default $DOCKER_HOST, else unix:///var/run/docker.sock)")
	f.IntVarP(&o.verbosity, "v", "v", 0, "log verbosity (0 = info, 1 = debug, higher = more)")
	return cmd
}

func run(ctx context.Context, o *options, log logr.Logger) error {
	started := time.Now()
	if err := os.MkdirAll(o.dataDir, 0o700); err != nil {
		return fmt.Errorf("create data dir: %w", err)
	}
	lock, err := lockDataDir(o.dataDir)
	if err != nil {
		return err
	}
	defer lock.Release()

	registry := prometheus.NewRegistry()
	registry.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))

	api, err := apiserver.New(ctx, apiserver.Options{
		DataDir:       o.dataDir,
		ListenAddress: o.apiListen,
		EtcdServers:   o.etcdServers,
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
	httpServer := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
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

	ready := func() {
		// These lines are an interface: scripts and tests read them.
		fmt.Printf("api: %s\n", api.Host())
		fmt.Printf("kubeconfig: %s\n", api.KubeconfigPath())
		fmt.Printf("metrics: http://%s/metrics\n", httpLn.Addr())
		log.Info("manager ready", "api", api.Host(), "dataDir", o.dataDir, "startup", time.Since(started).Round(time.Millisecond).String())
	}
	if err := api.Run(ctx, ready); err != nil && ctx.Err() == nil {
		return err
	}
	log.Info("manager stopped")
	return nil
}
