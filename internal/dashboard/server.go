package dashboard

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"time"

	"github.com/go-logr/logr"
	"github.com/prometheus/client_golang/prometheus"
	"k8s.io/client-go/tools/cache"

	"berth.dev/berth/client/clientset/versioned"
	informers "berth.dev/berth/client/informers/externalversions"
	envinformers "berth.dev/berth/client/informers/externalversions/apis/v1alpha1"
	listers "berth.dev/berth/client/listers/apis/v1alpha1"
	"berth.dev/berth/internal/docker"
	"berth.dev/berth/internal/governor"
	"berth.dev/berth/internal/informer"
	"berth.dev/berth/internal/streamcap"
)

// Docker is the part of berth's Docker layer the dashboard reads through:
// *docker.Client implements it.
type Docker interface {
	Stats() governor.Stats
	Info(ctx context.Context) (docker.DaemonInfo, error)
	DiskUsage(ctx context.Context) (docker.DiskUsage, error)
	Usage(ctx context.Context, containerID string) (docker.ResourceUsage, error)
	Logs(ctx context.Context, containerID string, opts docker.LogOptions, stdout, stderr io.Writer) error
}

// Cache is the Docker informer's read side: *informer.Informer implements it.
type Cache interface {
	Stats() informer.Stats
	Containers(env string) []docker.Container
	All() informer.Snapshot
}

// Options configure the dashboard.
type Options struct {
	// Clientset reaches the API server; the dashboard mutates only
	// through it, and watches Environments with an informer of its own
	// unless Environments is set.
	Clientset versioned.Interface
	// Environments, when set, is a shared Environment informer (the
	// manager's, which its controller also uses): its owner starts it
	// and keeps it running while the dashboard runs; Run only waits for
	// it to sync.
	Environments envinformers.EnvironmentInformer
	Docker       Docker
	Cache        Cache
	// Gatherer is berth's own metrics registry (the manager keeps the Go
	// and process collectors out of it): the engine charts sample the
	// governor and workqueue families from it in-process every 2 s.
	Gatherer prometheus.Gatherer
	// SampleInterval is how often the engine charts get a point (2 s);
	// History is how many points they keep (120, four minutes).
	SampleInterval time.Duration
	History        int
	// MaxLogStreams caps the log streams open at once (32), and
	// MaxLogStreamsPerContainer those of one container (4): each holds a
	// Docker stream and a goroutine for as long as a page stays open.
	MaxLogStreams             int
	MaxLogStreamsPerContainer int
	// MaxPageStreams caps the live page streams (/events/*) open at once
	// (64): each holds a goroutine and re-renders on every change.
	MaxPageStreams int
	Log            logr.Logger
}

// Server is the dashboard: an http.Handler plus the informer and sampler
// that feed it, started by Run.
type Server struct {
	opts     Options
	log      logr.Logger
	factory  informers.SharedInformerFactory
	informer cache.SharedIndexInformer
	lister   listers.EnvironmentLister
	hub      *hub
	sampler  *sampler
	info     *infoCache
	pages    *pages
	handler  http.Handler
	// logStreams caps the open log streams.
	logStreams *streamcap.Limiter
	// pageStreams caps the open /events/* streams.
	pageStreams *streamcap.Limiter
	// done closes when Run returns, ending every open event stream so the
	// HTTP server can shut down without waiting for browsers.
	done chan struct{}
}

// New builds the dashboard; Run starts its informer and sampler.
func New(opts Options) (*Server, error) {
	if opts.Clientset == nil || opts.Docker == nil || opts.Cache == nil || opts.Gatherer == nil {
		return nil, errors.New("dashboard: clientset, docker, cache and gatherer are required")
	}
	if opts.SampleInterval <= 0 {
		opts.SampleInterval = 2 * time.Second
	}
	if opts.History <= 0 {
		opts.History = 120
	}
	if opts.MaxLogStreams <= 0 {
		opts.MaxLogStreams = defaultLogStreams
	}
	if opts.MaxLogStreamsPerContainer <= 0 {
		opts.MaxLogStreamsPerContainer = defaultLogStreamsPerCtr
	}
	if opts.MaxPageStreams <= 0 {
		opts.MaxPageStreams = defaultPageStreams
	}
	pg, err := newPages()
	if err != nil {
		return nil, fmt.Errorf("dashboard templates: %w", err)
	}
	s := &Server{
		opts:    opts,
		log:     opts.Log,
		hub:     newHub(),
		sampler: newSampler(opts.Gatherer, opts.History),
		info:    &infoCache{docker: opts.Docker, ttl: 10 * time.Second, diskTTL: time.Minute},
		pages:   pg,
		done:    make(chan struct{}),

		logStreams:  streamcap.New("dashboard log streams", opts.MaxLogStreams, opts.MaxLogStreamsPerContainer),
		pageStreams: streamcap.New("dashboard page streams", opts.MaxPageStreams, opts.MaxPageStreams),
	}
	envs := opts.Environments
	if envs == nil {
		s.factory = informers.NewSharedInformerFactory(opts.Clientset, 0)
		envs = s.factory.Berth().V1alpha1().Environments()
	}
	s.informer = envs.Informer()
	s.lister = envs.Lister()
	// Resync 0, also on a shared informer that resyncs for its other
	// handlers: the dashboard only needs changes, and a periodic resync
	// would push every row to every open page for nothing.
	if _, err := s.informer.AddEventHandlerWithResyncPeriod(cache.ResourceEventHandlerFuncs{
		AddFunc:    func(obj any) { s.hub.changed(objectName(obj)) },
		UpdateFunc: func(_, obj any) { s.hub.changed(objectName(obj)) },
		DeleteFunc: func(obj any) { s.hub.changed(objectName(obj)) },
	}, 0); err != nil {
		return nil, fmt.Errorf("dashboard informer handler: %w", err)
	}
	s.handler = s.routes()
	return s, nil
}

// Handler serves the pages, event streams, actions and static assets. The
// caller mounts it at / next to /metrics and /healthz, behind Protect
// (the token on every listener).
func (s *Server) Handler() http.Handler { return s.handler }

// Run watches Environments (or waits for the shared informer to sync)
// and samples the engine figures until ctx ends.
func (s *Server) Run(ctx context.Context) error {
	defer close(s.done)
	if s.factory != nil {
		s.factory.Start(ctx.Done())
		defer s.factory.Shutdown()
	}
	go s.sampler.run(ctx, s.opts.SampleInterval)
	if !cache.WaitForCacheSync(ctx.Done(), s.informer.HasSynced) {
		return ctx.Err()
	}
	s.log.V(1).Info("dashboard cache synced")
	<-ctx.Done()
	return nil
}

// synced waits a little for the first list, so a page opened right at
// start shows Environments rather than an empty table.
func (s *Server) synced(ctx context.Context) bool {
	if s.informer.HasSynced() {
		return true
	}
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	return cache.WaitForCacheSync(ctx.Done(), s.informer.HasSynced)
}

func objectName(obj any) string {
	key, err := cache.DeletionHandlingMetaNamespaceKeyFunc(obj)
	if err != nil {
		return ""
	}
	return key
}
