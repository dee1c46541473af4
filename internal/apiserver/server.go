package apiserver

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"path/filepath"
	"strconv"
	"time"

	"github.com/go-logr/logr"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/util/sets"
	"k8s.io/apimachinery/pkg/util/validation/field"
	"k8s.io/apiserver/pkg/authentication/authenticator"
	"k8s.io/apiserver/pkg/authentication/request/bearertoken"
	"k8s.io/apiserver/pkg/authorization/authorizerfactory"
	openapinamer "k8s.io/apiserver/pkg/endpoints/openapi"
	"k8s.io/apiserver/pkg/registry/generic"
	genericregistry "k8s.io/apiserver/pkg/registry/generic/registry"
	"k8s.io/apiserver/pkg/registry/rest"
	genericapiserver "k8s.io/apiserver/pkg/server"
	genericfilters "k8s.io/apiserver/pkg/server/filters"
	genericoptions "k8s.io/apiserver/pkg/server/options"
	"k8s.io/apiserver/pkg/storage/storagebackend"
	restclient "k8s.io/client-go/rest"
	"k8s.io/component-base/compatibility"

	"berth.dev/berth/apis/v1alpha1"
)

// Options configure the embedded API server.
type Options struct {
	// DataDir holds etcd's data, the certificate, the token and the kubeconfig.
	DataDir string
	// ListenAddress is host:port of the HTTPS endpoint; port 0 picks one.
	ListenAddress string
	// EtcdServers, when set, replaces the embedded etcd with an external
	// cluster (URLs such as http://127.0.0.1:2379).
	EtcdServers []string
	// Logs serves environments/NAME/log; without it the subresource
	// answers 503.
	Logs LogSource
	// Containers serves environments/NAME/exec and /archive; without it
	// they answer 503.
	Containers ContainerSource
	// Policy is what specs may ask beyond the API's own rules
	// (--allow-privileged); the zero value permits nothing extra.
	Policy v1alpha1.Policy
	// Admission, when set, is the manager's capacity check of a spec at
	// create and at every update that changes the spec (requests beyond
	// the whole memory budget are refused).
	Admission SpecCheck
	Log       logr.Logger
}

// SpecCheck validates a spec against the manager's settings; errors name
// the field.
type SpecCheck func(spec *v1alpha1.EnvironmentSpec) field.ErrorList

// Server is a configured, not yet running API server.
type Server struct {
	opts     Options
	creds    *credentials
	listener net.Listener
	local    net.Listener // the manager's own clients (local.go)
	etcd     *embeddedEtcd
	generic  *genericapiserver.GenericAPIServer
	host     string
	// streams ends with Run, so open log streams end on shutdown.
	streams     context.Context
	stopStreams context.CancelFunc
}

// storagePrefix is the etcd key prefix; a shared external etcd keeps berth's
// keys apart from anything else stored there.
const storagePrefix = "/berth"

// New starts storage (the embedded etcd unless external servers are given)
// and builds the API server. Call Run to serve; on error nothing is left
// running.
func New(ctx context.Context, opts Options) (_ *Server, err error) {
	if opts.DataDir == "" {
		return nil, fmt.Errorf("data dir is required")
	}
	creds, err := loadOrCreateCredentials(opts.DataDir)
	if err != nil {
		return nil, err
	}
	ln, err := net.Listen("tcp", opts.ListenAddress)
	if err != nil {
		return nil, fmt.Errorf("listen on %s: %w", opts.ListenAddress, err)
	}
	s := &Server{opts: opts, creds: creds, listener: ln}
	s.streams, s.stopStreams = context.WithCancel(context.Background())
	defer func() {
		if err != nil {
			s.stopStreams()
			s.closeStorage()
			ln.Close()
			if s.local != nil {
				s.local.Close()
			}
		}
	}()
	if s.local, err = listenLocal(opts.DataDir); err != nil {
		return nil, err
	}
	port := ln.Addr().(*net.TCPAddr).Port
	host, _, err := net.SplitHostPort(opts.ListenAddress)
	if err != nil {
		return nil, fmt.Errorf("parse listen address %q: %w", opts.ListenAddress, err)
	}
	if host == "" || host == "0.0.0.0" || host == "::" {
		host = "127.0.0.1"
	}
	s.host = "https://" + net.JoinHostPort(host, strconv.Itoa(port))

	servers := opts.EtcdServers
	if len(servers) == 0 {
		started := time.Now()
		s.etcd, err = startEmbeddedEtcd(ctx, filepath.Join(opts.DataDir, "etcd"))
		if err != nil {
			return nil, err
		}
		opts.Log.V(1).Info("embedded etcd ready", "took", time.Since(started).String())
		servers = []string{s.etcd.clientURL}
	}

	config, err := s.config(servers)
	if err != nil {
		return nil, err
	}
	s.generic, err = config.Complete(nil).New("berth-apiserver", genericapiserver.NewEmptyDelegate())
	if err != nil {
		return nil, fmt.Errorf("build API server: %w", err)
	}
	if err := s.installAPI(config.RESTOptionsGetter); err != nil {
		return nil, err
	}
	return s, nil
}

func (s *Server) config(etcdServers []string) (*genericapiserver.Config, error) {
	config := genericapiserver.NewConfig(Codecs)
	config.EffectiveVersion = compatibility.NewEffectiveVersionFromString("1.37", "", "")

	serving := genericoptions.NewSecureServingOptions().WithLoopback()
	serving.Listener = s.listener
	serving.ServerCert.CertKey.CertFile = s.creds.certPath
	serving.ServerCert.CertKey.KeyFile = s.creds.keyPath
	if err := serving.ApplyTo(&config.SecureServing, &config.LoopbackClientConfig); err != nil {
		return nil, fmt.Errorf("secure serving: %w", err)
	}
	// Only the token gets in: no anonymous access, no client certificates.
	// Complete() adds the in-process loopback token next to it.
	config.Authentication.Authenticator = bearertoken.New(authenticator.TokenFunc(s.creds.authenticateToken))
	config.Authorization.Authorizer = authorizerfactory.NewAlwaysAllowAuthorizer()

	namer := openapinamer.NewDefinitionNamer(Scheme)
	config.OpenAPIConfig = genericapiserver.DefaultOpenAPIConfig(v1alpha1.GetOpenAPIDefinitions, namer)
	config.OpenAPIConfig.Info.Title = "berth"
	config.OpenAPIConfig.Info.Version = v1alpha1.Version
	config.OpenAPIV3Config = genericapiserver.DefaultOpenAPIV3Config(v1alpha1.GetOpenAPIDefinitions, namer)
	config.OpenAPIV3Config.Info.Title = "berth"
	config.OpenAPIV3Config.Info.Version = v1alpha1.Version

	storageConfig := storagebackend.NewDefaultConfig(storagePrefix,
		Codecs.LegacyCodec(v1alpha1.SchemeGroupVersion))
	storageConfig.Transport.ServerList = etcdServers
	storageConfig.EncodeVersioner = v1alpha1.SchemeGroupVersion
	config.RESTOptionsGetter = restOptionsGetter{storage: storageConfig}
	// Nothing runs behind berth's server: no need for the slow-start
	// shutdown dance a load-balanced kube-apiserver does.
	config.ShutdownDelayDuration = 0
	config.LongRunningFunc = longRunning
	return config, nil
}

// restOptionsGetter gives each resource its own etcd key prefix
// (/berth/berth.dev/<resource>), so Environments stay where they always
// were and EnvironmentLeases get keys of their own.
type restOptionsGetter struct {
	storage *storagebackend.Config
}

func (g restOptionsGetter) GetRESTOptions(resource schema.GroupResource, _ runtime.Object) (generic.RESTOptions, error) {
	return generic.RESTOptions{
		StorageConfig:           g.storage.ForResource(resource),
		Decorator:               genericregistry.StorageWithCacher(),
		DeleteCollectionWorkers: 1,
		ResourcePrefix:          resource.Group + "/" + resource.Resource,
	}, nil
}

// longRunning marks the requests that live as long as their client: watches
// log streams, exec sessions and archive copies. They get no request timeout and stay outside the
// in-flight limits, which would otherwise cut a follow after a minute and
// let a few open streams starve ordinary requests.
var longRunning = genericfilters.BasicLongRunningRequestCheck(sets.NewString("watch"), sets.NewString("log", "exec", "archive"))

func (s *Server) installAPI(optsGetter generic.RESTOptionsGetter) error {
	envREST, statusREST, err := newEnvironmentStorage(optsGetter, s.opts.Policy, s.opts.Admission)
	if err != nil {
		return err
	}
	leaseREST, err := newLeaseStorage(optsGetter)
	if err != nil {
		return err
	}
	poolREST, poolStatus, err := newPoolStorage(optsGetter)
	if err != nil {
		return err
	}
	group := genericapiserver.NewDefaultAPIGroupInfo(v1alpha1.GroupName, Scheme, runtime.NewParameterCodec(Scheme), Codecs)
	group.VersionedResourcesStorageMap[v1alpha1.Version] = map[string]rest.Storage{
		v1alpha1.EnvironmentsResource:                 envREST,
		v1alpha1.EnvironmentsResource + "/status":     statusREST,
		v1alpha1.EnvironmentsResource + "/log":        &logREST{store: envREST.Store, source: s.opts.Logs, lifetime: s.streams},
		v1alpha1.EnvironmentsResource + "/exec":       &execREST{store: envREST.Store, source: s.opts.Containers, lifetime: s.streams},
		v1alpha1.EnvironmentsResource + "/archive":    &archiveREST{store: envREST.Store, source: s.opts.Containers, lifetime: s.streams},
		v1alpha1.EnvironmentLeasesResource:            leaseREST,
		v1alpha1.EnvironmentPoolsResource:             poolREST,
		v1alpha1.EnvironmentPoolsResource + "/status": poolStatus,
	}
	if err := s.generic.InstallAPIGroup(&group); err != nil {
		return fmt.Errorf("install %s: %w", schema.GroupVersion{Group: v1alpha1.GroupName, Version: v1alpha1.Version}, err)
	}
	return nil
}

// Host is the server's https URL.
func (s *Server) Host() string { return s.host }

// RESTConfig is a client config for the server (the same credentials as
// the kubeconfig).
func (s *Server) RESTConfig() *restclient.Config { return s.creds.restConfig(s.host) }

// KubeconfigPath is where the kubeconfig is written once the server is ready.
func (s *Server) KubeconfigPath() string { return filepath.Join(s.opts.DataDir, kubeconfigFile) }

// Run serves until ctx is done, then shuts down: the HTTP server drains,
// then etcd closes its files. ready is called once /readyz answers, after
// the kubeconfig has been written.
func (s *Server) Run(ctx context.Context, ready func()) error {
	defer s.closeStorage()
	// Log streams end as soon as shutdown starts; the HTTP server would
	// otherwise wait for them until its shutdown timeout.
	context.AfterFunc(ctx, s.stopStreams)
	defer s.stopStreams()
	prepared := s.generic.PrepareRun()
	errc := make(chan error, 1)
	go func() { errc <- prepared.RunWithContext(ctx) }()

	if err := s.waitReady(ctx, errc); err != nil {
		return err
	}
	localDone := make(chan struct{})
	go func() {
		defer close(localDone)
		s.serveLocal(ctx)
	}()
	defer func() { <-localDone }()
	kc, err := s.creds.kubeconfigBytes(s.host)
	if err != nil {
		return err
	}
	if err := writeFileAtomic(s.KubeconfigPath(), kc); err != nil {
		return fmt.Errorf("write kubeconfig: %w", err)
	}
	if ready != nil {
		ready()
	}
	return <-errc
}

// waitReady polls /readyz with the token until it answers 200.
func (s *Server) waitReady(ctx context.Context, errc <-chan error) error {
	client, err := restclient.HTTPClientFor(s.RESTConfig())
	if err != nil {
		return fmt.Errorf("client for readiness: %w", err)
	}
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	for {
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, s.host+"/readyz", nil)
		if resp, err := client.Do(req); err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
		}
		select {
		case err := <-errc:
			return fmt.Errorf("API server stopped before it was ready: %w", err)
		case <-ctx.Done():
			return ctx.Err()
		case <-tick.C:
		}
	}
}

func (s *Server) closeStorage() {
	if s.etcd != nil {
		s.etcd.Close()
		s.etcd = nil
	}
}
