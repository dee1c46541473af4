package manager

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/go-logr/logr"
	"github.com/prometheus/client_golang/prometheus"
	"k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/leaderelection"
	"k8s.io/client-go/tools/leaderelection/resourcelock"

	"berth.dev/berth/apis/v1alpha1"
	"berth.dev/berth/internal/dnsname"
)

// LeaderElection are the --leader-elect flags: several managers serving
// one Docker host (the same --host) elect one leader through a
// coordination.k8s.io Lease; the others stand by and make no Docker or
// status writes.
type LeaderElection struct {
	Enabled       bool
	Namespace     string
	LeaseDuration time.Duration
	RenewDeadline time.Duration
	RetryPeriod   time.Duration
}

// DefaultLeaderElection are the timings of kube-controller-manager.
func DefaultLeaderElection() LeaderElection {
	return LeaderElection{Namespace: "default", LeaseDuration: 15 * time.Second, RenewDeadline: 10 * time.Second, RetryPeriod: 2 * time.Second}
}

// ErrLostLeadership is what a leader's Run returns when its lease was
// lost: it exits non-zero so a supervisor restarts it as a standby.
var ErrLostLeadership = errors.New("lost the leader lease; exiting so a supervisor restarts this manager as a standby")

// checkLeaderFlags refuses --leader-elect without a cluster and timings
// the election cannot honour.
func checkLeaderFlags(o *Options) error {
	le := o.LeaderElection
	if !le.Enabled {
		return nil
	}
	if o.Kubeconfig == "" {
		return errors.New("--leader-elect needs --kubeconfig: the lease lives in a Kubernetes cluster, and the embedded store already locks its data dir to one manager")
	}
	if o.Host == "" {
		return errors.New("--host: empty; managers electing a leader must name the Docker host they share")
	}
	if le.Namespace == "" {
		return errors.New("--leader-elect-namespace: empty")
	}
	if le.RetryPeriod <= 0 {
		return fmt.Errorf("--leader-elect-retry-period %s: must be positive", le.RetryPeriod)
	}
	if le.LeaseDuration <= le.RenewDeadline {
		return fmt.Errorf("--leader-elect-lease-duration %s must be greater than --leader-elect-renew-deadline %s", le.LeaseDuration, le.RenewDeadline)
	}
	// client-go's own rule (JitterFactor 1.2).
	if float64(le.RenewDeadline) <= 1.2*float64(le.RetryPeriod) {
		return fmt.Errorf("--leader-elect-renew-deadline %s must be greater than 1.2 × --leader-elect-retry-period %s", le.RenewDeadline, le.RetryPeriod)
	}
	return nil
}

// LeaseName is the Lease of the managers serving host: berth-manager-
// and the host as a DNS label (lower case; anything but letters, digits
// and '-' becomes '-'; at most 253 characters in all).
func LeaseName(host string) string {
	return "berth-manager-" + sanitizeName(host, 253-len("berth-manager-"))
}

// HostOwnerID is the managed-by label value of the managers of host when
// they elect a leader: the same for all of them, so a standby that takes
// over recognises the leader's containers as its own.
func HostOwnerID(host string) string {
	return "berth-host-" + sanitizeName(host, 63-len("berth-host-"))
}

// sanitizeName is s as a DNS label part of at most max bytes, "x" when
// nothing of it is left.
func sanitizeName(s string, max int) string {
	if out := dnsname.Part(s, max); out != "" {
		return out
	}
	return "x"
}

// leaderRole publishes berth_manager_leader (1 leader, 0 standby) with the
// manager's identity and host, and the role the dashboard shows.
type leaderRole struct {
	gauge *prometheus.GaugeVec
	id    string
	host  string
}

func newLeaderRole(reg prometheus.Registerer, id, host string) (*leaderRole, error) {
	g := prometheus.NewGaugeVec(prometheus.GaugeOpts{
		Name: "berth_manager_leader",
		Help: "1 when this manager leads its Docker host (its controllers run), 0 when it stands by.",
	}, []string{"identity", "host"})
	if err := reg.Register(g); err != nil {
		return nil, fmt.Errorf("register berth_manager_leader: %w", err)
	}
	r := &leaderRole{gauge: g, id: id, host: host}
	r.set(false)
	return r, nil
}

func (r *leaderRole) set(leader bool) {
	v := 0.0
	if leader {
		v = 1
	}
	r.gauge.WithLabelValues(r.id, r.host).Set(v)
}

// runLeaderElection campaigns for the host's Lease as identity; lead runs
// while this manager leads (its ctx is cancelled when the lease is lost or
// ctx is done). It returns ErrLostLeadership when leadership was lost
// while ctx was live, nil when ctx ended (the lease is then released).
func runLeaderElection(ctx context.Context, cfg *rest.Config, o *Options, identity string, role *leaderRole,
	lead func(context.Context) error, log logr.Logger) error {
	le := o.LeaderElection
	cs, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		return fmt.Errorf("leader election client: %w", err)
	}
	lock := &resourcelock.LeaseLock{
		LeaseMeta:  v1.ObjectMeta{Namespace: le.Namespace, Name: LeaseName(o.Host)},
		Client:     cs.CoordinationV1(),
		LockConfig: resourcelock.ResourceLockConfig{Identity: identity},
	}
	leadDone := make(chan error, 1)
	led := false
	elector, err := leaderelection.NewLeaderElector(leaderelection.LeaderElectionConfig{
		Lock:            lock,
		LeaseDuration:   le.LeaseDuration,
		RenewDeadline:   le.RenewDeadline,
		RetryPeriod:     le.RetryPeriod,
		ReleaseOnCancel: true,
		Name:            LeaseName(o.Host),
		Callbacks: leaderelection.LeaderCallbacks{
			OnStartedLeading: func(lctx context.Context) {
				led = true
				role.set(true)
				log.Info("leading", "lease", le.Namespace+"/"+LeaseName(o.Host), "identity", identity)
				leadDone <- lead(lctx)
			},
			OnStoppedLeading: func() {
				role.set(false)
				log.Info("stopped leading", "lease", le.Namespace+"/"+LeaseName(o.Host), "identity", identity)
			},
			OnNewLeader: func(holder string) {
				if holder != identity {
					log.Info("standing by", "leader", holder, "lease", le.Namespace+"/"+LeaseName(o.Host))
				}
			},
		},
	})
	if err != nil {
		return fmt.Errorf("leader election: %w", err)
	}
	log.Info("standing by until elected", "lease", le.Namespace+"/"+LeaseName(o.Host), "identity", identity)
	// Run returns once leadership is lost or ctx is done; OnStartedLeading
	// runs in its own goroutine, so wait for lead to return (a reconcile
	// in flight is cancelled by lctx) before reporting.
	elector.Run(ctx)
	if led {
		if err := <-leadDone; err != nil && ctx.Err() == nil {
			log.Error(err, "controllers stopped with an error")
		}
	}
	if ctx.Err() != nil {
		return nil
	}
	return ErrLostLeadership
}

// defaultHost is --host's default, the machine's hostname, lower-cased
// (and made a DNS label if it is not a DNS name even then), so that it is
// a valid spec.host.
func defaultHost() string {
	h, err := os.Hostname()
	if err != nil {
		return ""
	}
	h = strings.ToLower(h)
	if len(v1alpha1.ValidateHostName(h)) > 0 {
		h = sanitizeName(h, 63)
	}
	return h
}

// checkHostFlags refuses a --host that no spec.host could name and a
// --host-grace the heartbeat cannot keep.
func checkHostFlags(o *Options) error {
	if msgs := v1alpha1.ValidateHostName(o.Host); len(msgs) > 0 {
		return fmt.Errorf("--host %q: %s (it is what spec.host and status.host name)", o.Host, strings.Join(msgs, "; "))
	}
	if o.HostGrace < 2*time.Second {
		return fmt.Errorf("--host-grace %s: must be at least 2s (the heartbeat is renewed several times within it)", o.HostGrace)
	}
	return nil
}

// registerManagerInfo publishes berth_manager_info{host,identity} = 1:
// which Docker host and which manager a /metrics belongs to.
func registerManagerInfo(reg prometheus.Registerer, host, identity string) error {
	g := prometheus.NewGaugeVec(prometheus.GaugeOpts{
		Name: "berth_manager_info",
		Help: "Always 1: the Docker host (--host) this manager serves and its identity.",
	}, []string{"host", "identity"})
	if err := reg.Register(g); err != nil {
		return fmt.Errorf("register berth_manager_info: %w", err)
	}
	g.WithLabelValues(host, identity).Set(1)
	return nil
}
