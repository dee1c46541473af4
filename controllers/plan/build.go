package plan

import (
	"fmt"
	"time"

	"berth.dev/berth/apis/v1alpha1"
)

// OpBuildImage builds a service's image from its build context (the Docker
// layer's BuildImage, which skips the build when the content tag exists).
const OpBuildImage OpKind = "BuildImage"

// Why a service with a build waits.
const (
	// WaitBuildContext: the manager cannot read the build context (missing,
	// permission, not a directory); retried with back-off, since the user
	// may create it meanwhile.
	WaitBuildContext WaitReason = "BuildContextUnreadable"
	WaitBuildFailed  WaitReason = "BuildFailed"
)

// ObservedBuild is what the controller knows of a service's build: the
// content tag of its context as it is now, and what builds did.
type ObservedBuild struct {
	// Ref is the content-addressed tag; empty when the context could not
	// be read (ContextError says why).
	Ref          string
	ContextError string
	// Present: an image with Ref is known to exist (built or found).
	Present bool
	// Failures counts failed builds (or unreadable contexts) in a row.
	Failures    int32
	LastFailure time.Time
	Error       string
}

// BuildTag is the content-addressed tag of service's image: the same
// content builds one image, shared by every Environment of the manager
// whose service of that name builds it.
func BuildTag(service, hash string) string {
	if len(hash) > hashLen {
		hash = hash[:hashLen]
	}
	return "berth-build/" + service + ":" + hash
}

// buildFor plans the build of st's image, the way pullFor plans a pull.
// The container config's image is the build's tag (the controller puts it
// there), so a new context is a new tag, which recreates the container.
func (b *builder) buildFor(st *serviceState) {
	name := st.svc.Name
	ob := b.obs.Builds[name]
	if ob.ContextError != "" || ob.Ref == "" {
		due := ob.LastFailure.Add(b.opts.Backoff.Delay(max(ob.Failures, 1)))
		st.intent = intentHold
		msg := ob.ContextError
		if msg == "" {
			msg = "build context not read yet"
		}
		b.plan.wait(name, Waiting{Reason: WaitBuildContext, Until: due, Message: msg})
		b.plan.requeueAt(b.now, due)
		return
	}
	if ob.Present {
		return
	}
	if _, planned := b.pullOps[ob.Ref]; planned {
		return
	}
	why := "context hash " + ob.Ref
	if ob.Failures > 0 {
		due := ob.LastFailure.Add(b.opts.Backoff.Delay(ob.Failures))
		if b.now.Before(due) {
			st.intent = intentHold
			b.plan.wait(name, Waiting{Reason: WaitBuildFailed, Until: due,
				Message: fmt.Sprintf("building %s failed %d time(s), retrying after back-off: %s", ob.Ref, ob.Failures, ob.Error)})
			b.plan.requeueAt(b.now, due)
			return
		}
		why = fmt.Sprintf("%s; retry %d", why, ob.Failures)
	}
	b.pullOps[ob.Ref] = b.plan.add(Op{
		Kind: OpBuildImage, Environment: b.env.Name, Service: name, Image: ob.Ref,
		PullPolicy: v1alpha1.PullNever,
		Reason:     fmt.Sprintf("build %s from %s (%s)", ob.Ref, st.svc.Build.Context, why),
	})
}
