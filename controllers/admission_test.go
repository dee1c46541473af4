package controllers

import (
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"

	"berth.dev/berth/apis/v1alpha1"
	"berth.dev/berth/controllers/plan"
	"berth.dev/berth/internal/admission"
)

// TestRequestBook: requests are recomputed when the generation moves (a
// spec change), and forgotten with the Environment.
func TestRequestBook(t *testing.T) {
	env := &v1alpha1.Environment{ObjectMeta: metav1.ObjectMeta{Name: "a", UID: "u1", Generation: 1},
		Spec: v1alpha1.EnvironmentSpec{Services: []v1alpha1.Service{{Name: "s", Image: "x"}}}}
	var b requestBook
	opts := plan.Options{DefaultMemoryReservation: 100 << 20}
	if got := b.of(env, opts); got != 100<<20 {
		t.Fatalf("requests %d", got)
	}
	env.Spec.Services[0].Resources.Requests = v1alpha1.ResourceList{v1alpha1.ResourceMemory: intstr.FromString("50Mi")}
	if got := b.of(env, opts); got != 100<<20 {
		t.Fatalf("same generation recomputed: %d", got)
	}
	env.Generation = 2
	if got := b.of(env, opts); got != 50<<20 {
		t.Fatalf("new generation: %d, want 50Mi", got)
	}
	b.keep(nil)
	if len(b.byUID) != 0 {
		t.Fatalf("kept %v", b.byUID)
	}
}

// TestAdmissionClass: an unclaimed standby queues behind users' Environments;
// a claimed one and a plain Environment are a user's.
func TestAdmissionClass(t *testing.T) {
	plain := &v1alpha1.Environment{}
	unclaimed := &v1alpha1.Environment{Spec: v1alpha1.EnvironmentSpec{Standby: &v1alpha1.StandbySpec{Pool: "p", Mode: v1alpha1.StandbyPaused}}}
	claimed := unclaimed.DeepCopy()
	claimed.Spec.Standby.ClaimRef = &v1alpha1.ClaimRef{Name: "c"}
	for _, tc := range []struct {
		name string
		env  *v1alpha1.Environment
		want admission.Class
	}{
		{"plain", plain, admission.ClassUser},
		{"unclaimed standby", unclaimed, admission.ClassStandby},
		{"claimed standby", claimed, admission.ClassUser},
	} {
		if got := admissionClass(tc.env); got != tc.want {
			t.Errorf("%s: class %d, want %d", tc.name, got, tc.want)
		}
	}
}
