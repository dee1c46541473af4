// Package apiserver is berth's embedded Kubernetes-style API server: it
// serves the berth.dev/v1alpha1 Environment resource (and its status and
// log subresources) with k8s.io/apiserver's generic machinery, stores objects in
// an embedded single-node etcd (or an external etcd cluster), and guards the
// loopback HTTPS endpoint with a self-signed certificate and a bearer token
// written next to a kubeconfig that berth, kubectl and client-go can use.
package apiserver
