package controllers

import (
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"

	"berth.dev/berth/apis/v1alpha1"
	"berth.dev/berth/controllers/plan"
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
