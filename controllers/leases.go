package controllers

import (
	"context"
	"fmt"
	"sync"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/tools/cache"
	"k8s.io/client-go/util/workqueue"

	"berth.dev/berth/apis/v1alpha1"
	"berth.dev/berth/controllers/plan"
)

// Leases: Environments with spec.lease are checked on a queue of their
// own, so a renewal (a write to the EnvironmentLease every few seconds)
// costs a look at two cached objects, never a reconcile of the
// Environment. Each check either deletes an expired Environment or
// requeues itself at the earliest possible expiry: no polling.

// leaseMemory is what this manager process has itself seen of each lease:
// the stored renewal and the monotonic time it first saw it. It is lost on
// restart on purpose (grace after start).
type leaseMemory struct {
	started time.Time // monotonic reading: time.Now() at New
	mu      sync.Mutex
	seen    map[string]leaseSeen
}

type leaseSeen struct {
	uid    types.UID
	holder string
	renew  time.Time
	at     time.Time // monotonic
}

func newLeaseMemory(now time.Time) *leaseMemory {
	return &leaseMemory{started: now, seen: map[string]leaseSeen{}}
}

// observe records renew for the Environment and returns how long it has
// been seen unchanged.
func (m *leaseMemory) observe(env *v1alpha1.Environment, renew, now time.Time) time.Duration {
	m.mu.Lock()
	defer m.mu.Unlock()
	cur := leaseSeen{uid: env.UID, holder: env.Spec.Lease.HolderIdentity, renew: renew, at: now}
	prev, ok := m.seen[env.Name]
	if ok && prev.uid == cur.uid && prev.holder == cur.holder && prev.renew.Equal(cur.renew) {
		return now.Sub(prev.at)
	}
	m.seen[env.Name] = cur
	return 0
}

func (m *leaseMemory) forget(name string) {
	m.mu.Lock()
	delete(m.seen, name)
	m.mu.Unlock()
}

// setupLeases adds the EnvironmentLease informer and the lease queue.
func (c *Controller) setupLeases() error {
	c.leaseMem = newLeaseMemory(time.Now())
	c.leaseQueue = workqueue.NewTypedRateLimitingQueueWithConfig(
		workqueue.NewTypedItemExponentialFailureRateLimiter[string](itemBaseDelay, itemMaxDelay),
		workqueue.TypedRateLimitingQueueConfig[string]{Name: "leases"})
	inf := c.factory.Berth().V1alpha1().EnvironmentLeases()
	c.leaseInformer = inf.Informer()
	c.leaseLister = inf.Lister()
	_, err := c.leaseInformer.AddEventHandler(cache.ResourceEventHandlerFuncs{
		AddFunc:    func(obj interface{}) { c.enqueueLeaseObject(obj) },
		UpdateFunc: func(_, obj interface{}) { c.enqueueLeaseObject(obj) },
		DeleteFunc: func(obj interface{}) { c.enqueueLeaseObject(obj) },
	})
	if err != nil {
		return fmt.Errorf("environment lease informer handler: %w", err)
	}
	return nil
}

func (c *Controller) enqueueLeaseObject(obj interface{}) {
	if key, err := cache.DeletionHandlingMetaNamespaceKeyFunc(obj); err == nil {
		c.leaseQueue.Add(key)
	}
}

// leaseChanged says whether an Environment update concerns its lease
// check: a new binding (a spec change), deletion, or a resync.
func leaseChanged(oldObj, newObj interface{}) bool {
	oldEnv, ok1 := oldObj.(*v1alpha1.Environment)
	newEnv, ok2 := newObj.(*v1alpha1.Environment)
	if !ok1 || !ok2 {
		return true
	}
	if newEnv.Spec.Lease == nil && oldEnv.Spec.Lease == nil {
		return false
	}
	return oldEnv.ResourceVersion == newEnv.ResourceVersion || oldEnv.Generation != newEnv.Generation ||
		!oldEnv.DeletionTimestamp.Equal(newEnv.DeletionTimestamp)
}

func (c *Controller) runLeaseWorker(ctx context.Context) {
	for {
		key, shutdown := c.leaseQueue.Get()
		if shutdown {
			return
		}
		wait, err := c.checkLease(ctx, key)
		switch {
		case err != nil:
			c.log.Error(err, "lease check failed", "environment", key)
			c.leaseQueue.AddRateLimited(key)
		case wait > 0:
			c.leaseQueue.Forget(key)
			c.leaseQueue.AddAfter(key, wait)
		default:
			c.leaseQueue.Forget(key)
		}
		c.leaseQueue.Done(key)
	}
}

// checkLease deletes the Environment when its lease expired, or returns
// when to look again (zero: nothing to watch).
func (c *Controller) checkLease(ctx context.Context, name string) (time.Duration, error) {
	env, err := c.lister.Get(name)
	if apierrors.IsNotFound(err) {
		c.leaseMem.forget(name)
		return 0, nil
	}
	if err != nil {
		return 0, fmt.Errorf("get environment %s: %w", name, err)
	}
	if env.Spec.Lease == nil || env.DeletionTimestamp != nil {
		c.leaseMem.forget(name)
		return 0, nil
	}
	rec, err := c.leaseLister.Get(name)
	if err != nil && !apierrors.IsNotFound(err) {
		return 0, fmt.Errorf("get lease %s: %w", name, err)
	}
	if err != nil {
		rec = nil
	}
	renew, _ := plan.LeaseRenewal(env, rec)
	now := time.Now()
	decision := plan.DecideLease(plan.LeaseClock{
		Renew:     renew,
		Duration:  time.Duration(env.Spec.Lease.DurationSeconds) * time.Second,
		Now:       now,
		Unchanged: c.leaseMem.observe(env, renew, now),
		Uptime:    now.Sub(c.leaseMem.started),
	})
	if !decision.Expired {
		return decision.Wait, nil
	}
	ev := plan.LeaseExpiredEvent(env, renew, now)
	c.log.Info("lease expired: deleting the Environment", "environment", name,
		"holder", env.Spec.Lease.HolderIdentity, "lastRenewal", renew.UTC().Format(time.RFC3339Nano))
	env = env.DeepCopy()
	if err := c.writeStatus(ctx, env, env.Status, []v1alpha1.EnvironmentEvent{ev}); err != nil {
		return 0, err
	}
	uid := env.UID
	err = c.clientset.BerthV1alpha1().Environments().Delete(ctx, name, metav1.DeleteOptions{Preconditions: &metav1.Preconditions{UID: &uid}})
	if err != nil && !apierrors.IsNotFound(err) && !apierrors.IsConflict(err) {
		return 0, fmt.Errorf("delete %s after its lease expired: %w", name, err)
	}
	c.leaseMem.forget(name)
	return 0, nil
}

// deleteLeaseRecord removes the Environment's EnvironmentLease as its
// teardown ends. Kubernetes' garbage collector would do it through the
// ownerReference; berth's embedded server has none.
func (c *Controller) deleteLeaseRecord(ctx context.Context, env *v1alpha1.Environment) error {
	rec, err := c.leaseLister.Get(env.Name)
	if apierrors.IsNotFound(err) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("get lease %s: %w", env.Name, err)
	}
	if !plan.LeaseOwnedBy(rec, env) {
		return nil
	}
	uid := rec.UID
	err = c.clientset.BerthV1alpha1().EnvironmentLeases().Delete(ctx, env.Name, metav1.DeleteOptions{Preconditions: &metav1.Preconditions{UID: &uid}})
	if err != nil && !apierrors.IsNotFound(err) && !apierrors.IsConflict(err) {
		return fmt.Errorf("delete lease %s: %w", env.Name, err)
	}
	return nil
}
