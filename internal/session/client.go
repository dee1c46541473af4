package session

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"time"

	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"

	"berth.dev/berth/client/clientset/versioned"
	"berth.dev/berth/internal/paths"
)

// EnvKubeconfig names the variable that points berth at a manager's
// kubeconfig. $KUBECONFIG is never read: it usually names a real cluster.
const EnvKubeconfig = "BERTH_KUBECONFIG"

// DefaultKubeconfig is the kubeconfig berth uses when none is given:
// $BERTH_KUBECONFIG, else the default data dir's kubeconfig. fromEnv says
// which; a caller that may start a manager only does so for the latter.
func DefaultKubeconfig(getenv func(string) string) (path string, fromEnv bool, err error) {
	if env := getenv(EnvKubeconfig); env != "" {
		return env, true, nil
	}
	dir, err := paths.DefaultDataDir()
	if err != nil {
		return "", false, fmt.Errorf("locating berth's kubeconfig (set $%s): %w", EnvKubeconfig, err)
	}
	return paths.Kubeconfig(dir), false, nil
}

// Client is a connection to one manager's API.
type Client struct {
	// Kubeconfig is the file the connection was made from.
	Kubeconfig string
	Config     *rest.Config
	Clientset  versioned.Interface
}

// Connect reads kubeconfig (and only it: no $KUBECONFIG, no
// ~/.kube/config) and builds a client. It does not dial; Ping does.
func Connect(kubeconfig string) (*Client, error) {
	if kubeconfig == "" {
		return nil, errors.New("connect: no kubeconfig path")
	}
	if _, err := os.Stat(kubeconfig); err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil, fmt.Errorf("no berth kubeconfig at %s: is the manager running?", kubeconfig)
		}
		return nil, fmt.Errorf("read berth's kubeconfig: %w", err)
	}
	loader := &clientcmd.ClientConfigLoadingRules{ExplicitPath: kubeconfig}
	cfg, err := clientcmd.NewNonInteractiveDeferredLoadingClientConfig(loader, &clientcmd.ConfigOverrides{}).ClientConfig()
	if err != nil {
		return nil, fmt.Errorf("load kubeconfig %s: %w", kubeconfig, err)
	}
	return NewClient(kubeconfig, cfg)
}

// NewClient wraps a REST config (an in-process manager's, say).
func NewClient(kubeconfig string, cfg *rest.Config) (*Client, error) {
	cs, err := versioned.NewForConfig(cfg)
	if err != nil {
		return nil, fmt.Errorf("client for the manager: %w", err)
	}
	return &Client{Kubeconfig: kubeconfig, Config: cfg, Clientset: cs}, nil
}

// Ping asks the API server whether it is ready (/readyz, with the
// kubeconfig's token). A short per-call timeout keeps a stale kubeconfig
// pointing at a dead port from stalling the caller.
func (c *Client) Ping(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	if err := c.Clientset.Discovery().RESTClient().Get().AbsPath("/readyz").Do(ctx).Error(); err != nil {
		return fmt.Errorf("manager at %s does not answer: %w", c.Config.Host, err)
	}
	return nil
}
