// Command manager is berth's long-running process: the embedded API server
// that stores Environments, the controllers that converge Docker to them,
// and the HTTP listener for /metrics and the dashboard. The wiring is
// internal/manager; this command turns flags into its Options.
package main

import (
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"github.com/spf13/cobra"

	"berth.dev/berth/internal/manager"
	"berth.dev/berth/internal/version"
)

func main() {
	if err := newCommand().Execute(); err != nil {
		fmt.Fprintln(os.Stderr, "manager:", err)
		os.Exit(1)
	}
}

func newCommand() *cobra.Command {
	o := manager.DefaultOptions()
	var verbosity int
	cmd := &cobra.Command{
		Use:   "manager",
		Short: "Run berth's API server, controllers and dashboard",
		Long: `manager runs berth: an API server for Environments (berth.dev/v1alpha1),
the controllers that converge the Docker Engine to them, and an HTTP listener
for /metrics and the dashboard. When the API answers it writes
<data-dir>/kubeconfig for berth and kubectl.

With --kubeconfig FILE it runs no API server and no etcd: the Environments
live in that Kubernetes cluster (install the CRDs with berth install), and
the manager converges its Docker Engine to them.`,
		Version:       version.Version,
		SilenceUsage:  true,
		SilenceErrors: true,
		Args:          cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx, stop := signal.NotifyContext(cmd.Context(), syscall.SIGTERM, syscall.SIGINT)
			defer stop()
			o.Out = os.Stdout
			o.Log = manager.NewLogger(os.Stderr, verbosity)
			return manager.Run(ctx, o)
		},
	}
	f := cmd.Flags()
	f.StringVar(&o.DataDir, "data-dir", o.DataDir, "directory for the store, certificate, token, kubeconfig and manager identity (default $XDG_DATA_HOME/berth, else ~/.local/share/berth)")
	f.StringVar(&o.Kubeconfig, "kubeconfig", o.Kubeconfig, "run against the Kubernetes cluster of this kubeconfig (berth's CRDs installed: berth install) instead of the embedded API server and its etcd; $KUBECONFIG is never read")
	f.StringVar(&o.APIListen, "api-listen", o.APIListen, "host:port of the HTTPS API server (port 0 picks a free port)")
	f.StringVar(&o.DashboardListen, "dashboard-listen", o.DashboardListen, "host:port of the dashboard and /metrics (port 0 picks a free port)")
	f.BoolVar(&o.Profiling, "profiling", o.Profiling, "serve Go's runtime profiles (CPU, heap, goroutines) at /debug/pprof/ on the dashboard listener, behind its token")
	f.StringSliceVar(&o.EtcdServers, "etcd-servers", o.EtcdServers, "external etcd URLs to store Environments in, instead of the embedded etcd in the data dir")
	o.Docker.BindFlags(f)
	f.IntVar(&o.Workers, "workers", o.Workers, "Environments reconciled in parallel (one Environment is never reconciled twice at once)")
	f.DurationVar(&o.Resync, "resync", o.Resync, "how often every Environment is reconciled again and orphans are collected, even without changes")
	f.StringVar(&o.DefaultMemoryLimit, "default-memory-limit", o.DefaultMemoryLimit, "memory limit of containers whose spec sets none (no container is ever unbounded)")
	f.StringVar(&o.DefaultMemoryReservation, "default-memory-reservation", o.DefaultMemoryReservation, "memory reservation of containers whose spec sets none")
	f.StringVar(&o.BuildCacheMax, "build-cache-max", o.BuildCacheMax, "budget of the images berth built from build contexts; over it, the least recently used ones no Environment needs are removed (0 disables pruning)")
	f.StringVar(&o.MemoryBudget, "memory-budget", o.MemoryBudget, "what the memory requests of admitted Environments may add up to: bytes (2Gi), a share of the Docker daemon's memory (80%), or 0 for no budget; one that does not fit waits in phase Queued")
	f.StringVar(&o.MemoryPressure, "memory-pressure", o.MemoryPressure, "no Environment is admitted while the Docker daemon's memory in use is above this share of its total (0 turns the check off)")
	f.BoolVar(&o.AllowPrivileged, "allow-privileged", o.AllowPrivileged, "admit services with privileged: true (every capability and the host's devices); refused by default")
	f.StringArrayVar(&o.AllowHostPaths, "allow-host-path", o.AllowHostPaths, "a directory under which specs may mount host paths (hostPath volumes) and read files and secrets (path); repeatable; none by default")
	f.StringVar(&o.Host, "host", o.Host, "names the Docker host this manager serves (a DNS name; default: the machine's hostname): it reconciles only the Environments bound to it (status.host)")
	f.DurationVar(&o.HostGrace, "host-grace", o.HostGrace, "with --kubeconfig: how long a host's heartbeat Lease (berth-host-<host>) may go unrenewed before its Environments show Ready=Unknown (HostUnreachable); they are never moved")
	f.BoolVar(&o.LeaderElection.Enabled, "leader-elect", o.LeaderElection.Enabled, "with --kubeconfig: managers of the same --host elect one leader through a coordination.k8s.io Lease; the others stand by (no Docker or status writes) and take over when it is gone")
	f.StringVar(&o.LeaderElection.Namespace, "leader-elect-namespace", o.LeaderElection.Namespace, "namespace of the leader Lease (named berth-manager-<host>)")
	f.DurationVar(&o.LeaderElection.LeaseDuration, "leader-elect-lease-duration", o.LeaderElection.LeaseDuration, "how long standbys wait after the leader's last renewal before taking over")
	f.DurationVar(&o.LeaderElection.RenewDeadline, "leader-elect-renew-deadline", o.LeaderElection.RenewDeadline, "how long the leader keeps retrying to renew before it gives up leading (and exits)")
	f.DurationVar(&o.LeaderElection.RetryPeriod, "leader-elect-retry-period", o.LeaderElection.RetryPeriod, "how often candidates try to acquire or renew the Lease")
	f.IntVarP(&verbosity, "v", "v", 0, "log verbosity (0 = info, 1 = debug, higher = more)")
	return cmd
}
