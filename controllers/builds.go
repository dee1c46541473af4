package controllers

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"berth.dev/berth/apis/v1alpha1"
	"berth.dev/berth/controllers/plan"
	"berth.dev/berth/internal/buildctx"
	"berth.dev/berth/internal/docker"
	"berth.dev/berth/internal/hostpath"
)

// EventBuildContextUnreadable is the warning written when the manager
// cannot read a service's build context (once per distinct reason).
const EventBuildContextUnreadable = "BuildContextUnreadable"

// EventBuildFailed is the warning of a failed build, with its last lines.
const EventBuildFailed = "BuildFailed"

// buildLogLines is how many of a failed build's last lines go into the
// BuildFailed event (the whole kept tail is in `berth logs`).
const buildLogLines = 8

// maxBuildEventBytes bounds those lines: a Dockerfile's output may have
// lines of any length.
const maxBuildEventBytes = 2048

// buildRecord is what the controller knows of one service's build.
type buildRecord struct {
	fingerprint string // metadata summary the hash was computed for
	hash        string
	ref         string
	present     bool
	failures    int32
	lastFailure time.Time
	err         string
	contextErr  string
	warned      string // the context error a warning was last written for
	lastUsed    time.Time
}

// buildBook remembers, per Environment and service, the build tag of its
// context and what builds did. Losing it on a restart costs one walk and
// hash of each context and one cheap presence check per tag.
type buildBook struct {
	mu    sync.Mutex
	byEnv map[string]map[string]*buildRecord
	// seen is when each tag was last needed by any Environment; it
	// outlives the Environment so the budget prunes by last use. An entry
	// goes when its image is removed.
	seen map[string]time.Time
}

func newBuildBook() *buildBook {
	return &buildBook{byEnv: map[string]map[string]*buildRecord{}, seen: map[string]time.Time{}}
}

func (b *buildBook) record(env, service string) *buildRecord {
	if b.byEnv[env] == nil {
		b.byEnv[env] = map[string]*buildRecord{}
	}
	r := b.byEnv[env][service]
	if r == nil {
		r = &buildRecord{}
		b.byEnv[env][service] = r
	}
	return r
}

func (b *buildBook) forget(env string) {
	b.mu.Lock()
	defer b.mu.Unlock()
	delete(b.byEnv, env)
}

// refs are the tags env's services build now or built last.
func (b *buildBook) refs(env string) map[string]string {
	b.mu.Lock()
	defer b.mu.Unlock()
	out := map[string]string{}
	for svc, r := range b.byEnv[env] {
		if r.ref != "" {
			out[svc] = r.ref
		}
	}
	return out
}

// usedElsewhere reports whether an Environment other than env has ref.
func (b *buildBook) usedElsewhere(env, ref string) bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	for e, svcs := range b.byEnv {
		if e == env {
			continue
		}
		for _, r := range svcs {
			if r.ref == ref {
				return true
			}
		}
	}
	return false
}

// lastUse is when ref was last needed by any Environment, and whether one
// that exists does now.
func (b *buildBook) lastUse(ref string) (time.Time, bool) {
	b.mu.Lock()
	defer b.mu.Unlock()
	found := false
	for _, svcs := range b.byEnv {
		for _, r := range svcs {
			found = found || r.ref == ref
		}
	}
	return b.seen[ref], found
}

// imageMissing forgets that ref is present (a create found no such
// image), so the next plan builds it again.
func (b *buildBook) imageMissing(ref string) {
	b.mu.Lock()
	defer b.mu.Unlock()
	for _, svcs := range b.byEnv {
		for _, r := range svcs {
			if r.ref == ref {
				r.present = false
			}
		}
	}
}

func (b *buildBook) removed(ref string) {
	b.mu.Lock()
	defer b.mu.Unlock()
	delete(b.seen, ref)
}

func buildSpec(b *v1alpha1.Build) buildctx.Spec {
	return buildctx.Spec{Dir: b.Context, Dockerfile: b.Dockerfile, Args: b.Args, Target: b.Target}
}

// resolveBuilds reads the build context of every service that has one
// (metadata only when nothing changed since the last hash), and returns
// the Environment as the plan sees it: each such service's image is its
// content tag. Warnings are new unreadable contexts. No Docker call.
func (c *Controller) resolveBuilds(env *v1alpha1.Environment, now time.Time) (*v1alpha1.Environment, map[string]plan.ObservedBuild, []v1alpha1.EnvironmentEvent) {
	has := false
	for i := range env.Spec.Services {
		has = has || env.Spec.Services[i].Build != nil
	}
	if !has {
		return env, nil, nil
	}
	planEnv := env.DeepCopy()
	builds := map[string]plan.ObservedBuild{}
	var warnings []v1alpha1.EnvironmentEvent
	c.builds.mu.Lock()
	defer c.builds.mu.Unlock()
	for i := range planEnv.Spec.Services {
		svc := &planEnv.Spec.Services[i]
		if svc.Build == nil {
			continue
		}
		r := c.builds.record(env.Name, svc.Name)
		// Admission checked the context lexically against the allowed
		// roots; checked again with symlinks resolved, and read at the
		// resolved path, so a link inside a root cannot lead out of it.
		spec := buildSpec(svc.Build)
		dir, err := hostpath.Resolve(c.opts.AllowedHostPaths, spec.Dir)
		if err == nil {
			spec.Dir = dir
			err = hashContext(r, svc.Name, spec)
		}
		if err != nil {
			due := r.lastFailure.Add(c.opts.Plan.Backoff.Delay(max(r.failures, 1)))
			if r.failures == 0 || !now.Before(due) {
				r.failures++
				r.lastFailure = now
			}
			r.contextErr = err.Error()
			if r.warned != r.contextErr {
				r.warned = r.contextErr
				warnings = append(warnings, v1alpha1.EnvironmentEvent{
					Time: metav1.NewTime(now.Truncate(time.Second)), Type: plan.EventWarning, Reason: EventBuildContextUnreadable,
					Service: svc.Name, Message: fmt.Sprintf("cannot read the build context of service %s: %v", svc.Name, err),
				})
			}
			builds[svc.Name] = plan.ObservedBuild{ContextError: r.contextErr, Failures: r.failures, LastFailure: r.lastFailure}
			svc.Image = ""
			continue
		}
		if r.contextErr != "" {
			r.contextErr, r.warned, r.failures = "", "", 0
		}
		r.lastUsed = now
		c.builds.seen[r.ref] = now
		svc.Image = r.ref
		builds[svc.Name] = plan.ObservedBuild{Ref: r.ref, Present: r.present, Failures: r.failures, LastFailure: r.lastFailure, Error: r.err}
	}
	return planEnv, builds, warnings
}

// hashContext brings r's tag up to date with the context on disk: a walk
// of its metadata, and a content hash only when that changed. A new tag
// is not known to be present.
func hashContext(r *buildRecord, service string, spec buildctx.Spec) error {
	fp, err := buildctx.Fingerprint(spec)
	if err != nil {
		return err
	}
	if fp == r.fingerprint && r.ref != "" {
		return nil
	}
	h, err := buildctx.Hash(spec)
	if err != nil {
		return err
	}
	r.fingerprint, r.hash = fp, h
	if ref := plan.BuildTag(service, h); ref != r.ref {
		r.ref, r.present, r.failures, r.err = ref, false, 0, ""
	}
	return nil
}

// runBuild executes a BuildImage op: the output goes to the service's
// build log (bounded), a failure to the event record with its last lines.
func (c *Controller) runBuild(ctx context.Context, env *v1alpha1.Environment, op plan.Op) (bool, error) {
	var svc *v1alpha1.Service
	for i := range env.Spec.Services {
		if env.Spec.Services[i].Name == op.Service {
			svc = &env.Spec.Services[i]
		}
	}
	if svc == nil || svc.Build == nil {
		return false, fmt.Errorf("build %s: service %s has no build", op.Image, op.Service)
	}
	c.builds.mu.Lock()
	hash := c.builds.record(env.Name, svc.Name).hash
	c.builds.mu.Unlock()
	bctx := buildSpec(svc.Build)
	dir, err := hostpath.Resolve(c.opts.AllowedHostPaths, bctx.Dir)
	if err != nil {
		return false, fmt.Errorf("build %s: %w", op.Image, err)
	}
	bctx.Dir = dir
	spec := docker.BuildSpec{Context: bctx, Tag: op.Image, Hash: hash}
	if svc.Image != "" {
		spec.Also = []string{svc.Image}
	}
	tail := c.buildLogs.Start(env.Name, svc.Name)
	fmt.Fprintf(tail, "building %s from %s\n", op.Image, svc.Build.Context)
	built, err := c.docker.BuildImage(ctx, spec, tail)
	c.builds.mu.Lock()
	r := c.builds.record(env.Name, svc.Name)
	if err != nil {
		r.failures++
		r.lastFailure = time.Now()
		r.err = err.Error()
	} else if r.ref == op.Image {
		r.present, r.failures, r.err = true, 0, ""
	}
	c.builds.mu.Unlock()
	if err != nil {
		last := tail.LastLines(buildLogLines)
		if len(last) > maxBuildEventBytes {
			last = "…" + last[len(last)-maxBuildEventBytes:]
		}
		return false, &buildFailure{err: err, last: last}
	}
	if built.Skipped {
		fmt.Fprintf(tail, "image %s exists (%s): nothing to build\n", op.Image, built.ImageID)
	} else {
		fmt.Fprintf(tail, "built %s (%s)\n", op.Image, built.ImageID)
		c.pruneBuilt(ctx)
	}
	return built.Skipped, nil
}

// buildingEvent is the Normal event that starts a build's record (written
// with its outcome, Built or BuildFailed, once the build has run).
func buildingEvent(op plan.Op, now time.Time) v1alpha1.EnvironmentEvent {
	return v1alpha1.EnvironmentEvent{
		Time: metav1.NewTime(now.Truncate(time.Second)), Type: plan.EventNormal, Reason: "Building",
		Service: op.Service, Message: op.Reason,
	}
}

// buildFailure carries the build's last lines to the BuildFailed event.
type buildFailure struct {
	err  error
	last string
}

func (e *buildFailure) Error() string {
	if e.last == "" {
		return e.err.Error()
	}
	return fmt.Sprintf("%v; last output:\n%s", e.err, e.last)
}

func (e *buildFailure) Unwrap() error { return e.err }

// removeBuiltImages removes, after the containers, the images env's
// services built, except a tag another Environment of this manager still
// uses. Never forced: an image a container still uses is kept.
func (c *Controller) removeBuiltImages(ctx context.Context, env *v1alpha1.Environment) error {
	refs := c.builds.refs(env.Name)
	if len(refs) == 0 {
		// After a restart the book is empty: the context as it is now
		// names the tag it built (unless the files changed since, in
		// which case the cache budget collects the old image).
		if _, builds, _ := c.resolveBuilds(env, time.Now()); builds != nil {
			for svc, b := range builds {
				if b.Ref != "" {
					refs[svc] = b.Ref
				}
			}
		}
	}
	for svc, ref := range refs {
		if c.builds.usedElsewhere(env.Name, ref) || c.containerUsesElsewhere(env.Name, ref) {
			c.log.Info("keeping built image: another Environment uses it", "environment", env.Name, "image", ref)
			continue
		}
		var also []string
		for _, s := range env.Spec.Services {
			if s.Name == svc && s.Build != nil && s.Image != "" {
				also = append(also, s.Image)
			}
		}
		err := c.docker.RemoveBuiltImage(ctx, ref, also...)
		switch {
		case err == nil:
			c.builds.removed(ref)
			c.log.Info("removed built image", "environment", env.Name, "image", ref)
		case docker.IsNotFound(err):
			c.builds.removed(ref) // already gone: a repeated teardown pass
		case docker.IsConflict(err) || docker.IsNotOwned(err):
			c.log.Info("keeping built image", "environment", env.Name, "image", ref, "reason", err.Error())
		default:
			return fmt.Errorf("remove built image %s: %w", ref, err)
		}
	}
	return nil
}

// containerUsesElsewhere reports whether a container of another
// Environment runs ref (the cache, no Docker call).
func (c *Controller) containerUsesElsewhere(env, ref string) bool {
	for _, ct := range c.cache.All().Containers {
		if ct.Environment != env && ct.Image == ref {
			return true
		}
	}
	return false
}

// pruneBuilt keeps berth's built images within --build-cache-max: oldest
// use first, never one a spec or a container needs. Best effort: a
// failure is logged, the next build tries again.
func (c *Controller) pruneBuilt(ctx context.Context) {
	budget := c.opts.BuildCacheMax
	if budget <= 0 {
		return
	}
	images, err := c.docker.BuiltImages(ctx)
	if err != nil {
		c.log.Error(err, "listing built images for the build cache budget")
		return
	}
	inUse := map[string]bool{}
	for _, ct := range c.cache.All().Containers {
		inUse[ct.Image] = true
	}
	var cands []buildctx.Image
	byID := map[string]docker.BuiltImage{}
	for _, im := range images {
		cand := buildctx.Image{ID: im.ID, Size: im.Size, LastUsed: im.Created}
		for _, tag := range im.Tags {
			t, needed := c.builds.lastUse(tag)
			if t.After(cand.LastUsed) {
				cand.LastUsed = t
			}
			cand.InUse = cand.InUse || needed || inUse[tag]
		}
		cand.InUse = cand.InUse || inUse[im.ID]
		byID[im.ID] = im
		cands = append(cands, cand)
	}
	for _, victim := range buildctx.Prune(cands, budget) {
		im := byID[victim.ID]
		// By ID: a tag may have moved to another image since the list
		// (or before it: a dangling image has none).
		err := c.docker.RemoveBuiltImageID(ctx, im.ID)
		switch {
		case err == nil || docker.IsNotFound(err):
		case errors.Is(err, docker.ErrConflict):
			c.log.Info("keeping built image over the build cache budget: a container uses it", "image", im.ID, "tags", im.Tags)
			continue
		default:
			c.log.Error(err, "pruning built image", "image", im.ID, "tags", im.Tags)
			continue
		}
		for _, ref := range im.Tags {
			c.builds.removed(ref)
		}
		c.log.Info("pruned built image over the build cache budget", "image", im.ID, "tags", im.Tags, "size", im.Size, "budget", budget)
	}
}
