package manager

import (
	"context"

	"k8s.io/client-go/rest"

	"berth.dev/berth/internal/apiserver"
)

// store is where the manager's Environments live: berth's embedded API
// server (its own etcd), or a Kubernetes cluster serving config/crd
// (--kubeconfig). Everything else in the manager is the same for both; the
// controller and the dashboard reach either through client-go.
type store interface {
	// Host is the API's URL, printed on the api: line.
	Host() string
	// KubeconfigPath is the kubeconfig berth and kubectl use for it.
	KubeconfigPath() string
	// RESTConfig is the client configuration of the API as the world
	// outside this process sees it (the kubeconfig's).
	RESTConfig() *rest.Config
	// OwnConfig is the client configuration of this process's own
	// clients, the controller and the dashboard: on the embedded server
	// its local socket, on a cluster RESTConfig.
	OwnConfig() *rest.Config
	// DashboardToken is the bearer token that opens the dashboard and
	// /metrics listener.
	DashboardToken() string
	// External says the API is not berth's own: defaults, validation and
	// the finalizer are the controller's job.
	External() bool
	// Run serves (or waits on) the API until ctx is done; ready is called
	// once clients can use it.
	Run(ctx context.Context, ready func()) error
}

// embeddedStore is berth's own API server; its token opens the dashboard.
type embeddedStore struct{ *apiserver.Server }

func (s embeddedStore) DashboardToken() string  { return s.RESTConfig().BearerToken }
func (embeddedStore) External() bool            { return false }
func (s embeddedStore) OwnConfig() *rest.Config { return s.LocalRESTConfig() }
