package docker

import (
	"context"
	"io"
	"time"
)

// Docker is what the controller, probes and CLI call: berth's own small
// interface over the Docker Engine. *Client implements it; fakes in other
// packages' unit tests can too.
type Docker interface {
	ManagerID() string
	Stats() Stats
	Ping(ctx context.Context) (apiVersion string, err error)
	Info(ctx context.Context) (DaemonInfo, error)

	EnsureImage(ctx context.Context, ref string, policy PullPolicy, progress func(PullProgress)) error
	EnsureNetwork(ctx context.Context, spec NetworkSpec) (Network, error)
	EnsureVolume(ctx context.Context, spec VolumeSpec) (Volume, error)
	CreateContainer(ctx context.Context, spec ContainerSpec) (Created, error)
	StartContainer(ctx context.Context, id string) error
	InspectContainer(ctx context.Context, idOrName string) (Container, error)

	StopAndRemove(ctx context.Context, idOrName string, grace time.Duration) error
	RemoveNetwork(ctx context.Context, idOrName string) error
	DisconnectStaleEndpoints(ctx context.Context, idOrName string, endpoints []string) (int, error)
	RemoveVolume(ctx context.Context, name string) error

	Exec(ctx context.Context, containerID string, cmd []string, timeout time.Duration) (ExecResult, error)
	Logs(ctx context.Context, containerID string, opts LogOptions, stdout, stderr io.Writer) error
	Usage(ctx context.Context, containerID string) (ResourceUsage, error)

	Builder
}

// Cache is the informer's read side: observed state at no Docker cost.
type Cache interface {
	HasSynced() bool
	WaitForSync(ctx context.Context) error
	AddHandler(h Handler)
	Containers(env string) []Container
	Container(idOrName string) (Container, bool)
	Networks(env string) []Network
	Volumes(env string) []Volume
	All() Snapshot
	Environments() []string
	// Relist asks for a fresh list of every owned object, for a consumer
	// that finds the cache contradicting what Docker just told it.
	Relist()
	// Outages are the daemon outages seen so far (event stream lost until
	// the daemon answered a full list again), oldest first.
	Outages() []Outage
}

var (
	_ Docker = (*Client)(nil)
	_ Cache  = (*Informer)(nil)
)
