package plan

import (
	"fmt"
	"testing"

	"berth.dev/berth/apis/v1alpha1"
)

// BenchmarkConvergedPass is the pure part of one reconcile of a Ready
// Environment of 5 services (the scale bench's shape): plan and status
// from an observation that needs nothing. Profile it with
// `go test -run X -bench ConvergedPass -cpuprofile cpu.out ./controllers/plan/`.
func BenchmarkConvergedPass(b *testing.B) {
	env := simpleEnv()
	for i := range 5 {
		env.Spec.Services = append(env.Spec.Services, v1alpha1.Service{
			Name: fmt.Sprintf("s%03d", i), Image: testImage, Args: []string{"--http-port=0"},
			ImagePullPolicy: v1alpha1.PullIfNotPresent, RestartPolicy: v1alpha1.RestartAlways,
		})
	}
	s := newSim(env, Observed{Images: map[string]ObservedImage{testImage: {Present: true}}})
	opts := testOptions()
	t := &testing.T{}
	for _, op := range Compute(env, s.obs, opts, t0).Ops {
		s.apply(t, op)
	}
	prev := ComputeStatus(env, s.obs, opts, Compute(env, s.obs, opts, t0), v1alpha1.EnvironmentStatus{}, t0)
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		p := Compute(env, s.obs, opts, t0)
		_ = ComputeStatus(env, s.obs, opts, p, prev, t0)
	}
}
