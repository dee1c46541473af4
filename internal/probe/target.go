package probe

import (
	"context"
	"fmt"
	"net"
	"strings"
	"time"

	"k8s.io/apimachinery/pkg/util/intstr"

	v1 "berth.dev/berth/apis/v1alpha1"
)

// Target says how to reach one container.
type Target struct {
	// ContainerID is where exec probes run.
	ContainerID string
	// IP is the container's address on its Environment's network, tried
	// first; empty when the container is not attached.
	IP string
	// Ports are the service's declared ports, through which a named probe
	// port resolves to a container port.
	Ports []v1.ServicePort
	// Published are the container's ports published on the host, as
	// observed. They are the fallback where IP is not reachable from the
	// manager (Docker Desktop runs containers in a VM).
	Published []PublishedPort
	// Execer runs exec probes; the Manager fills it from its options when
	// it is nil.
	Execer Execer
	// Logs reads the container's output for log probes; the Manager
	// fills it from its options when it is nil.
	Logs LogStreamer
}

// PublishedPort is a container port and where the host publishes it.
type PublishedPort struct {
	ContainerPort int
	// Protocol is tcp or udp; empty means tcp.
	Protocol string
	// HostIP is the address the port is bound on; empty or unspecified
	// (0.0.0.0, ::) is reached through loopback.
	HostIP   string
	HostPort int
}

// Execer runs a command in a container and waits up to timeout for it.
// *docker.Client's Exec has this shape; its result converts with
// probe.ExecResult(r).
type Execer interface {
	Exec(ctx context.Context, containerID string, cmd []string, timeout time.Duration) (ExecResult, error)
}

// ExecResult is the outcome of a command run by an Execer.
type ExecResult struct {
	ExitCode int
	// Output is what the command printed, possibly cut short.
	Output string
	// TimedOut: the command did not finish within the timeout.
	TimedOut bool
}

// ExecFunc adapts a function to Execer.
type ExecFunc func(ctx context.Context, containerID string, cmd []string, timeout time.Duration) (ExecResult, error)

// Exec calls f.
func (f ExecFunc) Exec(ctx context.Context, containerID string, cmd []string, timeout time.Duration) (ExecResult, error) {
	return f(ctx, containerID, cmd, timeout)
}

// ResolvePort turns a probe's port (a number or the name of one of the
// service's ports) into a container port.
func (t Target) ResolvePort(p intstr.IntOrString) (int, error) {
	if p.Type == intstr.Int {
		if p.IntVal < 1 || p.IntVal > 65535 {
			return 0, fmt.Errorf("port %d is out of range", p.IntVal)
		}
		return int(p.IntVal), nil
	}
	for _, sp := range t.Ports {
		if sp.Name == p.StrVal {
			if sp.ContainerPort < 1 || sp.ContainerPort > 65535 {
				return 0, fmt.Errorf("port %q: container port %d is out of range", p.StrVal, sp.ContainerPort)
			}
			return int(sp.ContainerPort), nil
		}
	}
	return 0, fmt.Errorf("port %q is not one of the service's ports", p.StrVal)
}

// Addresses are the host:port candidates for a TCP container port, in the
// order they are tried: the network address, then each host publication.
func (t Target) Addresses(port int) []string {
	var out []string
	seen := map[string]bool{}
	add := func(a string) {
		if !seen[a] {
			seen[a] = true
			out = append(out, a)
		}
	}
	if t.IP != "" {
		add(net.JoinHostPort(t.IP, fmt.Sprint(port)))
	}
	// IPv4 first: Docker publishes on both families, and the IPv6 proxy
	// is the one more often missing.
	for _, wantV6 := range []bool{false, true} {
		for _, p := range t.Published {
			if p.ContainerPort != port || p.HostPort < 1 || !strings.EqualFold(orTCP(p.Protocol), "tcp") {
				continue
			}
			host := reachableHost(p.HostIP)
			if isV6(host) != wantV6 {
				continue
			}
			add(net.JoinHostPort(host, fmt.Sprint(p.HostPort)))
		}
	}
	return out
}

func orTCP(proto string) string {
	if proto == "" {
		return "tcp"
	}
	return proto
}

// reachableHost maps a bind address to one the manager can connect to: a
// port bound on every interface answers on loopback.
func reachableHost(hostIP string) string {
	switch hostIP {
	case "", "0.0.0.0":
		return "127.0.0.1"
	case "::", "[::]":
		return "::1"
	}
	return strings.Trim(hostIP, "[]")
}

func isV6(host string) bool { return strings.Contains(host, ":") }
