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

	"berth.dev/berth/internal/paths"
)

// etcd's WAL preallocates 64 MB segments, which makes a fresh data dir
// ~120 MB for a store that holds kilobytes. berth's store is small, so its
// segments are small too; etcd cuts a new segment when one fills, so this
// only changes how often that happens.
const embeddedWALSegmentBytes = 4 * 1024 * 1024

// embeddedEtcd is a single-node etcd living in the data dir. It listens only
// on unix sockets in that dir (client and peer), which is 0700: no port to
// race for, and nothing another local user, or any process without access
// to the data dir, can reach.
type embeddedEtcd struct {
	etcd      *embed.Etcd
	clientURL string
}

// startEmbeddedEtcd starts etcd in dir and waits until it serves.
func startEmbeddedEtcd(ctx context.Context, dir string) (*embeddedEtcd, error) {
	if err := paths.EnsurePrivateDir(dir); err != nil {
		return nil, fmt.Errorf("etcd dir: %w", err)
	}
	wal.SegmentSizeBytes = embeddedWALSegmentBytes

	clientSock := filepath.Join(dir, "client.sock")
	peerSock := filepath.Join(dir, "peer.sock")
	// A previous run that was killed leaves its socket files behind; the
	// data-dir lock held by the manager guarantees nobody else uses them.
	for _, sock := range []string{clientSock, peerSock} {
		if err := os.Remove(sock); err != nil && !os.IsNotExist(err) {
			return nil, fmt.Errorf("remove stale socket %s: %w", sock, err)
		}
	}
	clientURL := url.URL{Scheme: "unix", Path: clientSock}
	// The peer listener serves /members and raft to anyone who connects
	// (without a token: a TCP port there let any local process join the
	// raft group and commit writes past the API's validation). A single
	// member never dials a peer, so the listener only has to exist, and
	// it goes on a unix socket in this 0700 dir rather than TCP with
	// client-certificate TLS: no port at all, no CA to generate, keep and
	// rotate, and the same protection as client.sock next to it.
	//
	// etcd binds a unix peer listener on url.Host alone (the client
	// listener uses Host+Path), relative to the working directory when
	// not absolute, and an empty Host would autobind an abstract socket,
	// reachable by every process on the machine whatever the dir's mode.
	// So the listen URL carries the absolute path in Host. Such a URL
	// does not survive String() and url.Parse (the slashes are escaped),
	// and etcd parses the initial cluster from a string: the advertised
	// URL, which nothing dials, is the same path in the usual
	// unix:///path form. The e2e suite checks where the socket lands.
	peerListenURL := url.URL{Scheme: "unix", Host: peerSock}
	peerURL := url.URL{Scheme: "unix", Path: peerSock}
	logFile := filepath.Join(dir, "etcd.log")
	// zap creates its log 0644; a file that exists keeps its mode.
	if err := touchPrivate(logFile); err != nil {
		return nil, err
	}

	cfg := embed.NewConfig()
	cfg.Name = "berth"
	cfg.Dir = filepath.Join(dir, "data")
	cfg.ListenClientUrls = []url.URL{clientURL}
	cfg.AdvertiseClientUrls = []url.URL{clientURL}
	cfg.ListenPeerUrls = []url.URL{peerListenURL}
	cfg.AdvertisePeerUrls = []url.URL{peerURL}
	cfg.InitialCluster = cfg.Name + "=" + peerURL.String()
	cfg.LogLevel = "error"
	cfg.Logger = "zap"
	cfg.LogOutputs = []string{logFile}
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

// touchPrivate creates path 0600 if missing and takes group and other
// permissions off an existing file (an etcd.log an older berth left 0644).
func touchPrivate(path string) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o600)
	if err != nil {
		return fmt.Errorf("create %s: %w", path, err)
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return fmt.Errorf("stat %s: %w", path, err)
	}
	if st.Mode().Perm()&0o077 != 0 {
		if err := f.Chmod(st.Mode().Perm() &^ 0o077); err != nil {
			return fmt.Errorf("restrict %s: %w", path, err)
		}
	}
	return nil
}
