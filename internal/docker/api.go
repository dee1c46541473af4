package docker

import (
	"context"
	"io"
	"time"

	"berth.dev/berth/internal/governor"
)

// Docker is what the controller, probes and CLI call: berth's own small
// interface over the Docker Engine. *Client implements it; fakes in other
// packages' unit tests can too.
type Docker interface {
	ManagerID() string
	Stats() governor.Stats
	Ping(ctx context.Context) (apiVersion string, err error)
	Info(ctx context.Context) (DaemonInfo, error)

	EnsureImage(ctx context.Context, ref string, policy PullPolicy, progress func(PullProgress)) error
	EnsureNetwork(ctx context.Context, spec NetworkSpec) (Network, error)
	EnsureVolume(ctx context.Context, spec VolumeSpec) (Volume, error)
	CreateContainer(ctx context.Context, spec ContainerSpec) (Created, error)
	StartContainer(ctx context.Context, id string) error
	PauseContainer(ctx context.Context, id string) error
	UnpauseContainer(ctx context.Context, id string) error
	CopyFiles(ctx context.Context, id string, files []FileSpec) error
	InspectContainer(ctx context.Context, idOrName string) (Container, error)
	ConnectNetwork(ctx context.Context, containerIDOrName, network string, aliases []string) (attached bool, err error)

	StopAndRemove(ctx context.Context, idOrName string, grace time.Duration) error
	RemoveKnown(ctx context.Context, k KnownContainer, grace time.Duration) error
	RemoveNetwork(ctx context.Context, idOrName string) error
	RemoveKnownNetwork(ctx context.Context, n KnownNetwork) error
	DisconnectStaleEndpoints(ctx context.Context, idOrName string, endpoints []string) (int, error)
	RemoveVolume(ctx context.Context, name string) error

	Exec(ctx context.Context, containerID string, cmd []string, timeout time.Duration) (ExecResult, error)
	Logs(ctx context.Context, containerID string, opts LogOptions, stdout, stderr io.Writer) error
	Usage(ctx context.Context, containerID string) (ResourceUsage, error)

	Builder
}

var _ Docker = (*Client)(nil)
