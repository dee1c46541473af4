package v1alpha1

import (
	"fmt"
	"path/filepath"
	"strings"

	"k8s.io/apimachinery/pkg/util/validation/field"
)

// AllowHostPathFlag is the manager flag that permits host paths.
const AllowHostPathFlag = "--allow-host-path"

// HostPathAllowed reports, lexically, whether hostPath lies under one of
// the policy's AllowedHostPaths (the path itself or below it): nil when it
// does, else an error saying why not, naming the roots or the flag that
// adds one. hostPath must be absolute; it is cleaned first, so ".." cannot
// climb out of a root. Symlinks are not followed here (admission runs
// where the path may not exist yet); the manager resolves them when it
// reads or mounts the path (internal/hostpath.Resolve).
//
// Every host path the manager reads or mounts is checked with it:
// hostPath volumes, files' and secrets' path, and a build's context.
func (p Policy) HostPathAllowed(hostPath string) error {
	return hostPathUnder(p.AllowedHostPaths, hostPath)
}

func hostPathUnder(roots []string, hostPath string) error {
	if !filepath.IsAbs(hostPath) {
		return fmt.Errorf("%s is not an absolute path (`berth apply -f` resolves a relative path against the directory of the YAML file)", hostPath)
	}
	if len(roots) == 0 {
		return fmt.Errorf("host paths are not allowed: the manager permits none (start it with %s DIR to allow the paths under DIR)", AllowHostPathFlag)
	}
	clean := filepath.Clean(hostPath)
	for _, root := range roots {
		if PathWithin(clean, root) {
			return nil
		}
	}
	return fmt.Errorf("%s is not under a directory the manager allows (%s: %s)", hostPath, AllowHostPathFlag, strings.Join(roots, ", "))
}

// PathWithin reports whether the absolute path p is root or lies below
// it, comparing clean paths element by element (/data2 is not under
// /data).
func PathWithin(p, root string) bool {
	p, root = filepath.Clean(p), filepath.Clean(root)
	if !filepath.IsAbs(p) || !filepath.IsAbs(root) {
		return false
	}
	rel, err := filepath.Rel(root, p)
	return err == nil && rel != ".." && !strings.HasPrefix(rel, ".."+string(filepath.Separator))
}

// validatePolicyHostPaths refuses every host path of spec outside the
// policy's roots.
func validatePolicyHostPaths(spec *EnvironmentSpec, policy Policy) field.ErrorList {
	var allErrs field.ErrorList
	check := func(p *field.Path, hostPath string) {
		if hostPath == "" {
			return
		}
		if err := policy.HostPathAllowed(hostPath); err != nil {
			allErrs = append(allErrs, field.Forbidden(p, err.Error()))
		}
	}
	for i, v := range spec.Volumes {
		if v.HostPath != nil {
			check(field.NewPath("spec", "volumes").Index(i).Child("hostPath", "path"), v.HostPath.Path)
		}
	}
	for i, f := range spec.Files {
		check(field.NewPath("spec", "files").Index(i).Child("path"), f.Path)
	}
	for i, s := range spec.Secrets {
		check(field.NewPath("spec", "secrets").Index(i).Child("path"), s.Path)
	}
	// A build context is read (and sent to the daemon) with the manager's
	// rights, like a file's path.
	for i, s := range spec.Services {
		if s.Build != nil {
			check(field.NewPath("spec", "services").Index(i).Child("build", "context"), s.Build.Context)
		}
	}
	return allErrs
}
