package plan

import (
	"fmt"
	"testing"

	"k8s.io/apimachinery/pkg/util/intstr"

	"berth.dev/berth/apis/v1alpha1"
)

func TestMemoryRequests(t *testing.T) {
	three := int32(3)
	spec := &v1alpha1.EnvironmentSpec{Services: []v1alpha1.Service{
		// Defaults: the manager's reservation (256Mi), under its limit.
		{Name: "a", Image: "x"},
		// Spec requests times replicas.
		{Name: "b", Image: "x", Replicas: &three, Resources: v1alpha1.ResourceRequirements{
			Limits:   v1alpha1.ResourceList{v1alpha1.ResourceMemory: intstr.FromString("1Gi")},
			Requests: v1alpha1.ResourceList{v1alpha1.ResourceMemory: intstr.FromString("100Mi")},
		}},
		// A limit below the default reservation caps it, as Docker is told.
		{Name: "c", Image: "x", Resources: v1alpha1.ResourceRequirements{
			Limits: v1alpha1.ResourceList{v1alpha1.ResourceMemory: intstr.FromString("64Mi")},
		}},
	}}
	got, err := MemoryRequests(spec, Options{})
	if err != nil {
		t.Fatal(err)
	}
	want := int64(256<<20 + 3*100<<20 + 64<<20)
	if got != want {
		t.Errorf("MemoryRequests = %d, want %d", got, want)
	}
	got, err = MemoryRequests(spec, Options{DefaultMemoryReservation: 10 << 20})
	if err != nil {
		t.Fatal(err)
	}
	if want := int64(10<<20 + 3*100<<20 + 10<<20); got != want {
		t.Errorf("with a 10Mi default reservation: %d, want %d", got, want)
	}
	if got, err := MemoryRequests(nil, Options{}); got != 0 || err != nil {
		t.Errorf("nil spec: %d, %v", got, err)
	}
}

// BenchmarkMemoryRequests is one Environment of five services with spec
// quantities: what admission computes per stored Environment per pass.
func BenchmarkMemoryRequests(b *testing.B) {
	spec := &v1alpha1.EnvironmentSpec{}
	for i := range 5 {
		spec.Services = append(spec.Services, v1alpha1.Service{Name: fmt.Sprintf("s%d", i), Image: "x",
			Resources: v1alpha1.ResourceRequirements{
				Limits:   v1alpha1.ResourceList{v1alpha1.ResourceMemory: intstr.FromString("512Mi")},
				Requests: v1alpha1.ResourceList{v1alpha1.ResourceMemory: intstr.FromString("256Mi")},
			}})
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := MemoryRequests(spec, Options{}); err != nil {
			b.Fatal(err)
		}
	}
}
