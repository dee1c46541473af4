package plan

import (
	"cmp"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"slices"
	"strconv"

	"berth.dev/berth/apis/v1alpha1"
)

// HostReads are what the reconciler read on the manager's host for one
// Environment before planning: the content of each files[].path and
// secrets[].path, and each hostPath volume's path with symlinks resolved
// (internal/hostpath checks both against --allow-host-path). Keys are
// the paths as the spec writes them. The zero value means nothing was
// read: path-based content is then unknown (callers that only want
// resources, such as the dashboard, need no more).
type HostReads struct {
	// Files holds the content read from each path.
	Files map[string][]byte
	// Paths holds each hostPath volume's resolved path.
	Paths map[string]string
	// Errors says why a path could not be read or resolved.
	Errors map[string]string
}

// read reports whether the reconciler read the host at all.
func (h HostReads) read() bool { return h.Files != nil || h.Paths != nil || h.Errors != nil }

// HostPathError is a host path a service needs that the manager cannot
// read or may not use now; the service waits, and a later reconcile (the
// workqueue's back-off) tries again.
type HostPathError struct {
	Path   string
	Reason string
}

func (e *HostPathError) Error() string {
	return fmt.Sprintf("host path %s: %s", e.Path, e.Reason)
}

// MountType says what a Mount mounts.
type MountType string

// Mount types. The empty type is a named Docker volume, so the configs
// (and spec hashes) of existing containers are unchanged.
const (
	MountVolume MountType = ""
	MountBind   MountType = "bind"
	MountTmpfs  MountType = "tmpfs"
)

// FileCopy is one file berth writes into a container between its create
// and its start.
type FileCopy struct {
	// Target is the absolute path in the container.
	Target string
	Mode   int32
	UID    int
	GID    int
	// Content is the bytes written. A secret's content never leaves
	// the plan except into the container: it is not hashed into anything
	// but the spec hash, and no String, event or log prints it.
	Content []byte `json:"-"`
	// Secret marks a secret's copy; Name is the spec's file or secret.
	Secret bool
	Name   string
}

// String names the copy without its content.
func (f FileCopy) String() string {
	kind := "file"
	if f.Secret {
		kind = "secret"
	}
	return fmt.Sprintf("%s %s → %s (%#o %d:%d)", kind, f.Name, f.Target, f.Mode, f.UID, f.GID)
}

// GoString keeps %#v from printing a secret's content too.
func (f FileCopy) GoString() string { return f.String() }

// buildMount is the mount of one volume mount: a named Docker volume, a
// bind of a host path, or a tmpfs.
func buildMount(env *v1alpha1.Environment, m v1alpha1.VolumeMount, host HostReads) (Mount, error) {
	out := Mount{Volume: VolumeName(env.Name, m.Name), Target: m.MountPath, ReadOnly: m.ReadOnly}
	v := specVolume(env, m.Name)
	switch {
	case v == nil || v.IsDockerVolume():
		return out, nil
	case v.HostPath != nil:
		src := v.HostPath.Path
		if host.read() {
			if reason, bad := host.Errors[src]; bad {
				return Mount{}, &HostPathError{Path: src, Reason: reason}
			}
			resolved, ok := host.Paths[src]
			if !ok {
				return Mount{}, &HostPathError{Path: src, Reason: "not resolved by the manager"}
			}
			// The resolved path is mounted, so a link swapped after the
			// check cannot point the bind elsewhere.
			src = resolved
		}
		return Mount{Type: MountBind, Source: src, Target: m.MountPath, ReadOnly: m.ReadOnly}, nil
	default:
		size, err := v1alpha1.EmptyDirSizeBytes(v.EmptyDir)
		if err != nil {
			return Mount{}, fmt.Errorf("volume %q: %w", v.Name, err)
		}
		return Mount{Type: MountTmpfs, Target: m.MountPath, ReadOnly: m.ReadOnly, SizeBytes: size}, nil
	}
}

func specVolume(env *v1alpha1.Environment, name string) *v1alpha1.Volume {
	for i := range env.Spec.Volumes {
		if env.Spec.Volumes[i].Name == name {
			return &env.Spec.Volumes[i]
		}
	}
	return nil
}

// buildFiles is the files and secrets svc mounts, sorted by target. A
// secret's owner defaults to the service's numeric user, so a service
// running as 1000 can read its own 0400 secret.
func buildFiles(env *v1alpha1.Environment, svc *v1alpha1.Service, host HostReads) ([]FileCopy, error) {
	var out []FileCopy
	for _, m := range svc.Files {
		f := findFile(env.Spec.Files, m.Name)
		if f == nil {
			return nil, fmt.Errorf("file %q is not declared in spec.files", m.Name)
		}
		content, err := fileContent(f.Content, f.Path, host)
		if err != nil {
			return nil, err
		}
		out = append(out, FileCopy{Target: m.MountPath, Mode: modeOr(m.Mode, v1alpha1.DefaultFileMode), Content: content, Name: m.Name})
	}
	userUID, userGID, _ := v1alpha1.UserIDs(svc.User)
	for _, m := range svc.Secrets {
		s := findSecret(env.Spec.Secrets, m.Name)
		if s == nil {
			return nil, fmt.Errorf("secret %q is not declared in spec.secrets", m.Name)
		}
		content, err := fileContent(s.Content, s.Path, host)
		if err != nil {
			return nil, err
		}
		uid, err := numericID(cmp.Or(m.UID, userUID, "0"))
		if err != nil {
			return nil, fmt.Errorf("secret %q uid: %w", m.Name, err)
		}
		gid, err := numericID(cmp.Or(m.GID, userGID, "0"))
		if err != nil {
			return nil, fmt.Errorf("secret %q gid: %w", m.Name, err)
		}
		out = append(out, FileCopy{
			Target: v1alpha1.SecretMountPath(m), Mode: modeOr(m.Mode, v1alpha1.DefaultSecretMode),
			UID: uid, GID: gid, Content: content, Secret: true, Name: m.Name,
		})
	}
	slices.SortStableFunc(out, func(a, b FileCopy) int { return cmp.Compare(a.Target, b.Target) })
	return out, nil
}

func fileContent(inline, hostPath string, host HostReads) ([]byte, error) {
	if hostPath == "" {
		return []byte(inline), nil
	}
	if !host.read() {
		return nil, nil
	}
	if reason, bad := host.Errors[hostPath]; bad {
		return nil, &HostPathError{Path: hostPath, Reason: reason}
	}
	content, ok := host.Files[hostPath]
	if !ok {
		return nil, &HostPathError{Path: hostPath, Reason: "not read by the manager"}
	}
	return content, nil
}

func findFile(files []v1alpha1.File, name string) *v1alpha1.File {
	for i := range files {
		if files[i].Name == name {
			return &files[i]
		}
	}
	return nil
}

func findSecret(secrets []v1alpha1.Secret, name string) *v1alpha1.Secret {
	for i := range secrets {
		if secrets[i].Name == name {
			return &secrets[i]
		}
	}
	return nil
}

func modeOr(m *int32, def int32) int32 {
	if m == nil {
		return def
	}
	return *m
}

func numericID(s string) (int, error) {
	n, err := strconv.ParseUint(s, 10, 32)
	if err != nil {
		return 0, fmt.Errorf("%q is not a number", s)
	}
	return int(n), nil
}

// fileHash is what the spec hash keeps of a copy: where, how, and a digest
// of the content, never the content itself.
type fileHash struct {
	Target   string
	Mode     int32
	UID, GID int
	SHA256   string
}

func filesForHash(files []FileCopy) []fileHash {
	if len(files) == 0 {
		return nil
	}
	out := make([]fileHash, 0, len(files))
	for _, f := range files {
		sum := sha256.Sum256(f.Content)
		out = append(out, fileHash{Target: f.Target, Mode: f.Mode, UID: f.UID, GID: f.GID, SHA256: hex.EncodeToString(sum[:])})
	}
	slices.SortStableFunc(out, func(a, b fileHash) int { return cmp.Compare(a.Target, b.Target) })
	return out
}

// IsDockerVolume reports whether the mount is of a named Docker volume.
func (m Mount) IsDockerVolume() bool { return m.Type == MountVolume }

// copyFiles adds the CopyFiles op of st's container, if it has files.
func (b *builder) copyFiles(st *serviceState, id, containerName string, needs []int) (int, bool) {
	if len(st.cfg.Files) == 0 {
		return 0, false
	}
	return b.plan.add(Op{
		Kind: OpCopyFiles, Environment: b.env.Name, Service: st.svc.Name,
		ContainerID: id, ContainerName: containerName, Files: slices.Clone(st.cfg.Files),
		Needs: sortedNeeds(needs), Reason: copyReason(st.svc.Name, st.cfg.Files),
	}), true
}

// copyReason names how many files and secrets are written, never what.
func copyReason(service string, files []FileCopy) string {
	nf, ns := 0, 0
	for _, f := range files {
		if f.Secret {
			ns++
		} else {
			nf++
		}
	}
	return fmt.Sprintf("write %d file(s) and %d secret(s) into %s before its start", nf, ns, service)
}

// cfgErrWaiting is why a service whose config cannot be built waits.
func cfgErrWaiting(err error) Waiting {
	var hp *HostPathError
	if errors.As(err, &hp) {
		return Waiting{Reason: WaitHostPathUnavailable, Message: err.Error()}
	}
	return Waiting{Reason: WaitInvalidSpec, Message: err.Error()}
}
