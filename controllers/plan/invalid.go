package plan

import (
	"fmt"
	"strings"
	"time"

	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/validation/field"

	"berth.dev/berth/apis/v1alpha1"
)

// ReasonInvalidSpec is the conditions' reason for a spec the controller
// refuses: on a Kubernetes API, berth's validation runs in the controller,
// not at admission.
const ReasonInvalidSpec = string(WaitInvalidSpec)

// maxInvalidMessage bounds the condition message: a spec with hundreds of
// errors must not bloat the object.
const maxInvalidMessage = 2048

// InvalidSpecStatus is the status of an Environment whose current
// generation fails validation: phase Failed, Ready and Progressing False and
// Degraded True, all with reason InvalidSpec and the field errors as
// message. Services keep what was last observed (the controller makes and
// changes nothing for an invalid spec, so what exists stays as it was).
func InvalidSpecStatus(env *v1alpha1.Environment, errs field.ErrorList, prev v1alpha1.EnvironmentStatus, now time.Time) v1alpha1.EnvironmentStatus {
	out := *prev.DeepCopy()
	out.ObservedGeneration = env.Generation
	out.Phase = v1alpha1.PhaseFailed
	msg := InvalidSpecMessage(errs)
	for _, c := range []struct {
		t  string
		ok bool
	}{{v1alpha1.ConditionReady, false}, {v1alpha1.ConditionProgressing, false}, {v1alpha1.ConditionDegraded, true}} {
		status := metav1.ConditionFalse
		if c.ok {
			status = metav1.ConditionTrue
		}
		meta.SetStatusCondition(&out.Conditions, metav1.Condition{
			Type: c.t, Status: status, Reason: ReasonInvalidSpec, Message: msg,
			ObservedGeneration: env.Generation, LastTransitionTime: metav1.NewTime(now.Truncate(time.Second)),
		})
	}
	sortConditions(out.Conditions)
	return out
}

// InvalidSpecMessage joins the field errors ("spec.services[0].name:
// Invalid value: ...") into one bounded line.
func InvalidSpecMessage(errs field.ErrorList) string {
	parts := make([]string, 0, len(errs))
	for _, e := range errs {
		parts = append(parts, e.Error())
	}
	msg := "invalid spec: " + strings.Join(parts, "; ")
	if len(msg) > maxInvalidMessage {
		msg = fmt.Sprintf("%s… (%d errors)", strings.ToValidUTF8(msg[:maxInvalidMessage], ""), len(errs))
	}
	return msg
}
