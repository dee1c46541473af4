package plan

import "berth.dev/berth/apis/v1alpha1"

// A restart request is the annotation v1alpha1.RestartAnnotation(service)
// (see apis/v1alpha1/wellknown.go): its value becomes the config's
// RestartedAt and the container's v1alpha1.LabelRestartedAt label.

// restartRequest is the value of service's restart annotation, "" if none.
func restartRequest(env *v1alpha1.Environment, service string) string {
	return env.Annotations[v1alpha1.RestartAnnotation(service)]
}
