package cli

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"sync"

	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/cli-runtime/pkg/genericclioptions"
	"k8s.io/client-go/discovery"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"

	"berth.dev/berth/internal/session"
)

// EnvKubeconfig names the environment variable that points berth at a
// kubeconfig when --kubeconfig is not given. $KUBECONFIG is deliberately not
// consulted: it usually points at a real cluster.
const EnvKubeconfig = session.EnvKubeconfig

// ResolveKubeconfig picks the kubeconfig berth talks to: the --kubeconfig
// flag, else $BERTH_KUBECONFIG, else the default data dir's kubeconfig (the
// one a manager started without --data-dir writes). It never returns "",
// because client-go would then fall back to $KUBECONFIG and ~/.kube/config.
func ResolveKubeconfig(flagValue string, getenv func(string) string) (string, error) {
	if flagValue != "" {
		return flagValue, nil
	}
	path, _, err := session.DefaultKubeconfig(getenv)
	if err != nil {
		return "", fmt.Errorf("%w (or pass --kubeconfig)", err)
	}
	return path, nil
}

// clientGetter hands kubectl's commands berth's kubeconfig. It resolves the
// path on first use rather than in a PreRun hook because shell completion
// calls the getter without running any hook, and an unresolved path would let
// client-go fall back to the user's real cluster.
type clientGetter struct {
	flags  *genericclioptions.ConfigFlags
	getenv func(string) string

	once sync.Once
	err  error
}

var _ genericclioptions.RESTClientGetter = &clientGetter{}

// resolve fixes the kubeconfig path in flags.KubeConfig and checks the file
// exists, so a missing manager is reported as such and not as a stat error
// from deep inside client-go.
func (g *clientGetter) resolve() error {
	g.once.Do(func() {
		path, err := ResolveKubeconfig(*g.flags.KubeConfig, g.getenv)
		if err != nil {
			g.err = err
			return
		}
		*g.flags.KubeConfig = path
		if _, err := os.Stat(path); err != nil {
			if errors.Is(err, fs.ErrNotExist) {
				g.err = fmt.Errorf("no berth kubeconfig at %s: is the manager running? "+
					"(bin/manager --data-dir DIR writes DIR/kubeconfig when ready; point berth at it with --kubeconfig or $%s)",
					path, EnvKubeconfig)
				return
			}
			g.err = fmt.Errorf("reading berth's kubeconfig: %w", err)
		}
	})
	return g.err
}

func (g *clientGetter) ToRESTConfig() (*rest.Config, error) {
	if err := g.resolve(); err != nil {
		return nil, err
	}
	return g.flags.ToRESTConfig()
}

func (g *clientGetter) ToDiscoveryClient() (discovery.CachedDiscoveryInterface, error) {
	if err := g.resolve(); err != nil {
		return nil, err
	}
	return g.flags.ToDiscoveryClient()
}

func (g *clientGetter) ToRESTMapper() (meta.RESTMapper, error) {
	if err := g.resolve(); err != nil {
		return nil, err
	}
	return g.flags.ToRESTMapper()
}

func (g *clientGetter) ToRawKubeConfigLoader() clientcmd.ClientConfig {
	if err := g.resolve(); err != nil {
		return failedClientConfig{err: err}
	}
	return g.flags.ToRawKubeConfigLoader()
}

// failedClientConfig reports why berth has no kubeconfig from every method
// that can return an error, instead of handing out a loader that would
// consult $KUBECONFIG.
type failedClientConfig struct{ err error }

func (c failedClientConfig) RawConfig() (clientcmdapi.Config, error) {
	return clientcmdapi.Config{}, c.err
}

func (c failedClientConfig) ClientConfig() (*rest.Config, error) { return nil, c.err }

func (c failedClientConfig) Namespace() (string, bool, error) { return "", false, c.err }

// ConfigAccess is only used by `kubectl config`, which berth does not have;
// empty loading rules read no file and no environment variable.
func (c failedClientConfig) ConfigAccess() clientcmd.ConfigAccess {
	return &clientcmd.ClientConfigLoadingRules{}
}
