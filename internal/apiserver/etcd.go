package apiserver

import (
	"context"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"time"

	"go.etcd.io/etcd/server/v3/embed"
	"go.etcd.io/etcd/server/v3/storage/wal"
)

// etcd's WAL preallocates 64 MB segments, which makes a fresh data dir
// ~120 MB for a store that holds kilobytes. berth's store is small, so its
// segments are small too; etcd cuts a new segment when one fills, so this
// only changes how often that happens.
const embeddedWALSegmentBytes = 4 * 1024 * 1024

// embeddedEtcd is a single-node etcd living in the data dir. It listens only
// on unix sockets in that dir: no port to race for, nothing reachable from
// the network.
type embeddedEtcd struct {
	etcd      *embed.Etcd
	clientURL string
}

// startEmbeddedEtcd starts etcd in dir and waits until it serves.
func startEmbeddedEtcd(ctx context.Context, dir string) (*embeddedEtcd, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("create etcd dir: %w", err)
	}
	wal.SegmentSizeBytes = embeddedWALSegmentBytes

	clientSock := filepath.Join(dir, "client.sock")
	// A previous run that was killed leaves its socket file behind; the
	// data-dir lock held by the manager guarantees nobody else uses it.
	if err := os.Remove(clientSock); err != nil && !os.IsNotExist(err) {
		return nil, fmt.Errorf("remove stale socket %s: %w", clientSock, err)
	}
	clientURL := url.URL{Scheme: "unix", Path: clientSock}
	// A single member never dials its peers, but etcd insists on a peer
	// listener, and binds it on url.Host, which cannot hold a socket path.
	// Port 0 lets the kernel pick one: no race for a free port, and the
	// advertised URL only has to equal the initial-cluster entry.
	peerURL := url.URL{Scheme: "http", Host: "127.0.0.1:0"}

	cfg := embed.NewConfig()
	cfg.Name = "berth"
	cfg.Dir = filepath.Join(dir, "data")
	cfg.ListenClientUrls = []url.URL{clientURL}
	cfg.AdvertiseClientUrls = []url.URL{clientURL}
	cfg.ListenPeerUrls = []url.URL{peerURL}
	cfg.AdvertisePeerUrls = []url.URL{peerURL}
	cfg.InitialCluster = cfg.Name + "=" + peerURL.String()
	cfg.LogLevel = "error"
	cfg.Logger = "zap"
	cfg.LogOutputs = []string{filepath.Join(dir, "etcd.log")}
	cfg.AutoCompactionMode = "periodic"
	cfg.AutoCompactionRetention = "1h"
	// etcd's own default quota; the API server compacts old revisions
	// every few minutes, so berth's small objects stay far below it.
	cfg.QuotaBackendBytes = 2 * 1024 * 1024 * 1024
	cfg.MaxWalFiles = 3
	cfg.MaxSnapFiles = 3
	cfg.SnapshotCount = 10000

	e, err := embed.StartEtcd(cfg)
	if err != nil {
		return nil, fmt.Errorf("start embedded etcd in %s: %w", dir, err)
	}
	select {
	case <-e.Server.ReadyNotify():
	case err := <-e.Err():
		e.Close()
		return nil, fmt.Errorf("embedded etcd: %w", err)
	case <-time.After(60 * time.Second):
		e.Close()
		return nil, fmt.Errorf("embedded etcd in %s did not become ready in 60s", dir)
	case <-ctx.Done():
		e.Close()
		return nil, ctx.Err()
	}
	return &embeddedEtcd{etcd: e, clientURL: "unix://" + clientSock}, nil
}

// Close stops etcd and waits until its files are closed, so a SIGTERM never
// leaves a half-written WAL behind.
func (e *embeddedEtcd) Close() {
	e.etcd.Close()
}
