package controllers

import (
	"context"
	"fmt"
	"sync"
	"time"

	"k8s.io/apimachinery/pkg/api/equality"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/client-go/tools/cache"
	"k8s.io/client-go/util/workqueue"

	"berth.dev/berth/apis/v1alpha1"
	"berth.dev/berth/controllers/plan"
)

// Pools: each EnvironmentPool is reconciled on a queue of its own: count
// its standbys (Environments labelled berth.dev/pool), create the missing
// ones, delete the surplus, write the counts. A standby is an ordinary
// Environment; the Environment workers converge it (at background
// priority until claimed) and pause it.

// createdExpiry bounds how long a standby this controller created is
// counted before the informer shows it: a create whose event never
// arrives must not stop the refill forever.
const createdExpiry = time.Minute

// refillerPoll is how often a controller that is not the refiller
// (Options.RefillPools) looks again whether it has become it: the
// placement Lease may move to it without any pool event.
const refillerPoll = 5 * time.Second

// poolExpectations remembers the standbys created but not yet seen in
// the cache (the ReplicaSet controller's expectations), so a reconcile
// between a create and its event does not create another.
type poolExpectations struct {
	mu      sync.Mutex
	created map[string]map[string]time.Time // pool -> standby -> when
}

func (e *poolExpectations) add(pool, name string, now time.Time) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.created[pool] == nil {
		e.created[pool] = map[string]time.Time{}
	}
	e.created[pool][name] = now
}

// pending counts the pool's creations the cache does not show yet and
// forgets those it shows (or that expired).
func (e *poolExpectations) pending(pool string, seen map[string]bool, now time.Time) int {
	e.mu.Lock()
	defer e.mu.Unlock()
	n := 0
	for name, at := range e.created[pool] {
		if seen[name] || now.Sub(at) > createdExpiry {
			delete(e.created[pool], name)
			continue
		}
		n++
	}
	return n
}

func (c *Controller) setupPools() error {
	c.poolExpect = &poolExpectations{created: map[string]map[string]time.Time{}}
	c.poolQueue = workqueue.NewTypedRateLimitingQueueWithConfig(
		workqueue.NewTypedItemExponentialFailureRateLimiter[string](itemBaseDelay, itemMaxDelay),
		workqueue.TypedRateLimitingQueueConfig[string]{Name: "pools"})
	inf := c.factory.Berth().V1alpha1().EnvironmentPools()
	c.poolInformer = inf.Informer()
	c.poolLister = inf.Lister()
	_, err := c.poolInformer.AddEventHandler(cache.ResourceEventHandlerFuncs{
		AddFunc:    func(obj interface{}) { c.enqueuePoolObject(obj) },
		UpdateFunc: func(_, obj interface{}) { c.enqueuePoolObject(obj) },
		DeleteFunc: func(obj interface{}) { c.enqueuePoolObject(obj) },
	})
	if err != nil {
		return fmt.Errorf("environment pool informer handler: %w", err)
	}
	return nil
}

func (c *Controller) enqueuePoolObject(obj interface{}) {
	if key, err := cache.DeletionHandlingMetaNamespaceKeyFunc(obj); err == nil {
		c.poolQueue.Add(key)
	}
}

// enqueueBinding enqueues the other side of env's pool relations: a
// standby's pool and claimant, a claimant's standby. Status writes of
// one side are what the other side mirrors or waits for, so these are
// enqueued on every change, status included.
func (c *Controller) enqueueBinding(obj interface{}) {
	env, ok := obj.(*v1alpha1.Environment)
	if !ok {
		if tomb, isTomb := obj.(cache.DeletedFinalStateUnknown); isTomb {
			env, ok = tomb.Obj.(*v1alpha1.Environment)
		}
		if !ok {
			return
		}
	}
	if sb := env.Spec.Standby; sb != nil {
		c.poolQueue.Add(sb.Pool)
		if sb.ClaimRef != nil {
			c.enqueue(sb.ClaimRef.Name)
		}
	}
	if ref := env.Spec.PoolRef; ref != nil && ref.Standby != "" {
		c.enqueue(ref.Standby)
	}
}

func (c *Controller) runPoolWorker(ctx context.Context) {
	for {
		key, shutdown := c.poolQueue.Get()
		if shutdown {
			return
		}
		if err := c.reconcilePool(ctx, key); err != nil {
			c.log.Error(err, "pool reconcile failed", "pool", key)
			c.poolQueue.AddRateLimited(key)
		} else {
			c.poolQueue.Forget(key)
		}
		c.poolQueue.Done(key)
	}
}

// standbysOf lists the pool's standbys from the cache.
func (c *Controller) standbysOf(pool string) ([]*v1alpha1.Environment, error) {
	envs, err := c.lister.List(labels.SelectorFromSet(labels.Set{v1alpha1.LabelPool: pool}))
	if err != nil {
		return nil, fmt.Errorf("list standbys of pool %s: %w", pool, err)
	}
	out := envs[:0:0]
	for _, e := range envs {
		if e.Spec.Standby != nil && e.Spec.Standby.Pool == pool {
			out = append(out, e)
		}
	}
	return out, nil
}

func (c *Controller) reconcilePool(ctx context.Context, name string) error {
	if c.opts.RefillPools != nil && !c.opts.RefillPools() {
		if _, err := c.poolLister.Get(name); err == nil {
			c.poolQueue.AddAfter(name, refillerPoll)
		}
		return nil
	}
	pool, err := c.poolLister.Get(name)
	if apierrors.IsNotFound(err) {
		pool = nil
	} else if err != nil {
		return fmt.Errorf("get pool %s: %w", name, err)
	}
	standbys, err := c.standbysOf(name)
	if err != nil {
		return err
	}
	now := time.Now()
	seen := map[string]bool{}
	for _, s := range standbys {
		seen[s.Name] = true
	}
	d := plan.DecidePool(pool, standbys)
	if pending := c.poolExpect.pending(name, seen, now); pending > 0 {
		d.Create -= pending
		d.Status.Standbys += int32(pending)
	}
	envs := c.clientset.BerthV1alpha1().Environments()
	for i := 0; i < d.Create; i++ {
		sb := &v1alpha1.Environment{
			ObjectMeta: metav1.ObjectMeta{GenerateName: name + "-", Labels: map[string]string{v1alpha1.LabelPool: name},
				Annotations: map[string]string{v1alpha1.AnnotationPoolTemplate: plan.TemplateHash(pool)}},
			Spec: plan.NewStandbySpec(pool),
		}
		created, err := envs.Create(ctx, sb, metav1.CreateOptions{})
		if err != nil {
			return fmt.Errorf("create a standby of pool %s: %w", name, err)
		}
		c.poolExpect.add(name, created.Name, now)
		d.Status.Standbys++
		c.log.Info("standby created", "pool", name, "standby", created.Name)
	}
	for _, victim := range d.Delete {
		if err := c.deleteStandby(ctx, victim, "pool "+name+": more unbound standbys than its size, or of an older template"); err != nil {
			return err
		}
	}
	if pool == nil || equality.Semantic.DeepEqual(pool.Status, d.Status) {
		return nil
	}
	updated := pool.DeepCopy()
	updated.Status = d.Status
	if _, err := c.clientset.BerthV1alpha1().EnvironmentPools().UpdateStatus(ctx, updated, metav1.UpdateOptions{}); err != nil &&
		!apierrors.IsNotFound(err) && !apierrors.IsConflict(err) {
		return fmt.Errorf("update status of pool %s: %w", name, err)
	}
	return nil
}

// deleteStandby deletes a standby Environment (graceful teardown by its
// own reconcile), preconditioned on the UID the cache has, so a standby
// created again under the name is not the one deleted.
func (c *Controller) deleteStandby(ctx context.Context, name, why string) error {
	cur, err := c.lister.Get(name)
	if apierrors.IsNotFound(err) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("get standby %s: %w", name, err)
	}
	if cur.DeletionTimestamp != nil {
		return nil
	}
	uid := cur.UID
	err = c.clientset.BerthV1alpha1().Environments().Delete(ctx, name, metav1.DeleteOptions{Preconditions: &metav1.Preconditions{UID: &uid}})
	if err != nil && !apierrors.IsNotFound(err) && !apierrors.IsConflict(err) {
		return fmt.Errorf("delete standby %s: %w", name, err)
	}
	c.log.Info("standby deleted", "standby", name, "reason", why)
	return nil
}
