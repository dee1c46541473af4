package compose

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/compose-spec/compose-go/v2/types"
	"k8s.io/utils/ptr"

	"berth.dev/berth/apis/v1alpha1"
)

// mapPorts maps ports: (published, or a free host port when none is
// given) and then expose: (not published) onto berth's ports, each
// container port and protocol once.
func mapPorts(sp string, s types.ServiceConfig, r *refusals) []v1alpha1.ServicePort {
	if n := len(s.Ports); n > v1alpha1.MaxPortsPerService {
		r.add(sp+".ports", "%d ports (ranges count one each): a service publishes at most %d", n, v1alpha1.MaxPortsPerService)
		return nil
	}
	var out []v1alpha1.ServicePort
	seen := map[string]string{} // "80/TCP" → where it was listed
	for i, pc := range s.Ports {
		pp := fmt.Sprintf("%s.ports[%d]", sp, i)
		proto, ok := protocol(pc.Protocol)
		if !ok {
			r.add(pp+".protocol", "%q: tcp or udp", pc.Protocol)
			continue
		}
		port := v1alpha1.ServicePort{Name: pc.Name, ContainerPort: int32(pc.Target), HostIP: pc.HostIP}
		if proto != v1alpha1.ProtocolTCP {
			port.Protocol = proto
		}
		switch {
		case pc.Published == "":
			port.HostPort = ptr.To(int32(0))
		case strings.Contains(pc.Published, "-"):
			r.add(pp+".published", "%q: a published range lets Docker pick a port in it; berth publishes a fixed port, or a free one when published is left out", pc.Published)
			continue
		default:
			n, err := strconv.ParseUint(pc.Published, 10, 16)
			if err != nil {
				r.add(pp+".published", "%q is not a port number", pc.Published)
				continue
			}
			port.HostPort = ptr.To(int32(n))
		}
		key := fmt.Sprintf("%d/%s", pc.Target, proto)
		if first, dup := seen[key]; dup {
			r.add(pp, "container port %s is already published by %s; berth publishes a container port once", key, first)
			continue
		}
		seen[key] = pp
		out = append(out, port)
	}
	for i, e := range s.Expose {
		ep := fmt.Sprintf("%s.expose[%d]", sp, i)
		lo, hi, proto, err := parseExpose(e)
		if err != nil {
			r.add(ep, "%q: %v", e, err)
			continue
		}
		for n := lo; n <= hi; n++ {
			key := fmt.Sprintf("%d/%s", n, proto)
			if _, dup := seen[key]; dup {
				continue
			}
			seen[key] = ep
			port := v1alpha1.ServicePort{ContainerPort: int32(n)}
			if proto != v1alpha1.ProtocolTCP {
				port.Protocol = proto
			}
			out = append(out, port)
		}
	}
	return out
}

func protocol(p string) (v1alpha1.Protocol, bool) {
	switch strings.ToLower(p) {
	case "", "tcp":
		return v1alpha1.ProtocolTCP, true
	case "udp":
		return v1alpha1.ProtocolUDP, true
	}
	return "", false
}

// parseExpose reads an expose entry: 80, 80/udp or 3000-3005[/proto].
func parseExpose(e string) (lo, hi int, proto v1alpha1.Protocol, err error) {
	num, p, _ := strings.Cut(e, "/")
	proto, ok := protocol(p)
	if !ok {
		return 0, 0, "", fmt.Errorf("protocol %q: tcp or udp", p)
	}
	a, b, isRange := strings.Cut(num, "-")
	lo, err = portNumber(a)
	if err != nil {
		return 0, 0, "", err
	}
	hi = lo
	if isRange {
		if hi, err = portNumber(b); err != nil {
			return 0, 0, "", err
		}
		if hi < lo {
			return 0, 0, "", fmt.Errorf("the range ends before it starts")
		}
		if hi-lo >= v1alpha1.MaxPortsPerService {
			return 0, 0, "", fmt.Errorf("a range of more than %d ports", v1alpha1.MaxPortsPerService)
		}
	}
	return lo, hi, proto, nil
}

func portNumber(s string) (int, error) {
	n, err := strconv.Atoi(strings.TrimSpace(s))
	if err != nil || n < 1 || n > 65535 {
		return 0, fmt.Errorf("%q is not a port number (1-65535)", s)
	}
	return n, nil
}
