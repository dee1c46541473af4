package plan

import (
	"fmt"

	"berth.dev/berth/apis/v1alpha1"
)

// Order lists service names so that every service comes after the services
// it depends on, breaking ties by spec order. Unknown dependencies are
// ignored. A cycle (which validation rejects) is reported as an error, and
// the services in it are still listed, in spec order, after the rest: the
// caller always gets every service once.
func Order(services []v1alpha1.Service) ([]string, error) {
	deps := make([][]int, len(services))
	index := serviceIndex(services)
	for i, s := range services {
		for _, d := range s.DependsOn {
			if j, ok := index[d.Service]; ok && j != i {
				deps[i] = append(deps[i], j)
			}
		}
	}
	return kahn(services, deps, "dependency cycle among services")
}

// ReverseOrder lists service names dependents first, the order teardown
// stops them in; ties keep spec order.
func ReverseOrder(services []v1alpha1.Service) ([]string, error) {
	// Service i must wait for every service that depends on it.
	dependents := make([][]int, len(services))
	index := serviceIndex(services)
	for i, s := range services {
		for _, d := range s.DependsOn {
			if j, ok := index[d.Service]; ok && j != i {
				dependents[j] = append(dependents[j], i)
			}
		}
	}
	return kahn(services, dependents, "dependency cycle among services")
}

// kahn places, again and again, the first service in spec order whose
// prerequisites are all placed: quadratic, and stable, which matters more
// for the few dozen services an Environment has.
func kahn(services []v1alpha1.Service, before [][]int, cycleMsg string) ([]string, error) {
	placed := make([]bool, len(services))
	out := make([]string, 0, len(services))
	for len(out) < len(services) {
		next := -1
		for i := range services {
			if placed[i] {
				continue
			}
			ready := true
			for _, j := range before[i] {
				if !placed[j] {
					ready = false
					break
				}
			}
			if ready {
				next = i
				break
			}
		}
		if next < 0 {
			var rest []string
			for i, s := range services {
				if !placed[i] {
					rest = append(rest, s.Name)
					out = append(out, s.Name)
				}
			}
			return out, fmt.Errorf("%s: %v", cycleMsg, rest)
		}
		placed[next] = true
		out = append(out, services[next].Name)
	}
	return out, nil
}

func serviceIndex(services []v1alpha1.Service) map[string]int {
	index := make(map[string]int, len(services))
	for i, s := range services {
		if _, dup := index[s.Name]; !dup {
			index[s.Name] = i
		}
	}
	return index
}
