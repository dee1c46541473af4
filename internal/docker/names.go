package docker

import (
	"fmt"
	"strings"

	v1 "berth.dev/berth/apis/v1alpha1"
)

// NamePrefix starts the name of every Docker object berth creates.
const NamePrefix = v1.DockerNamePrefix

// The deterministic names are part of the API contract (design.md §3);
// they live with the API types.
var (
	NetworkName   = v1.NetworkName
	ContainerName = v1.ContainerName
	VolumeName    = v1.VolumeName
)

// Owned reports whether labels carry this manager's identity. It is the only
// test of ownership: names prove nothing, anyone can name a container
// berth-something.
func Owned(labels map[string]string, managerID string) bool {
	return managerID != "" && labels[v1.LabelManagedBy] == managerID
}

// attributable says whether an object berth found under the name it wanted
// belongs to the Environment it is wanted for: this manager's identity, and
// that Environment's name (and UID, when the caller gives one) in its
// labels. The name alone proves nothing: an object of another Environment,
// or of an earlier incarnation of this one, may sit under it (older berths
// gave colliding names). Anything else is NotOwned or a Conflict, never
// adopted.
func (c *Client) attributable(op, kind, name string, labels map[string]string, env, envUID string) error {
	if !Owned(labels, c.id) {
		return &Error{Op: op, Object: name, Kind: ErrNotOwned,
			Err: fmt.Errorf("name taken by a %s this manager does not own", kind)}
	}
	if got := labels[v1.LabelEnvironment]; got != env {
		return &Error{Op: op, Object: name, Kind: ErrConflict,
			Err: fmt.Errorf("name taken by a %s of Environment %q, not %q", kind, got, env)}
	}
	if got := labels[v1.LabelEnvironmentUID]; envUID != "" && got != envUID {
		return &Error{Op: op, Object: name, Kind: ErrConflict,
			Err: fmt.Errorf("name taken by a %s of another incarnation of Environment %q (uid %q, not %q)", kind, env, got, envUID)}
	}
	return nil
}

// berthLabels are the labels the layer puts on an object it creates; the
// identity always comes from the client, never from the caller.
func (c *Client) berthLabels(extra map[string]string, env, envUID string) map[string]string {
	l := make(map[string]string, len(extra)+3)
	for k, v := range extra {
		l[k] = v
	}
	l[v1.LabelManagedBy] = c.id
	if env != "" {
		l[v1.LabelEnvironment] = env
	}
	if envUID != "" {
		l[v1.LabelEnvironmentUID] = envUID
	}
	return l
}

// trimName drops the leading slash Docker puts on container names.
func trimName(n string) string { return strings.TrimPrefix(n, "/") }

const (
	labelEnvironment = v1.LabelEnvironment
	labelVolume      = v1.LabelVolume
)
