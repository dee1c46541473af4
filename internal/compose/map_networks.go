package compose

import (
	"slices"

	"github.com/compose-spec/compose-go/v2/types"

	"berth.dev/berth/apis/v1alpha1"
)

// onlyDefaultNetwork says whether the project has just compose's default
// network with no aliases on it: berth's own default (one network every
// service joins), so neither spec.networks nor a service's networks are
// written, and the Environment reads as one written by hand.
func onlyDefaultNetwork(p *types.Project) bool {
	for name := range p.Networks {
		if name != v1alpha1.DefaultNetworkName {
			return false
		}
	}
	for _, s := range p.Services {
		for name, n := range s.Networks {
			if name != v1alpha1.DefaultNetworkName || (n != nil && len(n.Aliases) > 0) {
				return false
			}
		}
		if len(s.Networks) == 0 && len(p.Networks) > 0 {
			return false
		}
	}
	return true
}

// mapNetworks maps the top-level networks onto spec.networks.
func mapNetworks(p *types.Project, names *names, spec *v1alpha1.EnvironmentSpec, r *refusals) {
	for _, name := range sortedKeys(p.Networks) {
		n := p.Networks[name]
		np := "networks." + name
		if n.Driver != "" && n.Driver != "bridge" {
			r.add(np+".driver", "%q: berth's networks are bridge networks", n.Driver)
		}
		if n.EnableIPv4 != nil && !*n.EnableIPv4 {
			r.add(np+".enable_ipv4", "berth's networks are IPv4")
		}
	}
	if onlyDefaultNetwork(p) {
		return
	}
	for _, name := range sortedKeys(p.Networks) {
		spec.Networks = append(spec.Networks, v1alpha1.Network{Name: of(names.networks, name)})
	}
}

// mapServiceNetworks maps the networks a service joins, in name order,
// with their aliases.
func mapServiceNetworks(sp string, p *types.Project, s types.ServiceConfig, names *names, r *refusals) []v1alpha1.ServiceNetwork {
	for _, name := range sortedKeys(s.Networks) {
		if n := s.Networks[name]; !n.ServiceNameAliasEnabled() {
			r.add(sp+".networks."+name+".use_service_name_alias", "the service name is always a DNS name of the service")
		}
	}
	if onlyDefaultNetwork(p) {
		return nil
	}
	var out []v1alpha1.ServiceNetwork
	for _, name := range sortedKeys(s.Networks) {
		sn := v1alpha1.ServiceNetwork{Name: of(names.networks, name)}
		if n := s.Networks[name]; n != nil {
			sn.Aliases = slices.Clone(n.Aliases)
		}
		out = append(out, sn)
	}
	return out
}
