package session

import (
	"fmt"
	"net"
	"slices"
	"strconv"
	"strings"

	"berth.dev/berth/apis/v1alpha1"
)

// Endpoint is one published container port, as the manager reports it in
// status.
type Endpoint struct {
	Service string
	// Port is the port's name, or its container port number when it has
	// none ("8080"), with "/udp" appended for an unnamed UDP port.
	Port          string
	ContainerPort int32
	Protocol      v1alpha1.Protocol
	// Replica is the replica whose container publishes the port (0 for a
	// service without replicas).
	Replica int32
	// Host is the address to dial: the published host IP, with an
	// unspecified one (0.0.0.0, ::) replaced by the matching loopback.
	Host     string
	HostPort int32
}

// Address is host:port, e.g. "127.0.0.1:32768".
func (e Endpoint) Address() string {
	return net.JoinHostPort(e.Host, strconv.Itoa(int(e.HostPort)))
}

// portKey is how an unnamed port is known: its number, and /udp for UDP.
func portKey(name string, containerPort int32, proto v1alpha1.Protocol) string {
	if name != "" {
		return name
	}
	key := strconv.Itoa(int(containerPort))
	if strings.EqualFold(string(proto), string(v1alpha1.ProtocolUDP)) {
		key += "/udp"
	}
	return key
}

// dialHost turns the published host IP into an address a client on this
// machine can dial.
func dialHost(hostIP string) string {
	ip := net.ParseIP(hostIP)
	switch {
	case hostIP == "" || (ip != nil && ip.Equal(net.IPv4zero)):
		return "127.0.0.1"
	case ip != nil && ip.Equal(net.IPv6unspecified):
		return "::1"
	default:
		return hostIP
	}
}

// Endpoints lists env's published ports from its status: services in spec
// order, then replica, then the order the service lists its ports. Ports
// without a host port yet (not published, or not yet known) are left out.
func Endpoints(env *v1alpha1.Environment) []Endpoint {
	order := make(map[string]int, len(env.Spec.Services))
	for i, s := range env.Spec.Services {
		order[s.Name] = i
	}
	var out []Endpoint
	for _, st := range env.Status.Services {
		for _, p := range st.Ports {
			if p.HostPort == 0 {
				continue
			}
			out = append(out, Endpoint{
				Service:       st.Name,
				Port:          portKey(p.Name, p.ContainerPort, p.Protocol),
				ContainerPort: p.ContainerPort,
				Protocol:      p.Protocol,
				Replica:       p.Replica,
				Host:          dialHost(p.HostIP),
				HostPort:      p.HostPort,
			})
		}
	}
	slices.SortStableFunc(out, func(a, b Endpoint) int {
		if d := orderOf(order, a.Service) - orderOf(order, b.Service); d != 0 {
			return d
		}
		return int(a.Replica) - int(b.Replica)
	})
	return out
}

func orderOf(order map[string]int, svc string) int {
	if i, ok := order[svc]; ok {
		return i
	}
	return len(order)
}

// FindEndpoint picks the endpoint of service's port (its name, or its
// container port number as a string) on replica 0.
func FindEndpoint(eps []Endpoint, service, port string) (Endpoint, error) {
	var ports []string
	for _, e := range eps {
		if e.Service != service || e.Replica != 0 {
			continue
		}
		if e.Port == port || strconv.Itoa(int(e.ContainerPort)) == port {
			return e, nil
		}
		ports = append(ports, e.Port)
	}
	if len(ports) == 0 {
		return Endpoint{}, fmt.Errorf("service %q publishes no port", service)
	}
	return Endpoint{}, fmt.Errorf("service %q publishes no port %q (published: %s)", service, port, strings.Join(ports, ", "))
}
