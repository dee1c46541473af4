package controllers

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-logr/logr/funcr"
	"k8s.io/client-go/tools/cache"

	"berth.dev/berth/client/clientset/versioned/fake"
	informers "berth.dev/berth/client/informers/externalversions"
	listers "berth.dev/berth/client/listers/apis/v1alpha1"
)

// countingInformer records the handlers added to and removed from a
// shared Environment informer.
type countingInformer struct {
	cache.SharedIndexInformer
	mu      sync.Mutex
	added   int
	removed int
	resync  time.Duration
}

func (c *countingInformer) AddEventHandlerWithResyncPeriod(h cache.ResourceEventHandler, resync time.Duration) (cache.ResourceEventHandlerRegistration, error) {
	c.mu.Lock()
	c.added++
	c.resync = resync
	c.mu.Unlock()
	return c.SharedIndexInformer.AddEventHandlerWithResyncPeriod(h, resync)
}

func (c *countingInformer) RemoveEventHandler(r cache.ResourceEventHandlerRegistration) error {
	c.mu.Lock()
	c.removed++
	c.mu.Unlock()
	return c.SharedIndexInformer.RemoveEventHandler(r)
}

func (c *countingInformer) counts() (added, removed int, resync time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.added, c.removed, c.resync
}

type sharedEnvs struct {
	inf    *countingInformer
	lister listers.EnvironmentLister
}

func (s sharedEnvs) Informer() cache.SharedIndexInformer { return s.inf }
func (s sharedEnvs) Lister() listers.EnvironmentLister   { return s.lister }

// TestSharedEnvironmentInformer: given the caller's Environment informer,
// the controller adds its handler for the length of a run only (a
// leader's term must not leave one behind) and neither stops the
// informer nor builds a watch of its own.
func TestSharedEnvironmentInformer(t *testing.T) {
	cs := fake.NewSimpleClientset()
	factory := informers.NewSharedInformerFactory(cs, DefaultResync)
	envs := factory.Berth().V1alpha1().Environments()
	shared := &countingInformer{SharedIndexInformer: envs.Informer()}
	stop := make(chan struct{})
	defer func() { close(stop); factory.Shutdown() }()
	factory.Start(stop)

	for run := 1; run <= 2; run++ {
		ctx, cancel := context.WithCancel(context.Background())
		started := make(chan struct{})
		var once sync.Once
		log := funcr.New(func(_, args string) {
			if strings.Contains(args, `"controller started"`) {
				once.Do(func() { close(started) })
			}
		}, funcr.Options{})
		c, err := New(ctx, Options{
			Clientset:    cs,
			Environments: sharedEnvs{inf: shared, lister: envs.Lister()},
			Cache:        &fakeCache{},
			Resync:       time.Hour,
			Log:          log,
		})
		if err != nil {
			t.Fatal(err)
		}
		if added, _, _ := shared.counts(); added != run-1 {
			t.Fatalf("run %d: New added a handler before Run (%d added)", run, added)
		}
		done := make(chan error, 1)
		go func() { done <- c.Run(ctx) }()
		select {
		case <-started:
		case err := <-done:
			t.Fatalf("run %d stopped before it started: %v", run, err)
		}
		added, removed, resync := shared.counts()
		if added != run || removed != run-1 {
			t.Fatalf("run %d: %d handlers added, %d removed while running", run, added, removed)
		}
		if resync != time.Hour {
			t.Errorf("run %d: handler resync %s, want the controller's 1h", run, resync)
		}
		cancel()
		if err := <-done; err != nil {
			t.Fatalf("run %d: %v", run, err)
		}
		if _, removed, _ := shared.counts(); removed != run {
			t.Errorf("run %d: the handler outlived the run (%d removed after %d runs)", run, removed, run)
		}
		if shared.IsStopped() {
			t.Fatalf("run %d: the controller stopped the caller's informer", run)
		}
	}
	watches := 0
	for _, a := range cs.Actions() {
		if a.GetVerb() == "watch" && a.GetResource().Resource == "environments" {
			watches++
		}
	}
	if watches != 1 {
		t.Errorf("%d Environment watches, want the shared informer's one", watches)
	}
}
