package apiserver

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"time"

	restclient "k8s.io/client-go/rest"
)

// localSocketFile is the unix socket in the data dir that serves the API
// to the manager's own clients (its controllers and dashboard).
const localSocketFile = "api.sock"

// The manager's own clients are in the same process as the server: every
// status write, and every watch event sent to them, would otherwise be
// TLS-encrypted, framed as HTTP/2 and decrypted again (TLS alone was 5-7%
// of the manager's CPU at 100 Environments). They get the same handler chain (the token
// is still checked) over plain HTTP/1.1 on a unix socket in the 0700
// data dir: the protection of the etcd sockets next to it, and no port.

// listenLocal opens the socket, removing one a killed run left behind
// (the data-dir lock held by the manager means nobody else uses it).
func listenLocal(dataDir string) (net.Listener, error) {
	path := filepath.Join(dataDir, localSocketFile)
	if err := os.Remove(path); err != nil && !os.IsNotExist(err) {
		return nil, fmt.Errorf("remove stale socket %s: %w", path, err)
	}
	ln, err := net.Listen("unix", path)
	if err != nil {
		return nil, fmt.Errorf("listen on %s: %w", path, err)
	}
	return ln, nil
}

// serveLocal serves the API's handler chain on the local socket until ctx
// is done. Open watches are cut then: their clients are this process's,
// and stopping too.
func (s *Server) serveLocal(ctx context.Context) {
	srv := &http.Server{Handler: s.generic.Handler, ReadHeaderTimeout: 30 * time.Second}
	go func() {
		<-ctx.Done()
		srv.Close()
	}()
	if err := srv.Serve(s.local); err != nil && !errors.Is(err, http.ErrServerClosed) {
		s.opts.Log.Error(err, "local API socket stopped")
	}
}

// LocalRESTConfig is a client config for this process only: the local
// socket, with the token. Everything outside the process uses RESTConfig
// (the kubeconfig's HTTPS address).
func (s *Server) LocalRESTConfig() *restclient.Config {
	path := filepath.Join(s.opts.DataDir, localSocketFile)
	// The host only names the server in URLs: Dial decides where
	// requests go. No TLS: the socket is plain HTTP.
	cfg := s.creds.restConfig("http://berth-apiserver.local")
	cfg.TLSClientConfig = restclient.TLSClientConfig{}
	cfg.Dial = func(ctx context.Context, _, _ string) (net.Conn, error) {
		var d net.Dialer
		return d.DialContext(ctx, "unix", path)
	}
	return cfg
}
