package v1alpha1

import (
	"fmt"
	"path"
	"strconv"
	"strings"

	"k8s.io/apimachinery/pkg/api/resource"
	"k8s.io/apimachinery/pkg/util/sets"
	"k8s.io/apimachinery/pkg/util/validation/field"
)

// Limits of files, secrets and their mounts.
const (
	// MaxFileBytes bounds one inline file or secret: configuration and
	// init scripts, not data (the whole spec is bounded by MaxSpecBytes).
	MaxFileBytes = 256 << 10
	// MaxHostFileBytes bounds a file or secret the manager reads from a
	// host path at reconcile time; its content is held in memory and sent
	// to Docker on every container creation.
	MaxHostFileBytes = 4 << 20
	// MaxFiles bounds spec.files and spec.secrets, each.
	MaxFiles = 256
	// MaxFileMountsPerService bounds a service's files and secrets, each.
	MaxFileMountsPerService = 64
	// MaxFileMode is the largest mode: permission bits only (no setuid,
	// setgid or sticky bit on a file berth writes).
	MaxFileMode = 0o777
	// maxID is the largest uid or gid Linux accepts (2^32-2; -1 means
	// "unchanged" to chown).
	maxID = 1<<32 - 2
)

// relativePathHint says why a relative host path is refused and how to get
// one resolved: kubectl sends paths as written, berth's CLI resolves them.
const relativePathHint = RelativePathMessage

// validateFilesAndSecrets checks spec.files and spec.secrets and records
// their names in ctx for the services' mounts.
func validateFilesAndSecrets(spec *EnvironmentSpec, p *field.Path, ctx *specContext) field.ErrorList {
	var allErrs field.ErrorList
	ctx.files, ctx.secrets = sets.New[string](), sets.New[string]()
	tooMany := false
	if n := len(spec.Files); n > MaxFiles {
		allErrs, tooMany = append(allErrs, field.TooMany(p.Child("files"), n, MaxFiles)), true
	}
	if n := len(spec.Secrets); n > MaxFiles {
		allErrs, tooMany = append(allErrs, field.TooMany(p.Child("secrets"), n, MaxFiles)), true
	}
	if tooMany {
		// The names still count, so the services' mounts are not
		// reported as undeclared on top.
		for _, f := range spec.Files {
			ctx.files.Insert(f.Name)
		}
		for _, s := range spec.Secrets {
			ctx.secrets.Insert(s.Name)
		}
		return allErrs
	}
	for i, f := range spec.Files {
		allErrs = append(allErrs, validateFileSource(p.Child("files").Index(i), f.Name, f.Content, f.Path, false, ctx.files)...)
	}
	for i, s := range spec.Secrets {
		allErrs = append(allErrs, validateFileSource(p.Child("secrets").Index(i), s.Name, s.Content, s.Path, true, ctx.secrets)...)
	}
	return allErrs
}

// validateFileSource checks one file or secret: a unique DNS-label name and
// exactly one of content and path. A secret's content is never quoted in
// an error.
func validateFileSource(p *field.Path, name, content, hostPath string, secret bool, seen sets.Set[string]) field.ErrorList {
	namePath := p.Child("name")
	allErrs := validateName(namePath, name)
	if name != "" && seen.Has(name) {
		allErrs = append(allErrs, field.Duplicate(namePath, name))
	}
	seen.Insert(name)
	switch {
	case content == "" && hostPath == "":
		allErrs = append(allErrs, field.Required(p, "exactly one of content and path is required"))
	case content != "" && hostPath != "":
		allErrs = append(allErrs, field.Forbidden(p.Child("path"), "may not be set together with content: exactly one of content and path"))
	case len(content) > MaxFileBytes:
		e := field.TooLong(p.Child("content"), "", MaxFileBytes)
		if !secret {
			e.Detail = fmt.Sprintf("the content is %d bytes; it may not be more than %d bytes (larger files belong in a host path or the image)", len(content), MaxFileBytes)
		}
		allErrs = append(allErrs, e)
	case hostPath != "":
		allErrs = append(allErrs, validateHostPath(p.Child("path"), hostPath)...)
	}
	return allErrs
}

// validateHostPath checks the form of a path on the manager's host; which
// paths are permitted is ValidatePolicy's business.
func validateHostPath(p *field.Path, hostPath string) field.ErrorList {
	switch {
	case hostPath == "":
		return field.ErrorList{field.Required(p, "")}
	case !path.IsAbs(hostPath):
		return field.ErrorList{field.Invalid(p, hostPath, relativePathHint)}
	case path.Clean(hostPath) != hostPath:
		// A clean path is what the allowed roots are compared with, so
		// "/allowed/../etc" cannot look like it is under /allowed.
		return field.ErrorList{field.Invalid(p, hostPath, fmt.Sprintf("must be a clean path (%s)", path.Clean(hostPath)))}
	}
	return nil
}

// validateVolumeSource checks that a volume is exactly one kind and that
// its source is well formed.
func validateVolumeSource(v *Volume, p *field.Path) field.ErrorList {
	var allErrs field.ErrorList
	if v.HostPath != nil && v.EmptyDir != nil {
		return field.ErrorList{field.Forbidden(p.Child("emptyDir"), "may not be set together with hostPath: a volume is one of a named Docker volume (neither), hostPath or emptyDir")}
	}
	if v.HostPath != nil {
		allErrs = append(allErrs, validateHostPath(p.Child("hostPath", "path"), v.HostPath.Path)...)
	}
	if e := v.EmptyDir; e != nil {
		ep := p.Child("emptyDir")
		switch e.Medium {
		case StorageMediumMemory:
		case "":
			allErrs = append(allErrs, field.Required(ep.Child("medium"), "must be Memory (a tmpfs)"))
		default:
			nf := field.NotSupported(ep.Child("medium"), e.Medium, []StorageMedium{StorageMediumMemory})
			nf.Detail += " (berth's emptyDir is a tmpfs; a disk-backed scratch directory is a named volume: leave out emptyDir)"
			allErrs = append(allErrs, nf)
		}
		allErrs = append(allErrs, validateSizeLimit(ep.Child("sizeLimit"), e)...)
	}
	return allErrs
}

func validateSizeLimit(p *field.Path, e *EmptyDirVolumeSource) field.ErrorList {
	if e.SizeLimit == nil {
		return field.ErrorList{field.Required(p, "a tmpfs needs a size limit (256Mi), or it could fill the host's memory")}
	}
	q, err := resource.ParseQuantity(e.SizeLimit.String())
	if err != nil {
		return field.ErrorList{field.Invalid(p, e.SizeLimit.String(), "must be a quantity such as 256Mi: "+err.Error())}
	}
	if q.Sign() <= 0 || q.Value() <= 0 {
		return field.ErrorList{field.Invalid(p, e.SizeLimit.String(), "must be greater than zero")}
	}
	return nil
}

// EmptyDirSizeBytes is the tmpfs size of a valid emptyDir, in bytes.
func EmptyDirSizeBytes(e *EmptyDirVolumeSource) (int64, error) {
	if e == nil || e.SizeLimit == nil {
		return 0, fmt.Errorf("emptyDir has no sizeLimit")
	}
	q, err := resource.ParseQuantity(e.SizeLimit.String())
	if err != nil {
		return 0, fmt.Errorf("emptyDir sizeLimit %q: %w", e.SizeLimit.String(), err)
	}
	if q.Value() <= 0 {
		return 0, fmt.Errorf("emptyDir sizeLimit %q: must be greater than zero", e.SizeLimit.String())
	}
	return q.Value(), nil
}

// SecretMountPath is where a secret mount writes its secret.
func SecretMountPath(m SecretMount) string {
	if m.MountPath != "" {
		return m.MountPath
	}
	return SecretsDir + "/" + m.Name
}

// validateServiceFiles checks a service's files and secrets, and that no
// two of its mounts (volumes, files, secrets) collide.
func validateServiceFiles(s *Service, p *field.Path, ctx *specContext) field.ErrorList {
	var allErrs field.ErrorList
	if n := len(s.Files); n > MaxFileMountsPerService {
		return field.ErrorList{field.TooMany(p.Child("files"), n, MaxFileMountsPerService)}
	}
	if n := len(s.Secrets); n > MaxFileMountsPerService {
		return field.ErrorList{field.TooMany(p.Child("secrets"), n, MaxFileMountsPerService)}
	}
	for i, f := range s.Files {
		fp := p.Child("files").Index(i)
		allErrs = append(allErrs, validateMountName(fp.Child("name"), f.Name, ctx.files, "spec.files")...)
		allErrs = append(allErrs, validateMountPath(fp.Child("mountPath"), f.MountPath)...)
		allErrs = append(allErrs, validateMode(fp.Child("mode"), f.Mode)...)
	}
	for i, m := range s.Secrets {
		sp := p.Child("secrets").Index(i)
		allErrs = append(allErrs, validateMountName(sp.Child("name"), m.Name, ctx.secrets, "spec.secrets")...)
		if m.MountPath != "" {
			allErrs = append(allErrs, validateMountPath(sp.Child("mountPath"), m.MountPath)...)
		}
		allErrs = append(allErrs, validateID(sp.Child("uid"), m.UID)...)
		allErrs = append(allErrs, validateID(sp.Child("gid"), m.GID)...)
		allErrs = append(allErrs, validateMode(sp.Child("mode"), m.Mode)...)
	}
	if s.ReadOnlyRootFilesystem && len(s.Files)+len(s.Secrets) > 0 {
		allErrs = append(allErrs, field.Forbidden(p.Child("readOnlyRootFilesystem"),
			"may not be set with files or secrets: Docker refuses to write files into a read-only root filesystem before the container starts"))
	}
	return append(allErrs, validateMountCollisions(s, p)...)
}

func validateMountName(p *field.Path, name string, declared sets.Set[string], where string) field.ErrorList {
	switch {
	case name == "":
		return field.ErrorList{field.Required(p, "")}
	case !declared.Has(name):
		nf := field.NotFound(p, name)
		nf.Detail = "not declared in " + where
		return field.ErrorList{nf}
	}
	return nil
}

// validateMountPath checks a file's path in the container.
func validateMountPath(p *field.Path, mountPath string) field.ErrorList {
	switch {
	case mountPath == "":
		return field.ErrorList{field.Required(p, "")}
	case !path.IsAbs(mountPath):
		return field.ErrorList{field.Invalid(p, mountPath, "must be an absolute path")}
	case path.Clean(mountPath) != mountPath:
		return field.ErrorList{field.Invalid(p, mountPath, fmt.Sprintf("must be a clean path (%s)", path.Clean(mountPath)))}
	case mountPath == "/":
		return field.ErrorList{field.Invalid(p, mountPath, "must be a file's path, not the container's root")}
	}
	return nil
}

func validateMode(p *field.Path, mode *int32) field.ErrorList {
	if mode != nil && (*mode < 0 || *mode > MaxFileMode) {
		return field.ErrorList{field.Invalid(p, fmt.Sprintf("%#o", *mode), fmt.Sprintf("must be between 0 and 0777 (%d in decimal): permission bits only", MaxFileMode))}
	}
	return nil
}

// validateID checks a uid or gid written as a number, compose's way.
func validateID(p *field.Path, id string) field.ErrorList {
	if id == "" {
		return nil
	}
	n, err := strconv.ParseUint(id, 10, 64)
	if err != nil || n > maxID {
		return field.ErrorList{field.Invalid(p, id, fmt.Sprintf("must be a number between 0 and %d (berth writes the file before the container starts, so it cannot look a name up in the image)", uint64(maxID)))}
	}
	return nil
}

// mountEntry is one path a service mounts something at.
//
// +k8s:openapi-gen=false
// +k8s:deepcopy-gen=false
type mountEntry struct {
	path  string
	field *field.Path
	file  bool // a file or secret (a single file), not a volume
}

// validateMountCollisions refuses two mounts at one path, anything mounted
// under a file, and a file under a volume mount: the file would be written
// into the volume (a named volume or host path) or hidden by it (a tmpfs
// is mounted after the file is written).
func validateMountCollisions(s *Service, p *field.Path) field.ErrorList {
	var entries []mountEntry
	for i, m := range s.VolumeMounts {
		entries = append(entries, mountEntry{m.MountPath, p.Child("volumeMounts").Index(i).Child("mountPath"), false})
	}
	for i, f := range s.Files {
		entries = append(entries, mountEntry{f.MountPath, p.Child("files").Index(i).Child("mountPath"), true})
	}
	for i, m := range s.Secrets {
		entries = append(entries, mountEntry{SecretMountPath(m), p.Child("secrets").Index(i).Child("mountPath"), true})
	}
	var allErrs field.ErrorList
	for j, b := range entries {
		for _, a := range entries[:j] {
			if !mountable(a.path) || !mountable(b.path) {
				continue // reported by the path's own check
			}
			switch {
			case a.path == b.path:
				if a.file || b.file {
					allErrs = append(allErrs, field.Duplicate(b.field, b.path))
				} // two volume mounts at one path: validateVolumeMounts says so
			case a.file && under(b.path, a.path):
				allErrs = append(allErrs, field.Invalid(b.field, b.path, fmt.Sprintf("is under %s, where %s mounts a file", a.path, a.field)))
			case b.file && under(a.path, b.path):
				allErrs = append(allErrs, field.Invalid(b.field, b.path, fmt.Sprintf("is a file, and %s mounts under it at %s", a.field, a.path)))
			case b.file && under(b.path, a.path):
				// Volumes are listed first, so a is the volume here.
				allErrs = append(allErrs, field.Invalid(b.field, b.path, fmt.Sprintf("is under %s, where %s mounts a volume, which would hide the file or receive it", a.path, a.field)))
			}
		}
	}
	return allErrs
}

// mountable reports a path the collision check can compare: absolute,
// clean and not the root (the others are refused on their own).
func mountable(p string) bool {
	return path.IsAbs(p) && path.Clean(p) == p && p != "/"
}

// under reports whether p lies strictly inside dir (both clean, absolute).
func under(p, dir string) bool {
	if dir == "/" {
		return p != "/"
	}
	return strings.HasPrefix(p, dir+"/")
}

// UserIDs are the numeric uid and gid of a service's user ("1000",
// "1000:1000"); ok is false for a name, which only the image can resolve.
func UserIDs(user string) (uid, gid string, ok bool) {
	if user == "" {
		return "", "", false
	}
	u, g, hasGroup := strings.Cut(user, ":")
	if len(validateID(nil, u)) > 0 {
		return "", "", false
	}
	if hasGroup && len(validateID(nil, g)) == 0 {
		return u, g, true
	}
	return u, "", true
}
