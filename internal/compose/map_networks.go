package compose

import (
	"slices"
	"strings"

	"k8s.io/apimachinery/pkg/util/validation"

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
		if containerAlias(s) != "" {
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
	alias := containerAlias(s)
	if alias != "" {
		if msgs := validation.IsDNS1123Subdomain(alias); len(msgs) > 0 {
			r.add(sp+".container_name", "%q becomes a network alias of the service, and aliases are DNS-1123 subdomains: %s", alias, strings.Join(msgs, "; "))
			alias = ""
		} else {
			r.warn("%s.container_name: berth names the container itself (berth_<env>_%s); %q is a network alias of the service on every network it joins", sp, s.Name, alias)
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
		if alias != "" && !slices.Contains(sn.Aliases, alias) {
			sn.Aliases = append(sn.Aliases, alias)
		}
		out = append(out, sn)
	}
	return out
}

// containerAlias is the container_name of s as the network alias it
// becomes: other services use a container_name as a DNS name, and berth
// names its containers itself. One equal to the service name adds
// nothing. A container_name shared by replicas never gets here:
// compose-go refuses it with scale > 1, as compose does, although the
// alias would work (every replica answers it, as they answer the service
// name).
func containerAlias(s types.ServiceConfig) string {
	if s.ContainerName == s.Name {
		return ""
	}
	return s.ContainerName
}
