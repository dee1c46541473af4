package plan

import (
	"fmt"

	"berth.dev/berth/apis/v1alpha1"
)

// MemoryRequests is what an Environment asks of the manager's memory
// budget: the memory reservation of every container it runs (each
// service's, times its replicas), with the manager's defaults applied the
// way containers get them, so admission counts exactly what Docker is
// told. An unparsable quantity is an error naming the service; validation
// refuses such a spec before it is stored.
func MemoryRequests(spec *v1alpha1.EnvironmentSpec, opts Options) (int64, error) {
	if spec == nil {
		return 0, nil
	}
	opts = opts.withDefaults()
	var total int64
	for i := range spec.Services {
		svc := &spec.Services[i]
		r, err := buildResources(svc.Resources, opts)
		if err != nil {
			return 0, fmt.Errorf("service %s: %w", svc.Name, err)
		}
		total += r.MemoryReservation * int64(svc.ReplicaCount())
	}
	return total, nil
}
