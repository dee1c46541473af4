package plan

import (
	"strings"
	"testing"
	"time"

	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/validation/field"

	"berth.dev/berth/apis/v1alpha1"
)

func TestInvalidSpecStatus(t *testing.T) {
	env := &v1alpha1.Environment{ObjectMeta: metav1.ObjectMeta{Name: "bad", Generation: 3}}
	prev := v1alpha1.EnvironmentStatus{
		ObservedGeneration: 2,
		Services:           []v1alpha1.ServiceStatus{{Name: "api", State: "running", Ready: true}},
	}
	errs := field.ErrorList{field.NotFound(field.NewPath("spec", "services").Index(1).Child("dependsOn").Index(0).Child("service"), "db")}
	now := time.Unix(1700000000, 0)
	st := InvalidSpecStatus(env, errs, prev, now)

	if st.Phase != v1alpha1.PhaseFailed || st.ObservedGeneration != 3 {
		t.Errorf("phase %s observedGeneration %d, want Failed 3", st.Phase, st.ObservedGeneration)
	}
	for typ, want := range map[string]metav1.ConditionStatus{
		v1alpha1.ConditionReady: metav1.ConditionFalse, v1alpha1.ConditionProgressing: metav1.ConditionFalse, v1alpha1.ConditionDegraded: metav1.ConditionTrue,
	} {
		c := meta.FindStatusCondition(st.Conditions, typ)
		if c == nil || c.Status != want || c.Reason != ReasonInvalidSpec || c.ObservedGeneration != 3 {
			t.Fatalf("%s = %+v, want %s InvalidSpec at generation 3", typ, c, want)
		}
		if !strings.Contains(c.Message, "spec.services[1].dependsOn[0].service") {
			t.Errorf("%s message %q does not name the field", typ, c.Message)
		}
	}
	if len(st.Services) != 1 || st.Services[0].Name != "api" {
		t.Errorf("services = %+v, want what was last observed", st.Services)
	}
	if prev.Phase != "" || prev.Conditions != nil {
		t.Error("prev was modified")
	}
}

func TestInvalidSpecMessageBounded(t *testing.T) {
	var errs field.ErrorList
	for i := range 500 {
		errs = append(errs, field.Invalid(field.NewPath("spec", "services").Index(i).Child("name"), "Ünïcode", "bad"))
	}
	msg := InvalidSpecMessage(errs)
	if len(msg) > maxInvalidMessage+64 {
		t.Errorf("message is %d bytes", len(msg))
	}
	if !strings.HasSuffix(msg, "(500 errors)") || !strings.Contains(msg, "spec.services[0].name") {
		t.Errorf("message %q", msg[len(msg)-80:])
	}
}
