package v1alpha1

import "k8s.io/apimachinery/pkg/util/intstr"

// File is content the Environment writes into the containers that mount it
// (compose's configs, a Kubernetes ConfigMap key): inline or read from a
// file on the manager's host. Exactly one of Content and Path is set.
type File struct {
	// Name is how services refer to the file (a DNS label).
	Name string `json:"name"`
	// Content is the file's text, inline.
	// +optional
	Content string `json:"content,omitempty"`
	// Path is an absolute path of a file on the manager's host, read by
	// the manager each reconcile; it must lie under a root the manager
	// permits (--allow-host-path). `berth apply -f` resolves a relative
	// path against the YAML file's directory before sending.
	// +optional
	Path string `json:"path,omitempty"`
}

// Secret is a File whose content berth never shows: not in status, events,
// the dashboard or its logs. Only a hash of it is kept, in the spec hash of
// the services that mount it.
type Secret struct {
	// Name is how services refer to the secret (a DNS label).
	Name string `json:"name"`
	// Content is the secret, inline.
	// +optional
	Content string `json:"content,omitempty"`
	// Path is an absolute path of a file on the manager's host, as for
	// files.
	// +optional
	Path string `json:"path,omitempty"`
}

// FileMount writes one of spec.files into the container before it starts.
type FileMount struct {
	// Name of a file in spec.files.
	Name string `json:"name"`
	// MountPath is the absolute path of the file in the container.
	MountPath string `json:"mountPath"`
	// Mode is the file's permission bits. Default 0444.
	// +optional
	Mode *int32 `json:"mode,omitempty"`
}

// SecretMount writes one of spec.secrets into the container before it
// starts (compose's long secret syntax).
type SecretMount struct {
	// Name of a secret in spec.secrets.
	Name string `json:"name"`
	// MountPath is the absolute path of the secret in the container.
	// Default /run/secrets/NAME.
	// +optional
	MountPath string `json:"mountPath,omitempty"`
	// UID and GID own the file, as numbers (compose writes them as
	// strings). Default: the service's numeric user (and group) when it
	// sets one, else 0. A 0400 secret is readable only by its owner, so a
	// service whose image runs as a non-root user (postgres is 999 in the
	// official image) must set uid to that user's number, or a mode that
	// lets its group read and a gid.
	// +optional
	UID string `json:"uid,omitempty"`
	// +optional
	GID string `json:"gid,omitempty"`
	// Mode is the file's permission bits. Default 0400.
	// +optional
	Mode *int32 `json:"mode,omitempty"`
}

// HostPathVolumeSource bind-mounts a directory or file of the manager's
// host. Only paths under a root the manager permits (--allow-host-path)
// are admitted.
type HostPathVolumeSource struct {
	// Path is absolute on the manager's host.
	Path string `json:"path"`
}

// StorageMedium is where an emptyDir lives.
// +enum
type StorageMedium string

// StorageMediumMemory is a tmpfs: the only medium berth offers, since a
// disk-backed scratch directory is what a named volume already is.
const StorageMediumMemory StorageMedium = "Memory"

// EmptyDirVolumeSource is a scratch directory that lives as long as the
// container: a tmpfs of at most SizeLimit.
type EmptyDirVolumeSource struct {
	// Medium must be Memory (a tmpfs).
	Medium StorageMedium `json:"medium"`
	// SizeLimit caps the tmpfs, a quantity (256Mi). Its pages count
	// against the container's memory limit as they are written.
	SizeLimit *intstr.IntOrString `json:"sizeLimit"`
}

// Default modes of files and secrets written into a container.
const (
	DefaultFileMode   = int32(0o444)
	DefaultSecretMode = int32(0o400)
	// SecretsDir is where a secret is written when its mount names no path.
	SecretsDir = "/run/secrets"
)
