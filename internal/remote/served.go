package remote

import (
	"errors"
	"fmt"
	"slices"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/discovery"
	"k8s.io/client-go/rest"

	"berth.dev/berth/apis/v1alpha1"
)

// ErrNotServed says the API server berth talks to has no such subresource
// of Environments: logs, exec and cp are served by berth's embedded API
// server, which reaches the containers through the manager's Docker layer.
// A Kubernetes cluster serving the Environment CRD has only the status
// subresource, and its plain "not found" would read as a missing
// Environment.
var ErrNotServed = errors.New("not served by this API server")

// Explain returns err unless the server behind cfg does not serve the
// Environment subresource sub (log, exec, archive) at all; then it says so,
// with what to do instead. It asks the server's discovery only when a
// request has already failed, so a working call costs nothing extra.
func Explain(cfg *rest.Config, sub string, err error) error {
	if err == nil {
		return nil
	}
	served, derr := Serves(cfg, sub)
	if derr != nil || served {
		return err
	}
	return fmt.Errorf("environments/%s is %w: berth logs, exec and cp go through berth's own API server "+
		"(a manager started without --kubeconfig); on a Kubernetes cluster the Environment CRD has no such subresource. "+
		"Use the dashboard of the manager serving the Environment's host (status.host), or docker on that host", sub, ErrNotServed)
}

// Serves reports whether the server behind cfg lists environments/sub in
// its discovery of berth's API group.
func Serves(cfg *rest.Config, sub string) (bool, error) {
	dc, err := discovery.NewDiscoveryClientForConfig(cfg)
	if err != nil {
		return false, fmt.Errorf("discovery client: %w", err)
	}
	list, err := dc.ServerResourcesForGroupVersion(v1alpha1.SchemeGroupVersion.String())
	if err != nil {
		return false, fmt.Errorf("discover %s: %w", v1alpha1.SchemeGroupVersion, err)
	}
	return slices.ContainsFunc(list.APIResources, func(r metav1.APIResource) bool {
		return r.Name == v1alpha1.EnvironmentsResource+"/"+sub
	}), nil
}
