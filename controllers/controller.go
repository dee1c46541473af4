package controllers

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/go-logr/logr"
	"github.com/prometheus/client_golang/prometheus"
	"golang.org/x/time/rate"
	"k8s.io/apimachinery/pkg/api/equality"
	utilruntime "k8s.io/apimachinery/pkg/util/runtime"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/tools/cache"
	"k8s.io/client-go/util/workqueue"

	"berth.dev/berth/apis/v1alpha1"
	"berth.dev/berth/client/clientset/versioned"
	informers "berth.dev/berth/client/informers/externalversions"
	envinformers "berth.dev/berth/client/informers/externalversions/apis/v1alpha1"
	listers "berth.dev/berth/client/listers/apis/v1alpha1"
	"berth.dev/berth/controllers/plan"
	"berth.dev/berth/internal/admission"
	"berth.dev/berth/internal/buildctx"
	"berth.dev/berth/internal/docker"
	"berth.dev/berth/internal/informer"
	"berth.dev/berth/internal/probe"
)

// Options configure the Environment controller.
type Options struct {
	// Clientset reaches the API that serves Environments: berth's embedded
	// server, or any Kubernetes API with config/crd installed.
	Clientset versioned.Interface
	Docker    docker.Docker
	Cache     informer.Cache
	// Environments, when set, is a shared Environment informer the
	// controller uses instead of building its own, so one process that
	// also watches Environments elsewhere (the manager's dashboard) keeps
	// one watch. Its owner starts it and keeps it running while the
	// controller runs; Run only waits for it to sync. The controller's
	// event handler is added when Run starts and removed when it returns,
	// so none outlives a run (a leader's term). Its factory's resync
	// should be Resync: the handler asks for Resync, and a started
	// informer cannot resync more often than its factory was built for.
	Environments envinformers.EnvironmentInformer
	// Workers reconcile different Environments in parallel; one
	// Environment is never reconciled by two workers at once.
	Workers int
	// Resync re-lists Environments and collects orphans this often
	// (DefaultResync when zero).
	Resync time.Duration
	// Plan carries the manager identity and default memory limits.
	Plan plan.Options
	// AllowedHostPaths are the roots under which host paths may be read
	// or mounted (--allow-host-path), checked again with symlinks
	// resolved when the manager reads or mounts them.
	AllowedHostPaths []string
	// QueueQPS and QueueBurst are the queue-wide token bucket that caps
	// how fast keys are handed to workers after failures.
	QueueQPS   float64
	QueueBurst int
	Registerer prometheus.Registerer
	Log        logr.Logger
	// BuildLogs keeps each service's last build output for `berth logs`
	// (a store of its own when nil).
	BuildLogs *buildctx.LogStore
	// BuildCacheMax is the byte budget of the images berth built; 0
	// disables pruning.
	BuildCacheMax int64
	// ExternalAPI says the API is a Kubernetes cluster serving config/crd,
	// not berth's embedded server: it stores specs as written, so the
	// controller applies berth's defaults itself, and validates each
	// generation (with Policy) before it makes anything, refusing an
	// invalid one with the InvalidSpec condition.
	ExternalAPI bool
	// Policy is what the manager's flags permit (--allow-privileged,
	// --allow-host-path); checked by the controller when ExternalAPI.
	Policy v1alpha1.Policy
	// Admission gates Environments by the manager's memory budget; nil
	// admits everything (no budget).
	Admission *admission.Ledger
	// Meter samples the daemon's memory every MeterInterval (5 s when
	// zero) for the ledger's pressure check; nil never reports pressure.
	Meter         admission.Meter
	MeterInterval time.Duration
	// Host is the Docker host this controller serves (--host): it
	// reconciles only Environments bound to it (status.host), binds the
	// ones pinned to it (spec.host) and leaves every other one alone.
	// "" serves every Environment.
	Host string
	// PlaceLocally binds unpinned Environments to Host too, and marks the
	// ones pinned to another host HostUnreachable: the embedded server's
	// only manager, where no placement holder runs.
	PlaceLocally bool
	// RefillPools says whether this controller is the one that refills
	// warm pools now (creates missing standbys, deletes surplus ones,
	// writes the pools' status): on a cluster, the placement holder, so
	// the hosts' managers do not refill at once. nil always refills.
	RefillPools func() bool
}

// Controller converges Docker to Environments: the sample-controller shape,
// informers feeding one rate-limited workqueue, N workers running reconcile.
type Controller struct {
	opts      Options
	log       logr.Logger
	clientset versioned.Interface
	docker    docker.Docker
	cache     informer.Cache
	factory   informers.SharedInformerFactory
	informer  cache.SharedIndexInformer
	lister    listers.EnvironmentLister
	queue     workqueue.TypedRateLimitingInterface[string]
	probes    *probe.Manager
	images    *imageBook
	builds    *buildBook
	buildLogs *buildctx.LogStore
	everReady *readyMemory
	runs      *runMemory
	stale     *staleGuard
	refusals  *networkRefusals
	valid     *validMemory
	failures  *failureMemory
	written   *writtenMemory
	metrics   *reconcileMetrics
	requests  requestBook

	leaseInformer cache.SharedIndexInformer
	leaseLister   listers.EnvironmentLeaseLister
	leaseQueue    workqueue.TypedRateLimitingInterface[string]
	leaseMem      *leaseMemory

	poolInformer cache.SharedIndexInformer
	poolLister   listers.EnvironmentPoolLister
	poolQueue    workqueue.TypedRateLimitingInterface[string]
	poolExpect   *poolExpectations
	background   backgroundSlot

	orphanMu sync.Mutex
}

// The per-item backoff mirrors the seed's 1→2→4 s retries, capped like
// kubelet's CrashLoopBackOff.
const (
	// DefaultResync is Options.Resync when zero.
	DefaultResync = 10 * time.Minute

	itemBaseDelay = time.Second
	itemMaxDelay  = 5 * time.Minute
)

// New builds the controller; Run starts it.
func New(ctx context.Context, opts Options) (*Controller, error) {
	if opts.Workers <= 0 {
		opts.Workers = 8
	}
	if opts.Resync <= 0 {
		opts.Resync = DefaultResync
	}
	if opts.QueueQPS <= 0 {
		opts.QueueQPS = 10
	}
	if opts.QueueBurst <= 0 {
		opts.QueueBurst = 100
	}
	if opts.Registerer == nil {
		opts.Registerer = prometheus.NewRegistry()
	}
	c := &Controller{
		opts:      opts,
		log:       opts.Log,
		clientset: opts.Clientset,
		docker:    opts.Docker,
		cache:     opts.Cache,
		images:    newImageBook(),
		builds:    newBuildBook(),
		buildLogs: opts.BuildLogs,
		everReady: newReadyMemory(),
		runs:      newRunMemory(),
		stale:     newStaleGuard(),
		refusals:  newNetworkRefusals(),
		valid:     newValidMemory(),
		failures:  newFailureMemory(),
		written:   newWrittenMemory(),
		metrics:   newReconcileMetrics(opts.Registerer),
		// One unbound standby at a time does Docker work (see
		// backgroundSlot), leaving the other workers to user work.
		background: make(backgroundSlot, 1),
	}
	if c.buildLogs == nil {
		c.buildLogs = buildctx.NewLogStore(0)
	}
	limiter := workqueue.NewTypedMaxOfRateLimiter(
		workqueue.NewTypedItemExponentialFailureRateLimiter[string](itemBaseDelay, itemMaxDelay),
		&workqueue.TypedBucketRateLimiter[string]{Limiter: rate.NewLimiter(rate.Limit(opts.QueueQPS), opts.QueueBurst)},
	)
	c.queue = workqueue.NewTypedRateLimitingQueueWithConfig(limiter, workqueue.TypedRateLimitingQueueConfig[string]{
		Name:            "environments",
		MetricsProvider: newQueueMetrics(opts.Registerer),
	})

	probes, err := probe.NewManager(ctx, probe.Options{
		Logger:     opts.Log,
		Registerer: opts.Registerer,
		OnChange:   c.enqueue,
		Execer: probe.ExecFunc(func(ctx context.Context, id string, cmd []string, timeout time.Duration) (probe.ExecResult, error) {
			r, err := opts.Docker.Exec(ctx, id, cmd, timeout)
			return probe.ExecResult(r), err
		}),
		Logs: probeLogs(opts.Docker),
	})
	if err != nil {
		return nil, fmt.Errorf("probe manager: %w", err)
	}
	c.probes = probes

	c.factory = informers.NewSharedInformerFactory(opts.Clientset, opts.Resync)
	envInformer := opts.Environments
	if envInformer == nil {
		envInformer = c.factory.Berth().V1alpha1().Environments()
	}
	c.informer = envInformer.Informer()
	c.lister = envInformer.Lister()
	if err := c.setupLeases(); err != nil {
		return nil, err
	}
	if err := c.setupPools(); err != nil {
		return nil, err
	}
	// A Docker object changing (a container dying, removed from outside,
	// an orphan appearing) enqueues the Environment it belongs to.
	opts.Cache.AddHandler(func(env string, _ informer.Event) {
		if env != "" {
			c.enqueue(env)
		}
	})
	return c, nil
}

// environmentHandler enqueues an Environment's own key, its lease check
// and the other side of its pool relations. Run adds it to the
// Environment informer for the length of the run.
func (c *Controller) environmentHandler() cache.ResourceEventHandler {
	return cache.ResourceEventHandlerFuncs{
		AddFunc: func(obj interface{}) {
			if c.wants(obj) {
				c.enqueueObject(obj)
			}
			c.enqueueLeaseObject(obj)
			c.enqueueBinding(obj)
		},
		UpdateFunc: func(oldObj, newObj interface{}) {
			if needsReconcile(oldObj, newObj) && c.wants(newObj) {
				c.enqueueObject(newObj)
			}
			if leaseChanged(oldObj, newObj) {
				c.enqueueLeaseObject(newObj)
			}
			c.enqueueBinding(oldObj)
			c.enqueueBinding(newObj)
		},
		DeleteFunc: func(obj interface{}) {
			if c.wants(obj) {
				c.enqueueObject(obj)
			}
			c.enqueueLeaseObject(obj)
			c.enqueueBinding(obj)
		},
	}
}

// needsReconcile filters the controller's own status writes out of the
// update stream: reacting to them would re-run a failing reconcile at once,
// bypassing the workqueue's backoff (every failure writes a status event,
// which would enqueue the key again immediately). Spec changes, metadata the
// reconcile reads (deletion, finalizers, labels, annotations such as a
// restart request), a binding to a host (status.host, written by the
// placement) and periodic resyncs still enqueue.
func needsReconcile(oldObj, newObj interface{}) bool {
	oldEnv, ok1 := oldObj.(*v1alpha1.Environment)
	newEnv, ok2 := newObj.(*v1alpha1.Environment)
	if !ok1 || !ok2 {
		return true
	}
	if oldEnv.ResourceVersion == newEnv.ResourceVersion {
		return true // a resync
	}
	return oldEnv.Generation != newEnv.Generation ||
		oldEnv.Status.Host != newEnv.Status.Host ||
		markedUnreachable(oldEnv, newEnv) ||
		!oldEnv.DeletionTimestamp.Equal(newEnv.DeletionTimestamp) ||
		!equality.Semantic.DeepEqual(oldEnv.Finalizers, newEnv.Finalizers) ||
		!equality.Semantic.DeepEqual(oldEnv.Labels, newEnv.Labels) ||
		!equality.Semantic.DeepEqual(oldEnv.Annotations, newEnv.Annotations)
}

func (c *Controller) enqueueObject(obj interface{}) {
	key, err := cache.DeletionHandlingMetaNamespaceKeyFunc(obj)
	if err != nil {
		utilruntime.HandleError(err)
		return
	}
	c.enqueue(key)
}

func (c *Controller) enqueue(name string) { c.queue.Add(name) }

// Run starts the informers and workers and blocks until ctx is done; then
// it drains the queue (in-flight reconciles finish) and returns.
func (c *Controller) Run(ctx context.Context) error {
	defer utilruntime.HandleCrash()
	defer c.probes.Stop()

	// A shared informer may be running already: it then replays every
	// Environment to the handler as an add, as a fresh informer's first
	// list does.
	reg, err := c.informer.AddEventHandlerWithResyncPeriod(c.environmentHandler(), c.opts.Resync)
	if err != nil {
		c.shutDownQueues()
		return fmt.Errorf("environment informer handler: %w", err)
	}
	defer func() { _ = c.informer.RemoveEventHandler(reg) }()
	// Starts the lease and pool informers, and the Environment informer
	// unless it is the caller's.
	c.factory.Start(ctx.Done())
	defer c.factory.Shutdown()
	c.log.Info("waiting for caches")
	if ok := cache.WaitForCacheSync(ctx.Done(), c.informer.HasSynced, reg.HasSynced, c.leaseInformer.HasSynced, c.poolInformer.HasSynced); !ok {
		c.shutDownQueues()
		return fmt.Errorf("environment cache did not sync")
	}
	if err := c.cache.WaitForSync(ctx); err != nil {
		c.shutDownQueues()
		return fmt.Errorf("docker cache did not sync: %w", err)
	}

	// The daemon's memory before any admission decision: a worker must
	// not admit into pressure it has not looked at yet.
	c.sampleMemory(ctx, c.meterInterval())

	var wg sync.WaitGroup
	for i := 0; i < c.opts.Workers; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			wait.UntilWithContext(ctx, c.runWorker, time.Second)
		}()
	}
	// One lease worker: a check reads two cached objects, and an expiry
	// is one status write and one delete.
	wg.Add(1)
	go func() {
		defer wg.Done()
		c.runLeaseWorker(ctx)
	}()
	// One pool worker: a pool reconcile reads the caches and writes a
	// few objects; the standbys' Docker work is the Environment workers'.
	wg.Add(1)
	go func() {
		defer wg.Done()
		c.runPoolWorker(ctx)
	}()
	// Orphans: at start-up (what a crash or a wiped store left behind),
	// then on every resync.
	wg.Add(1)
	go func() {
		defer wg.Done()
		wait.UntilWithContext(ctx, c.enqueueOrphans, c.opts.Resync)
	}()
	wg.Add(1)
	go func() {
		defer wg.Done()
		wait.UntilWithContext(ctx, c.updateGauges, 5*time.Second)
	}()
	wg.Add(1)
	go func() {
		defer wg.Done()
		c.runMeter(ctx)
	}()
	c.log.Info("controller started", "workers", c.opts.Workers, "resync", c.opts.Resync.String())

	<-ctx.Done()
	c.leaseQueue.ShutDown()
	c.poolQueue.ShutDown()
	c.queue.ShutDownWithDrain()
	wg.Wait()
	return nil
}

// shutDownQueues ends a Run that failed before its workers started.
func (c *Controller) shutDownQueues() {
	c.queue.ShutDown()
	c.leaseQueue.ShutDown()
	c.poolQueue.ShutDown()
}

func (c *Controller) runWorker(ctx context.Context) {
	for c.processNextItem(ctx) {
	}
}

// processNextItem applies controller-runtime's result semantics: an error
// re-adds the key rate-limited; a RequeueAfter forgets the failures and
// re-adds after that delay; success forgets.
func (c *Controller) processNextItem(ctx context.Context) bool {
	key, shutdown := c.queue.Get()
	if shutdown {
		return false
	}
	defer c.queue.Done(key)

	started := time.Now()
	res, err := c.reconcile(ctx, key)
	outcome := "success"
	switch {
	case err != nil:
		outcome = "error"
		c.queue.AddRateLimited(key)
		c.log.Error(err, "reconcile failed", "environment", key, "retries", c.queue.NumRequeues(key))
	case res.RequeueAfter > 0:
		outcome = "requeue"
		c.queue.Forget(key)
		c.queue.AddAfter(key, res.RequeueAfter)
	default:
		c.queue.Forget(key)
	}
	c.metrics.total.WithLabelValues(outcome).Inc()
	c.metrics.duration.WithLabelValues(outcome).Observe(time.Since(started).Seconds())
	return true
}

// Result is what one reconcile asks of the queue.
type Result struct {
	// RequeueAfter > 0 reprocesses the key after that long (waiting on a
	// probe, a dependency, a back-off or a TTL is not an error).
	RequeueAfter time.Duration
}

// updateGauges refreshes berth_environments and berth_containers from the
// caches: no API or Docker call.
func (c *Controller) updateGauges(context.Context) {
	envs, err := c.lister.List(everything)
	if err != nil {
		return
	}
	envs = slices.DeleteFunc(envs, func(e *v1alpha1.Environment) bool { return !c.mine(e) })
	phases := map[string]float64{}
	for _, p := range []v1alpha1.EnvironmentPhase{v1alpha1.PhasePending, v1alpha1.PhaseQueued, v1alpha1.PhaseProgressing, v1alpha1.PhaseReady,
		v1alpha1.PhaseDegraded, v1alpha1.PhaseFailed, v1alpha1.PhaseTerminating} {
		phases[string(p)] = 0
	}
	for _, e := range envs {
		phase := string(e.Status.Phase)
		if phase == "" {
			phase = string(v1alpha1.PhasePending)
		}
		phases[phase]++
	}
	for p, n := range phases {
		c.metrics.envs.WithLabelValues(p).Set(n)
	}
	states := map[string]float64{"created": 0, "running": 0, "exited": 0}
	alive := map[string]bool{}
	for _, ct := range c.cache.All().Containers {
		states[ct.State]++
		alive[ct.ID] = true
	}
	// The same pass keeps the has-been-ready memory to live containers.
	c.everReady.prune(alive)
	for s, n := range states {
		c.metrics.containers.WithLabelValues(s).Set(n)
	}
}
