package apiserver

import (
	"fmt"

	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"
)

// contextName names the cluster, user and context in berth's kubeconfig.
const contextName = "berth"

// restConfig is how clients in this process reach the server.
func (c *credentials) restConfig(host string) *rest.Config {
	return &rest.Config{
		Host:            host,
		BearerToken:     c.token,
		TLSClientConfig: rest.TLSClientConfig{CAData: c.certPEM, ServerName: "localhost"},
		QPS:             50,
		Burst:           100,
	}
}

// kubeconfigBytes renders a kubeconfig that berth, kubectl and client-go
// can use as is.
func (c *credentials) kubeconfigBytes(host string) ([]byte, error) {
	cfg := clientcmdapi.NewConfig()
	cfg.Clusters[contextName] = &clientcmdapi.Cluster{
		Server:                   host,
		CertificateAuthorityData: c.certPEM,
		TLSServerName:            "localhost",
	}
	cfg.AuthInfos[contextName] = &clientcmdapi.AuthInfo{Token: c.token}
	cfg.Contexts[contextName] = &clientcmdapi.Context{Cluster: contextName, AuthInfo: contextName}
	cfg.CurrentContext = contextName
	b, err := clientcmd.Write(*cfg)
	if err != nil {
		return nil, fmt.Errorf("render kubeconfig: %w", err)
	}
	return b, nil
}
