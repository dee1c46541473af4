package manager

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"slices"
	"time"

	"github.com/go-logr/logr"
	"k8s.io/client-go/discovery"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"

	"berth.dev/berth/apis/v1alpha1"
	"berth.dev/berth/internal/apiserver"
)

// dashboardTokenFile holds the dashboard's token when the manager runs on
// a Kubernetes API: the cluster's credentials are the user's, not
// something to hand to a browser.
const dashboardTokenFile = "dashboard-token"

// clusterStore is a Kubernetes API reached through a kubeconfig. The
// manager runs no API server and no etcd of its own then.
type clusterStore struct {
	kubeconfig string
	config     *rest.Config
	token      string
	log        logr.Logger
}

// newClusterStore reads kubeconfig (that file only: $KUBECONFIG and
// ~/.kube/config are never consulted) and the dashboard token in dataDir.
func newClusterStore(kubeconfig, dataDir string, log logr.Logger) (*clusterStore, error) {
	abs, err := filepath.Abs(kubeconfig)
	if err != nil {
		return nil, fmt.Errorf("--kubeconfig: %w", err)
	}
	loader := &clientcmd.ClientConfigLoadingRules{ExplicitPath: abs}
	cfg, err := clientcmd.NewNonInteractiveDeferredLoadingClientConfig(loader, &clientcmd.ConfigOverrides{}).ClientConfig()
	if err != nil {
		return nil, fmt.Errorf("--kubeconfig %s: %w", kubeconfig, err)
	}
	// client-go's default (5 QPS) would throttle a busy controller's
	// status writes; the embedded server's clients use the same.
	if cfg.QPS == 0 {
		cfg.QPS, cfg.Burst = 50, 100
	}
	token, err := apiserver.LoadOrCreateToken(filepath.Join(dataDir, dashboardTokenFile))
	if err != nil {
		return nil, fmt.Errorf("dashboard token: %w", err)
	}
	return &clusterStore{kubeconfig: abs, config: cfg, token: token, log: log}, nil
}

func (s *clusterStore) Host() string             { return s.config.Host }
func (s *clusterStore) KubeconfigPath() string   { return s.kubeconfig }
func (s *clusterStore) RESTConfig() *rest.Config { return rest.CopyConfig(s.config) }
func (s *clusterStore) OwnConfig() *rest.Config  { return s.RESTConfig() }
func (s *clusterStore) DashboardToken() string   { return s.token }
func (*clusterStore) External() bool             { return true }

// Run waits until the cluster serves berth's resources (the CRDs may be
// installed after the manager starts: `berth install`), then reports ready
// and stays until ctx is done.
func (s *clusterStore) Run(ctx context.Context, ready func()) error {
	dc, err := discovery.NewDiscoveryClientForConfig(s.RESTConfig())
	if err != nil {
		return fmt.Errorf("discovery client: %w", err)
	}
	delay := 200 * time.Millisecond
	var lastLogged time.Time
	for {
		err := servesBerth(dc)
		if err == nil {
			break
		}
		if time.Since(lastLogged) > 10*time.Second {
			s.log.Error(err, "the cluster does not serve berth's resources yet; waiting (install them with `berth install`)", "host", s.config.Host)
			lastLogged = time.Now()
		}
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(delay):
		}
		delay = min(2*delay, 5*time.Second)
	}
	if ready != nil {
		ready()
	}
	<-ctx.Done()
	return nil
}

// servesBerth checks discovery for environments and environmentleases.
func servesBerth(dc discovery.DiscoveryInterface) error {
	list, err := dc.ServerResourcesForGroupVersion(v1alpha1.SchemeGroupVersion.String())
	if err != nil {
		return fmt.Errorf("discover %s: %w", v1alpha1.SchemeGroupVersion, err)
	}
	var have []string
	for _, r := range list.APIResources {
		have = append(have, r.Name)
	}
	for _, want := range []string{"environments", "environmentleases"} {
		if !slices.Contains(have, want) {
			return errors.New("the cluster has no " + want + "." + v1alpha1.GroupName + " resource")
		}
	}
	return nil
}
