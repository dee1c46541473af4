// Package kubetest runs a real Kubernetes API for tests: etcd and
// kube-apiserver on loopback (free ports, a data dir of their own, a static
// bearer token, serving certificates generated into the dir), no kubelet and
// no controllers, with berth's CRDs installed and Established. Stop kills
// both process groups and removes the data. The binaries come from
// hack/ensure-kube-apiserver.sh.
package kubetest

import (
	"bufio"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
)

// Environment variables naming the binaries (hack/ensure-kube-apiserver.sh
// --env prints them).
const (
	EnvAPIServer = "BERTH_KUBE_APISERVER"
	EnvEtcd      = "BERTH_ETCD"
	// Version is the kube-apiserver hack/ensure-kube-apiserver.sh builds
	// by default: the release matching berth's k8s.io modules.
	Version = "v1.37.2"
)

// ErrNoBinaries says neither the environment nor the default cache has a
// kube-apiserver; tests skip on it (CI runs hack/ensure-kube-apiserver.sh).
var ErrNoBinaries = errors.New("no kube-apiserver: run hack/ensure-kube-apiserver.sh (or set " + EnvAPIServer + ")")

// Binaries finds kube-apiserver and etcd: $BERTH_KUBE_APISERVER and
// $BERTH_ETCD; else the env file hack/ensure-kube-apiserver.sh writes into
// its cache ($BERTH_CACHE, default /var/cache/berth); etcd also next to the
// kube-apiserver, then on PATH.
func Binaries() (apiserver, etcd string, err error) {
	apiserver, etcd = os.Getenv(EnvAPIServer), os.Getenv(EnvEtcd)
	if apiserver == "" {
		cached := cachedEnv()
		apiserver = cached[EnvAPIServer]
		if etcd == "" {
			etcd = cached[EnvEtcd]
		}
	}
	if apiserver == "" {
		return "", "", ErrNoBinaries
	}
	if err := executable(apiserver); err != nil {
		return "", "", fmt.Errorf("kube-apiserver: %w", err)
	}
	if etcd == "" {
		if sibling := filepath.Join(filepath.Dir(apiserver), "etcd"); executable(sibling) == nil {
			etcd = sibling
		} else if p, lookErr := exec.LookPath("etcd"); lookErr == nil {
			etcd = p
		} else {
			return "", "", fmt.Errorf("no etcd next to %s or on PATH (set %s)", apiserver, EnvEtcd)
		}
	}
	if err := executable(etcd); err != nil {
		return "", "", fmt.Errorf("etcd: %w", err)
	}
	return apiserver, etcd, nil
}

// Available reports whether Binaries finds both, and why not.
func Available() (bool, error) {
	_, _, err := Binaries()
	return err == nil, err
}

func executable(path string) error {
	fi, err := os.Stat(path)
	if err != nil {
		return err
	}
	if fi.IsDir() || fi.Mode()&0o111 == 0 {
		return fmt.Errorf("%s is not an executable file", path)
	}
	return nil
}

// cachedEnv reads <cache>/kube/<Version>/env (KEY=value lines); a missing
// file is an empty map.
func cachedEnv() map[string]string {
	cache := os.Getenv("BERTH_CACHE")
	if cache == "" {
		cache = "/var/cache/berth"
	}
	out := map[string]string{}
	f, err := os.Open(filepath.Join(cache, "kube", Version, "env"))
	if err != nil {
		return out
	}
	defer f.Close()
	s := bufio.NewScanner(f)
	for s.Scan() {
		if k, v, ok := strings.Cut(strings.TrimSpace(s.Text()), "="); ok {
			out[k] = v
		}
	}
	return out
}
