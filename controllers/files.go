package controllers

import (
	"fmt"
	"maps"
	"slices"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"berth.dev/berth/apis/v1alpha1"
	"berth.dev/berth/controllers/plan"
	"berth.dev/berth/internal/docker"
	"berth.dev/berth/internal/hostpath"
)

// readHost reads what env's spec needs from the manager's host: the
// content of path-based files and secrets (at most MaxHostFileBytes
// each) and the hostPath volumes' paths, every one checked against the
// allowed roots with symlinks resolved. A path that fails is recorded
// with its reason (the services using it wait); nothing here panics or
// stops the reconcile.
func readHost(env *v1alpha1.Environment, roots []string) plan.HostReads {
	spec := &env.Spec
	if len(spec.Files)+len(spec.Secrets) == 0 && !hasHostPathVolume(spec) {
		return plan.HostReads{}
	}
	h := plan.HostReads{Files: map[string][]byte{}, Paths: map[string]string{}, Errors: map[string]string{}}
	readFile := func(p string) {
		if p == "" {
			return
		}
		if _, done := h.Files[p]; done {
			return
		}
		data, err := hostpath.ReadFile(roots, p, v1alpha1.MaxHostFileBytes)
		if err != nil {
			h.Errors[p] = err.Error()
			return
		}
		h.Files[p] = data
	}
	for _, f := range spec.Files {
		readFile(f.Path)
	}
	for _, s := range spec.Secrets {
		readFile(s.Path)
	}
	for _, v := range spec.Volumes {
		if v.HostPath == nil {
			continue
		}
		resolved, err := hostpath.Resolve(roots, v.HostPath.Path)
		if err != nil {
			h.Errors[v.HostPath.Path] = err.Error()
			continue
		}
		h.Paths[v.HostPath.Path] = resolved
	}
	return h
}

func hasHostPathVolume(spec *v1alpha1.EnvironmentSpec) bool {
	for _, v := range spec.Volumes {
		if v.HostPath != nil {
			return true
		}
	}
	return false
}

// hostErrorEvents are the Warning events of the host paths that failed,
// one per path, naming the path and the reason (never a file's content:
// the reason is an error from the file system or the policy).
func hostErrorEvents(h plan.HostReads, prev []v1alpha1.EnvironmentEvent, now time.Time) []v1alpha1.EnvironmentEvent {
	var out []v1alpha1.EnvironmentEvent
	for _, p := range sortedKeys(h.Errors) {
		if slices.ContainsFunc(prev, func(e v1alpha1.EnvironmentEvent) bool {
			return e.Reason == string(plan.WaitHostPathUnavailable) && e.Message == h.Errors[p]
		}) {
			continue // said already; the retries' back-off must not flood the record
		}
		out = append(out, v1alpha1.EnvironmentEvent{
			Time: metav1.NewTime(now.Truncate(time.Second)), Type: plan.EventWarning,
			Reason: string(plan.WaitHostPathUnavailable), Message: h.Errors[p],
		})
	}
	return out
}

// hostError is the reconcile's error when a host path failed, so the
// workqueue retries with its back-off (a host file has no event that
// would enqueue the Environment when it appears).
func hostError(h plan.HostReads) error {
	if len(h.Errors) == 0 {
		return nil
	}
	keys := sortedKeys(h.Errors)
	return fmt.Errorf("%d host path(s) unavailable, first: %s", len(keys), h.Errors[keys[0]])
}

func sortedKeys(m map[string]string) []string {
	return slices.Sorted(maps.Keys(m))
}

// fileSpecs are the Docker layer's files of a CopyFiles op.
func fileSpecs(files []plan.FileCopy) []docker.FileSpec {
	out := make([]docker.FileSpec, 0, len(files))
	for _, f := range files {
		out = append(out, docker.FileSpec{Path: f.Target, Mode: int64(f.Mode), UID: f.UID, GID: f.GID, Content: f.Content})
	}
	return out
}
