package v1alpha1

import (
	"fmt"

	"k8s.io/apimachinery/pkg/util/sets"
	"k8s.io/apimachinery/pkg/util/validation"
	"k8s.io/apimachinery/pkg/util/validation/field"
)

// SpecNetworks are the names of env's networks in the spec: spec.networks,
// or DefaultNetworkName alone when it is omitted.
func SpecNetworks(spec *EnvironmentSpec) []string {
	if len(spec.Networks) == 0 {
		return []string{DefaultNetworkName}
	}
	out := make([]string, 0, len(spec.Networks))
	for _, n := range spec.Networks {
		out = append(out, n.Name)
	}
	return out
}

// ServiceNetworks maps each network s joins (by spec name) to its extra
// aliases: its own networks list, or every network of the spec.
func ServiceNetworks(spec *EnvironmentSpec, s *Service) map[string][]string {
	out := map[string][]string{}
	if len(s.Networks) == 0 {
		for _, n := range SpecNetworks(spec) {
			out[n] = nil
		}
		return out
	}
	for _, n := range s.Networks {
		out[n.Name] = append(out[n.Name], n.Aliases...)
	}
	return out
}

// validateNetworks checks spec.networks and every service's networks:
// names are DNS labels and unique, a service joins only declared
// networks, and its aliases are DNS names that do not take another
// service's name on a network they share (Docker would then answer that
// name with either container).
func validateNetworks(spec *EnvironmentSpec, path *field.Path) field.ErrorList {
	var allErrs field.ErrorList
	netPath := path.Child("networks")
	if n := len(spec.Networks); n > MaxNetworks {
		return field.ErrorList{field.TooMany(netPath, n, MaxNetworks)}
	}
	declared := sets.New[string]()
	for i, n := range spec.Networks {
		np := netPath.Index(i).Child("name")
		allErrs = append(allErrs, validateName(np, n.Name)...)
		if n.Name != "" && declared.Has(n.Name) {
			allErrs = append(allErrs, field.Duplicate(np, n.Name))
		}
		declared.Insert(n.Name)
	}
	if len(spec.Networks) == 0 {
		declared.Insert(DefaultNetworkName)
	}

	// Which services are on each network, for the alias check.
	members := map[string]sets.Set[string]{}
	for i := range spec.Services {
		for n := range ServiceNetworks(spec, &spec.Services[i]) {
			if members[n] == nil {
				members[n] = sets.New[string]()
			}
			members[n].Insert(spec.Services[i].Name)
		}
	}
	for i := range spec.Services {
		s := &spec.Services[i]
		sp := path.Child("services").Index(i).Child("networks")
		seen := sets.New[string]()
		for j, sn := range s.Networks {
			np := sp.Index(j).Child("name")
			switch {
			case sn.Name == "":
				allErrs = append(allErrs, field.Required(np, ""))
				continue
			case seen.Has(sn.Name):
				allErrs = append(allErrs, field.Duplicate(np, sn.Name))
				continue
			case !declared.Has(sn.Name):
				e := field.NotFound(np, sn.Name)
				e.Detail = fmt.Sprintf("must name one of spec.networks (%s)", quotedList(sets.List(declared)))
				allErrs = append(allErrs, e)
				continue
			}
			seen.Insert(sn.Name)
			ap := sp.Index(j).Child("aliases")
			if len(sn.Aliases) > MaxAliasesPerNetwork {
				allErrs = append(allErrs, field.TooMany(ap, len(sn.Aliases), MaxAliasesPerNetwork))
				continue
			}
			aliases := sets.New[string]()
			for k, a := range sn.Aliases {
				aip := ap.Index(k)
				for _, msg := range validation.IsDNS1123Subdomain(a) {
					allErrs = append(allErrs, field.Invalid(aip, a, msg))
				}
				switch {
				case aliases.Has(a):
					allErrs = append(allErrs, field.Duplicate(aip, a))
				case a == s.Name:
					allErrs = append(allErrs, field.Invalid(aip, a, "is the service's own name, which is always an alias"))
				case a != s.Name && members[sn.Name].Has(a):
					allErrs = append(allErrs, field.Invalid(aip, a,
						fmt.Sprintf("is the name of service %q on network %q: both containers would answer it", a, sn.Name)))
				}
				aliases.Insert(a)
			}
		}
	}
	return allErrs
}

func quotedList(items []string) string {
	out := ""
	for i, s := range items {
		if i > 0 {
			out += ", "
		}
		out += fmt.Sprintf("%q", s)
	}
	return out
}
