package plan

import "berth.dev/berth/apis/v1alpha1"

// A restart request is an annotation on the Environment, so it goes through
// the API like every other change and the normal reconcile acts on it: the
// request time becomes part of the container's config, the spec hash moves,
// and the plan replaces just that service's container the graceful way (stop
// with its grace period, remove, create, start). The annotation, not the
// spec, carries it because a restart is an action, not a desired state;
// generation stays put and Ready does not wait for a new observedGeneration.
const (
	// RestartAnnotationPrefix + a service name is the annotation key; its
	// value is the request time (RFC 3339). Any new value restarts again.
	RestartAnnotationPrefix = "berth.dev/restart."
	// LabelRestartedAt carries the annotation's value onto the container,
	// so the request is visible with docker inspect.
	LabelRestartedAt = "berth.dev/restarted-at"
)

// RestartAnnotation is the annotation key that restarts service.
func RestartAnnotation(service string) string { return RestartAnnotationPrefix + service }

// restartRequest is the value of service's restart annotation, "" if none.
func restartRequest(env *v1alpha1.Environment, service string) string {
	return env.Annotations[RestartAnnotation(service)]
}
