package v1alpha1

import (
	"fmt"
	"net/netip"

	"k8s.io/apimachinery/pkg/util/sets"
	"k8s.io/apimachinery/pkg/util/validation"
	"k8s.io/apimachinery/pkg/util/validation/field"
)

// maxPortNameLength is Kubernetes' IANA-derived limit; keeping it lets the
// same spec move to a real cluster later.
const maxPortNameLength = 15

func validatePorts(ports []ServicePort, p *field.Path) field.ErrorList {
	var allErrs field.ErrorList
	names := sets.New[string]()
	keys := map[string]int{}
	for i := range ports {
		port := &ports[i]
		pp := p.Index(i)

		if port.Name != "" {
			namePath := pp.Child("name")
			allErrs = append(allErrs, validatePortName(namePath, port.Name)...)
			if names.Has(port.Name) {
				allErrs = append(allErrs, field.Duplicate(namePath, port.Name))
			}
			names.Insert(port.Name)
		}
		// containerPort and protocol are the list's key (a Pod's too):
		// server-side apply merges ports by them.
		proto := port.Protocol
		if proto == "" {
			proto = ProtocolTCP
		}
		key := fmt.Sprintf("%d/%s", port.ContainerPort, proto)
		if j, dup := keys[key]; dup {
			d := field.Duplicate(pp.Child("containerPort"), port.ContainerPort)
			d.Detail = fmt.Sprintf("%s is already listed at %s; a container port is listed once per protocol", key, p.Index(j))
			allErrs = append(allErrs, d)
		} else {
			keys[key] = i
		}

		if port.ContainerPort < 1 || port.ContainerPort > 65535 {
			allErrs = append(allErrs, field.Invalid(pp.Child("containerPort"), port.ContainerPort,
				validation.InclusiveRangeError(1, 65535)))
		}
		if hp := port.HostPort; hp != nil && (*hp < 0 || *hp > 65535) {
			allErrs = append(allErrs, field.Invalid(pp.Child("hostPort"), *hp,
				validation.InclusiveRangeError(0, 65535)+" (0 picks a free port)"))
		}
		if port.HostIP != "" {
			ipPath := pp.Child("hostIP")
			if port.HostPort == nil {
				// Without hostPort nothing is published, so the address
				// would be silently ignored.
				allErrs = append(allErrs, field.Forbidden(ipPath, "may only be set when hostPort is set"))
			} else if _, err := parseHostIP(port.HostIP); err != nil {
				allErrs = append(allErrs, field.Invalid(ipPath, port.HostIP, "must be a valid IPv4 or IPv6 address"))
			}
		}
		allErrs = append(allErrs, validateEnum(pp.Child("protocol"), port.Protocol, ProtocolTCP, ProtocolUDP)...)
	}
	return allErrs
}

func validatePortName(p *field.Path, name string) field.ErrorList {
	if name == "" {
		return field.ErrorList{field.Required(p, "")}
	}
	var allErrs field.ErrorList
	if len(name) > maxPortNameLength {
		allErrs = append(allErrs, field.TooLong(p, name, maxPortNameLength))
	}
	for _, msg := range validation.IsValidPortName(name) {
		if msg != validation.MaxLenError(maxPortNameLength) {
			allErrs = append(allErrs, field.Invalid(p, name, msg))
		}
	}
	return allErrs
}

// parseHostIP accepts plain addresses only: Docker has no use for a zone.
func parseHostIP(s string) (netip.Addr, error) {
	addr, err := netip.ParseAddr(s)
	if err != nil {
		return netip.Addr{}, err
	}
	if addr.Zone() != "" {
		return netip.Addr{}, fmt.Errorf("zone not allowed")
	}
	return addr, nil
}

// hostBinding is one fixed host port the Environment publishes.
//
// +k8s:openapi-gen=false
// +k8s:deepcopy-gen=false
type hostBinding struct {
	path     string
	port     int32
	protocol Protocol
	ip       netip.Addr
}

func (b hostBinding) String() string {
	return netip.AddrPortFrom(b.ip, uint16(b.port)).String() + "/" + string(b.protocol)
}

// conflicts reports whether Docker could not bind both. An unspecified
// address (0.0.0.0, ::) overlaps every address of the same port, since it
// binds all interfaces (and :: binds both families by default on Linux).
func (b hostBinding) conflicts(o hostBinding) bool {
	if b.port != o.port || b.protocol != o.protocol {
		return false
	}
	return b.ip == o.ip || b.ip.IsUnspecified() || o.ip.IsUnspecified()
}

// validateHostPortConflicts rejects two fixed host ports that Docker could
// not both bind: the second container would fail to start, far from the
// spec's mistake. Port 0 asks Docker for a free port, so it never conflicts.
func validateHostPortConflicts(services []Service, p *field.Path) field.ErrorList {
	var allErrs field.ErrorList
	var bound []hostBinding
	for i := range services {
		for j, port := range services[i].Ports {
			if port.HostPort == nil || *port.HostPort <= 0 || *port.HostPort > 65535 {
				continue
			}
			ip, err := parseHostIP(port.HostIP)
			if port.HostIP == "" {
				ip, err = netip.MustParseAddr(DefaultHostIP), nil
			}
			if err != nil {
				continue // reported by validatePorts
			}
			b := hostBinding{
				path:     p.Index(i).Child("ports").Index(j).Child("hostPort").String(),
				port:     *port.HostPort,
				protocol: port.Protocol,
				ip:       ip,
			}
			if b.protocol == "" {
				b.protocol = DefaultProtocol
			}
			for _, prev := range bound {
				if b.conflicts(prev) {
					dup := field.Duplicate(p.Index(i).Child("ports").Index(j).Child("hostPort"), b.port)
					dup.Detail = fmt.Sprintf("%s is already published by %s", b, prev.path)
					if b.ip != prev.ip {
						dup.Detail = fmt.Sprintf("%s overlaps %s, published by %s", b, prev, prev.path)
					}
					allErrs = append(allErrs, dup)
					break
				}
			}
			bound = append(bound, b)
		}
	}
	return allErrs
}
