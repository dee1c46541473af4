package plan

import (
	"fmt"

	"k8s.io/apimachinery/pkg/api/resource"

	"berth.dev/berth/apis/v1alpha1"
)

// Docker's bounds for CPU shares; the kubelet maps millicores the same way.
const (
	minCPUShares = 2
	maxCPUShares = 262144
)

// buildResources applies the manager's memory defaults, so no container is
// ever unbounded, and converts quantities to Docker's units.
func buildResources(r v1alpha1.ResourceRequirements, opts Options) (Resources, error) {
	out := Resources{MemoryLimit: opts.DefaultMemoryLimit, MemoryReservation: opts.DefaultMemoryReservation}

	if q, ok, err := quantity(r.Limits, v1alpha1.ResourceMemory, "resources.limits.memory"); err != nil {
		return Resources{}, err
	} else if ok {
		out.MemoryLimit = q.Value()
	}
	if q, ok, err := quantity(r.Requests, v1alpha1.ResourceMemory, "resources.requests.memory"); err != nil {
		return Resources{}, err
	} else if ok {
		out.MemoryReservation = q.Value()
	}
	// A small spec limit with the default reservation would ask Docker for a
	// soft limit above the hard one, which it refuses.
	out.MemoryReservation = min(out.MemoryReservation, out.MemoryLimit)

	if q, ok, err := quantity(r.Limits, v1alpha1.ResourceCPU, "resources.limits.cpu"); err != nil {
		return Resources{}, err
	} else if ok {
		out.NanoCPUs = q.MilliValue() * 1_000_000
	}
	if q, ok, err := quantity(r.Requests, v1alpha1.ResourceCPU, "resources.requests.cpu"); err != nil {
		return Resources{}, err
	} else if ok {
		out.CPUShares = min(max(q.MilliValue()*1024/1000, minCPUShares), maxCPUShares)
	}
	return out, nil
}

// quantity parses one entry of a resource list; absent is not an error.
func quantity(list v1alpha1.ResourceList, name v1alpha1.ResourceName, field string) (resource.Quantity, bool, error) {
	v, ok := list[name]
	if !ok {
		return resource.Quantity{}, false, nil
	}
	q, err := resource.ParseQuantity(v.String())
	if err != nil {
		return resource.Quantity{}, false, fmt.Errorf("%s %q: %w", field, v.String(), err)
	}
	if q.Sign() <= 0 {
		return resource.Quantity{}, false, fmt.Errorf("%s %q: must be greater than zero", field, v.String())
	}
	return q, true, nil
}
