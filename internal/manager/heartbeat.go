package manager

import (
	"context"
	"fmt"
	"strconv"
	"time"

	"github.com/go-logr/logr"
	coordinationv1 "k8s.io/api/coordination/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"

	"berth.dev/berth/internal/admission"
)

// The host heartbeat's annotations: what the placement reads of a host.
const (
	annotationHost             = "berth.dev/host"
	annotationBudgetBytes      = "berth.dev/memory-budget-bytes"
	annotationAdmittedBytes    = "berth.dev/admitted-requests-bytes"
	hostLeasePrefix            = "berth-host-"
	placementLeaseName         = "berth-placement"
	defaultHostGrace           = 40 * time.Second
	minHeartbeatRenew          = 500 * time.Millisecond
	maxHeartbeatRenew          = 5 * time.Second
	heartbeatRenewsWithinGrace = 8
)

// HostLeaseName is the heartbeat Lease of host: berth-host- and the host
// as a DNS label, sanitised as LeaseName is.
func HostLeaseName(host string) string {
	return hostLeasePrefix + sanitizeName(host, 253-len(hostLeasePrefix))
}

// heartbeatEvery is how often a host renews its heartbeat: several times
// within grace, so one slow write does not make it look gone.
func heartbeatEvery(grace time.Duration) time.Duration {
	return min(max(grace/heartbeatRenewsWithinGrace, minHeartbeatRenew), maxHeartbeatRenew)
}

// budgetReading is the admission figures a heartbeat publishes: budget
// bytes (0 none, -1 not known yet) and the admitted requests.
type budgetReading func() (budget, admitted int64)

// startHeartbeat runs the host's heartbeat, with the ledger's figures,
// until ctx is done; done is closed once it has retired the heartbeat, so
// a manager that stops returns only after nothing new can be placed on
// its host.
func startHeartbeat(ctx context.Context, cfg *rest.Config, o *Options, identity string, ledger *admission.Ledger, log logr.Logger) (done <-chan struct{}, err error) {
	kube, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		return nil, fmt.Errorf("heartbeat client: %w", err)
	}
	read := func() (int64, int64) {
		budget, known := ledger.Budget()
		if !known {
			return -1, 0
		}
		return budget, ledger.Snapshot().Admitted
	}
	finished := make(chan struct{})
	go func() {
		defer close(finished)
		runHeartbeat(ctx, kube, o.LeaderElection.Namespace, o.Host, identity, o.HostGrace, read, log)
	}()
	return finished, nil
}

// runHeartbeat publishes host's admission budget in its Lease until ctx is
// done, renewing it every heartbeatEvery(grace). Errors are logged and
// retried: a heartbeat that cannot be written is what makes a host
// Unknown, which is the truth then.
func runHeartbeat(ctx context.Context, cs kubernetes.Interface, ns, host, identity string, grace time.Duration, read budgetReading, log logr.Logger) {
	every := heartbeatEvery(grace)
	log.Info("publishing the host heartbeat", "lease", ns+"/"+HostLeaseName(host), "every", every.String(), "grace", grace.String())
	t := time.NewTicker(every)
	defer t.Stop()
	var lastErr string
	for {
		err := renewHeartbeat(ctx, cs, ns, host, identity, grace, read)
		if err != nil && ctx.Err() == nil && err.Error() != lastErr {
			log.Error(err, "host heartbeat not renewed; retrying", "lease", ns+"/"+HostLeaseName(host))
		}
		lastErr = ""
		if err != nil {
			lastErr = err.Error()
		}
		select {
		case <-ctx.Done():
			retireHeartbeat(cs, ns, host, identity, log)
			return
		case <-t.C:
		}
	}
}

// retireHeartbeat marks the heartbeat of a manager that stops as having no
// known budget, so nothing new is placed on a host nobody serves now: its
// last renewal would keep it live, and placeable, for --host-grace. The
// renewal time stays as it was, so its Environments still turn Unknown a
// grace after the last real heartbeat, not later; the next manager of the
// host publishes its budget again. A heartbeat someone else renewed since
// (the next leader of the host) is left alone.
func retireHeartbeat(cs kubernetes.Interface, ns, host, identity string, log logr.Logger) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	leases := cs.CoordinationV1().Leases(ns)
	name := HostLeaseName(host)
	l, err := leases.Get(ctx, name, metav1.GetOptions{})
	if err != nil {
		if !apierrors.IsNotFound(err) {
			log.Error(err, "host heartbeat not retired", "lease", ns+"/"+name)
		}
		return
	}
	if l.Spec.HolderIdentity == nil || *l.Spec.HolderIdentity != identity {
		return
	}
	if l.Annotations == nil {
		l.Annotations = map[string]string{}
	}
	l.Annotations[annotationBudgetBytes] = "-1"
	if _, err := leases.Update(ctx, l, metav1.UpdateOptions{}); err != nil {
		log.Error(err, "host heartbeat not retired", "lease", ns+"/"+name)
	}
}

func renewHeartbeat(ctx context.Context, cs kubernetes.Interface, ns, host, identity string, grace time.Duration, read budgetReading) error {
	leases := cs.CoordinationV1().Leases(ns)
	name := HostLeaseName(host)
	budget, admitted := read()
	now := metav1.NewMicroTime(time.Now())
	secs := int32(max(grace.Round(time.Second)/time.Second, 1))
	apply := func(l *coordinationv1.Lease) {
		if l.Annotations == nil {
			l.Annotations = map[string]string{}
		}
		l.Annotations[annotationHost] = host
		l.Annotations[annotationBudgetBytes] = strconv.FormatInt(budget, 10)
		l.Annotations[annotationAdmittedBytes] = strconv.FormatInt(admitted, 10)
		l.Spec.HolderIdentity = &identity
		l.Spec.LeaseDurationSeconds = &secs
		l.Spec.RenewTime = &now
		if l.Spec.AcquireTime == nil {
			l.Spec.AcquireTime = &now
		}
	}
	current, err := leases.Get(ctx, name, metav1.GetOptions{})
	if apierrors.IsNotFound(err) {
		l := &coordinationv1.Lease{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns}}
		apply(l)
		if _, err := leases.Create(ctx, l, metav1.CreateOptions{}); err != nil {
			return fmt.Errorf("create host heartbeat %s/%s: %w", ns, name, err)
		}
		return nil
	}
	if err != nil {
		return fmt.Errorf("read host heartbeat %s/%s: %w", ns, name, err)
	}
	apply(current)
	if _, err := leases.Update(ctx, current, metav1.UpdateOptions{}); err != nil {
		return fmt.Errorf("renew host heartbeat %s/%s: %w", ns, name, err)
	}
	return nil
}

// readHostBudget is a heartbeat Lease as the placement reads it; ok is
// false for a Lease that is not a berth host's.
func readHostBudget(l *coordinationv1.Lease) (HostBudget, bool) {
	host := l.Annotations[annotationHost]
	if host == "" {
		return HostBudget{}, false
	}
	h := HostBudget{Name: host, Budget: -1}
	if v, err := strconv.ParseInt(l.Annotations[annotationBudgetBytes], 10, 64); err == nil {
		h.Budget = v
	}
	if v, err := strconv.ParseInt(l.Annotations[annotationAdmittedBytes], 10, 64); err == nil {
		h.Admitted = v
	}
	if l.Spec.RenewTime != nil {
		h.Renewed = l.Spec.RenewTime.Time
	}
	return h, true
}
