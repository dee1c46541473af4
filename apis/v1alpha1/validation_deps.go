package v1alpha1

import (
	"fmt"
	"strings"

	"k8s.io/apimachinery/pkg/util/sets"
	"k8s.io/apimachinery/pkg/util/validation/field"
)

func validateDependsOn(s *Service, p *field.Path, ctx *specContext) field.ErrorList {
	var allErrs field.ErrorList
	seen := sets.New[string]()
	for i, d := range s.DependsOn {
		dp := p.Index(i)
		sp := dp.Child("service")
		allErrs = append(allErrs, validateEnum(dp.Child("condition"), d.Condition,
			DependencyStarted, DependencyReady, DependencyCompleted)...)

		switch {
		case d.Service == "":
			allErrs = append(allErrs, field.Required(sp, "the name of another service"))
			continue
		case seen.Has(d.Service):
			allErrs = append(allErrs, field.Duplicate(sp, d.Service))
			continue
		}
		seen.Insert(d.Service)

		if d.Service == s.Name {
			allErrs = append(allErrs, field.Invalid(sp, d.Service, "a service may not depend on itself"))
			continue
		}
		target, ok := ctx.services[d.Service]
		if !ok {
			nf := field.NotFound(sp, d.Service)
			nf.Detail = "no service of that name in spec.services"
			allErrs = append(allErrs, nf)
			continue
		}
		allErrs = append(allErrs, validateReachable(d.Condition, target, dp.Child("condition"))...)
	}
	return allErrs
}

// validateReachable rejects a condition the dependency can never reach,
// which would otherwise leave the dependent service waiting forever.
func validateReachable(cond DependencyCondition, target *Service, p *field.Path) field.ErrorList {
	switch cond {
	case DependencyReady:
		if target.ReadinessProbe == nil && !healthcheckReady(target) {
			return field.ErrorList{field.Invalid(p, cond,
				fmt.Sprintf("service %q has no readinessProbe, so it never becomes Ready; use Started or give it a probe (or a healthcheck with a test)", target.Name))}
		}
	case DependencyCompleted:
		if target.RestartPolicy == RestartAlways || target.RestartPolicy == "" {
			return field.ErrorList{field.Invalid(p, cond,
				fmt.Sprintf("service %q has restartPolicy Always, so it never completes; give it restartPolicy Never or OnFailure", target.Name))}
		}
	}
	return nil
}

// maxReportedCycles bounds how many dependency cycles one validation names.
const maxReportedCycles = 20

// validateDependencyCycles reports each cycle of dependsOn once, named in
// full (a -> b -> a), at the dependsOn of its first service in spec order,
// up to maxReportedCycles of them.
// Self-dependencies and unknown services are reported elsewhere and left
// out of the graph.
func validateDependencyCycles(services []Service, p *field.Path) field.ErrorList {
	index := map[string]int{}
	for i, s := range services {
		if _, dup := index[s.Name]; !dup {
			index[s.Name] = i
		}
	}
	edges := make([][]int, len(services))
	for i, s := range services {
		for _, d := range s.DependsOn {
			if j, ok := index[d.Service]; ok && d.Service != "" && j != i && index[s.Name] == i {
				edges[i] = append(edges[i], j)
			}
		}
	}

	const (
		unvisited = iota
		onStack
		done
	)
	state := make([]int, len(services))
	var stack []int
	var allErrs field.ErrorList
	reported := sets.New[string]()

	var visit func(i int)
	visit = func(i int) {
		state[i] = onStack
		stack = append(stack, i)
		for _, j := range edges[i] {
			switch state[j] {
			case unvisited:
				visit(j)
			case onStack:
				if len(reported) >= maxReportedCycles {
					// Dense graphs have very many cycles; naming a few
					// is enough to fix the spec, naming all costs
					// memory in proportion to their number and length.
					continue
				}
				cycle := rotateToMin(cycleFrom(stack, j))
				names := make([]string, 0, len(cycle)+1)
				for _, k := range cycle {
					names = append(names, services[k].Name)
				}
				names = append(names, services[cycle[0]].Name)
				text := strings.Join(names, " -> ")
				if !reported.Has(text) {
					reported.Insert(text)
					allErrs = append(allErrs, field.Invalid(p.Index(cycle[0]).Child("dependsOn"),
						field.OmitValueType{}, "dependency cycle: "+text))
				}
			}
		}
		stack = stack[:len(stack)-1]
		state[i] = done
	}
	for i := range services {
		if state[i] == unvisited {
			visit(i)
		}
	}
	return allErrs
}

// cycleFrom returns the part of the DFS stack from start to its top.
func cycleFrom(stack []int, start int) []int {
	for k := len(stack) - 1; k >= 0; k-- {
		if stack[k] == start {
			return append([]int(nil), stack[k:]...)
		}
	}
	return nil
}

// rotateToMin makes a cycle start at its lowest index, so the same cycle
// found from different entry points reads (and is reported) the same.
func rotateToMin(cycle []int) []int {
	lowest := 0
	for k, v := range cycle {
		if v < cycle[lowest] {
			lowest = k
		}
	}
	out := make([]int, 0, len(cycle))
	out = append(out, cycle[lowest:]...)
	return append(out, cycle[:lowest]...)
}
