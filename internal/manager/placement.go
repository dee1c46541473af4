package manager

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"strings"
	"sync/atomic"
	"time"

	"github.com/go-logr/logr"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/cache"
	"k8s.io/client-go/tools/leaderelection"
	"k8s.io/client-go/tools/leaderelection/resourcelock"

	"berth.dev/berth/apis/v1alpha1"
	"berth.dev/berth/client/clientset/versioned"
	informers "berth.dev/berth/client/informers/externalversions"
	listers "berth.dev/berth/client/listers/apis/v1alpha1"
	"berth.dev/berth/controllers"
	"berth.dev/berth/controllers/plan"
)

// placer binds unbound Environments to hosts and marks the ones of hosts
// gone silent Unknown. One runs at a time: the holder of the
// berth-placement Lease, which every manager on a cluster campaigns for.
type placer struct {
	envs   versioned.Interface
	kube   kubernetes.Interface
	lister listers.EnvironmentLister
	ns     string
	grace  time.Duration
	plan   plan.Options
	log    logr.Logger
	// wake asks for a pass before the next tick.
	wake chan struct{}
}

func (p *placer) poke() {
	select {
	case p.wake <- struct{}{}:
	default:
	}
}

// runPlacement campaigns for the placement Lease until ctx is done and
// places while it holds it; losing it only stops placing (another
// manager places then), it is no reason to exit.
func runPlacement(ctx context.Context, cfg *rest.Config, o *Options, identity string, planOpts plan.Options, placing *atomic.Bool, log logr.Logger) error {
	kube, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		return fmt.Errorf("placement client: %w", err)
	}
	envs, err := versioned.NewForConfig(cfg)
	if err != nil {
		return fmt.Errorf("placement clientset: %w", err)
	}
	le := o.LeaderElection
	lock := &resourcelock.LeaseLock{
		LeaseMeta:  metav1.ObjectMeta{Namespace: le.Namespace, Name: placementLeaseName},
		Client:     kube.CoordinationV1(),
		LockConfig: resourcelock.ResourceLockConfig{Identity: identity},
	}
	for ctx.Err() == nil {
		elector, err := leaderelection.NewLeaderElector(leaderelection.LeaderElectionConfig{
			Lock:            lock,
			LeaseDuration:   le.LeaseDuration,
			RenewDeadline:   le.RenewDeadline,
			RetryPeriod:     le.RetryPeriod,
			ReleaseOnCancel: true,
			Name:            placementLeaseName,
			Callbacks: leaderelection.LeaderCallbacks{
				OnStartedLeading: func(lctx context.Context) {
					log.Info("placing Environments", "lease", le.Namespace+"/"+placementLeaseName, "identity", identity)
					placing.Store(true)
					defer placing.Store(false)
					factory := informers.NewSharedInformerFactory(envs, o.Resync)
					inf := factory.Berth().V1alpha1().Environments()
					p := &placer{envs: envs, kube: kube, lister: inf.Lister(), ns: le.Namespace, grace: o.HostGrace, plan: planOpts, log: log}
					informer := inf.Informer()
					// A new Environment is placed at once, not at the
					// next tick.
					p.wake = make(chan struct{}, 1)
					_, _ = informer.AddEventHandler(cache.ResourceEventHandlerFuncs{
						AddFunc: func(any) { p.poke() },
						UpdateFunc: func(_, obj any) {
							if e, ok := obj.(*v1alpha1.Environment); ok && e.Status.Host == "" {
								p.poke()
							}
						},
					})
					factory.Start(lctx.Done())
					defer factory.Shutdown()
					if !cache.WaitForCacheSync(lctx.Done(), informer.HasSynced) {
						return
					}
					p.run(lctx)
				},
				OnStoppedLeading: func() {
					placing.Store(false)
					log.Info("stopped placing", "identity", identity)
				},
			},
		})
		if err != nil {
			return fmt.Errorf("placement election: %w", err)
		}
		elector.Run(ctx) // returns when the lease is lost: campaign again
	}
	return nil
}

// run places every heartbeatEvery(grace) until ctx is done.
func (p *placer) run(ctx context.Context) {
	t := time.NewTicker(heartbeatEvery(p.grace))
	defer t.Stop()
	for {
		if err := p.pass(ctx, time.Now()); err != nil && ctx.Err() == nil {
			p.log.Error(err, "placement pass")
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		case <-p.wake:
		}
	}
}

// pass is one look at the hosts' heartbeats and the Environments: binds
// the unbound, unpinned ones, and marks those of silent hosts Unknown.
// Every write is conflict-checked against the cached object; a conflict
// is decided again next pass.
func (p *placer) pass(ctx context.Context, now time.Time) error {
	leases, err := p.kube.CoordinationV1().Leases(p.ns).List(ctx, metav1.ListOptions{})
	if err != nil {
		return fmt.Errorf("list host heartbeats in %s: %w", p.ns, err)
	}
	byName := map[string]HostBudget{}
	for i := range leases.Items {
		if !strings.HasPrefix(leases.Items[i].Name, hostLeasePrefix) {
			continue
		}
		if h, ok := readHostBudget(&leases.Items[i]); ok {
			byName[h.Name] = h
		}
	}
	envs, err := p.lister.List(labels.Everything())
	if err != nil {
		return fmt.Errorf("list environments: %w", err)
	}
	// What is bound to a host but not admitted there yet is not in its
	// heartbeat's figure: count it, or every Environment of a burst would
	// go to the same host.
	for _, e := range envs {
		h, ok := byName[e.Status.Host]
		if !ok || e.DeletionTimestamp != nil || meta.IsStatusConditionTrue(e.Status.Conditions, v1alpha1.ConditionAdmitted) {
			continue
		}
		h.Admitted += p.requests(e)
		byName[e.Status.Host] = h
	}
	hosts := make([]HostBudget, 0, len(byName))
	for _, h := range byName {
		hosts = append(hosts, h)
	}
	slices.SortFunc(envs, func(a, b *v1alpha1.Environment) int {
		return cmp.Or(a.CreationTimestamp.Compare(b.CreationTimestamp.Time), cmp.Compare(a.Name, b.Name))
	})
	free := freeStandbys(envs)
	var firstErr error
	keep := func(err error) {
		if err != nil && firstErr == nil && !apierrors.IsConflict(err) && !apierrors.IsNotFound(err) {
			firstErr = err
		}
	}
	for _, e := range envs {
		if e.DeletionTimestamp != nil {
			continue
		}
		switch {
		case e.Status.Host == "" && e.Spec.Host == "":
			host, ok := choosePlacement(hosts, now, p.grace)
			if ref := e.Spec.PoolRef; ref != nil && len(e.Spec.Services) == 0 {
				// A claimant binds only a standby on its own host.
				host, ok = placeClaimant(ref.Name, free, hosts, now, p.grace)
			}
			if !ok {
				keep(p.markUnknown(ctx, e, controllers.NoLiveHostCondition, noLiveHostMessage(hosts, p.grace), now))
				continue
			}
			if err := p.bind(ctx, e, host); err != nil {
				keep(err)
				continue
			}
			for i := range hosts {
				if hosts[i].Name == host {
					hosts[i].Admitted += p.requests(e)
				}
			}
		default:
			// Bound, or pinned and waiting for its host's manager to
			// bind it: Unknown while that host is silent.
			host := cmp.Or(e.Status.Host, e.Spec.Host)
			if msg, down := unreachable(host, byName, now, p.grace); down {
				keep(p.markUnknown(ctx, e, controllers.HostUnreachableCondition, msg, now))
			}
		}
	}
	return firstErr
}

// requests is env's memory requests with berth's defaults, as the host's
// admission will count them.
func (p *placer) requests(e *v1alpha1.Environment) int64 {
	d := e.DeepCopy()
	v1alpha1.SetDefaults(d)
	req, _ := plan.MemoryRequests(&d.Spec, p.plan)
	return req
}

func (p *placer) bind(ctx context.Context, e *v1alpha1.Environment, host string) error {
	updated := e.DeepCopy()
	updated.Status.Host = host
	if _, err := p.envs.BerthV1alpha1().Environments().UpdateStatus(ctx, updated, metav1.UpdateOptions{}); err != nil {
		return fmt.Errorf("bind %s to host %s: %w", e.Name, host, err)
	}
	p.log.Info("placed", "environment", e.Name, "host", host)
	return nil
}

type conditionFunc func(*v1alpha1.Environment, string, time.Time) (metav1.Condition, bool)

// markUnknown writes the Ready=Unknown condition once per reason; the
// host's manager rewrites Ready when it is back.
func (p *placer) markUnknown(ctx context.Context, e *v1alpha1.Environment, condition conditionFunc, msg string, now time.Time) error {
	cond, changed := condition(e, msg, now)
	if !changed {
		return nil
	}
	updated := e.DeepCopy()
	meta.SetStatusCondition(&updated.Status.Conditions, cond)
	if _, err := p.envs.BerthV1alpha1().Environments().UpdateStatus(ctx, updated, metav1.UpdateOptions{}); err != nil {
		return fmt.Errorf("mark %s %s: %w", e.Name, cond.Reason, err)
	}
	p.log.Info("marked Unknown", "environment", e.Name, "reason", cond.Reason, "message", msg)
	return nil
}
