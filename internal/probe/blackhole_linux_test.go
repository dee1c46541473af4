package probe

import (
	"context"
	"net"
	"syscall"
	"testing"
	"time"

	"k8s.io/apimachinery/pkg/util/intstr"
)

// blackhole returns a loopback address whose SYNs go unanswered, like a
// container IP seen from outside Docker Desktop's VM: a listener with a
// backlog of 0 that never accepts, its one queue slot already taken.
func blackhole(t *testing.T) string {
	t.Helper()
	fd, err := syscall.Socket(syscall.AF_INET, syscall.SOCK_STREAM, 0)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { syscall.Close(fd) })
	if err := syscall.Bind(fd, &syscall.SockaddrInet4{Addr: [4]byte{127, 0, 0, 1}}); err != nil {
		t.Fatal(err)
	}
	if err := syscall.Listen(fd, 0); err != nil {
		t.Fatal(err)
	}
	sa, err := syscall.Getsockname(fd)
	if err != nil {
		t.Fatal(err)
	}
	addr := (&net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: sa.(*syscall.SockaddrInet4).Port}).String()
	// Fill the accept queue, then check the next dial really hangs.
	for i := 0; ; i++ {
		c, err := net.DialTimeout("tcp", addr, 300*time.Millisecond)
		if err != nil {
			break
		}
		t.Cleanup(func() { c.Close() })
		if i > 8 {
			t.Fatalf("precondition: %s keeps accepting connections; cannot build a black hole here", addr)
		}
	}
	return addr
}

// An unreachable first address must not eat the whole timeout: the
// fallback still gets its turn.
func TestTCPFallbackPastBlackhole(t *testing.T) {
	hole := blackhole(t)
	open, _ := acceptAll(t)
	_, holePort := hostPort(t, hole)
	_, openPort := hostPort(t, open)
	tg := Target{IP: "127.0.0.1", Published: []PublishedPort{{ContainerPort: holePort, HostIP: "127.0.0.1", HostPort: openPort}}}

	r := Run(context.Background(), tcpProbe(intstr.FromInt32(int32(holePort))), tg)
	if !r.Success || r.Address != open {
		t.Errorf("got %+v, want success through %s", r, open)
	}
}

func TestHTTPTimeoutAtDial(t *testing.T) {
	hole := blackhole(t)
	_, port := hostPort(t, hole)
	r := Run(context.Background(), httpProbe("/", intstr.FromInt32(int32(port))), Target{IP: "127.0.0.1"})
	want := "HTTP probe timed out after 1s: dial tcp " + hole + ": i/o timeout"
	if r.Success || r.Message != want {
		t.Errorf("got %+v, want %q", r, want)
	}
}
