package probe

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"k8s.io/apimachinery/pkg/util/intstr"

	v1 "berth.dev/berth/apis/v1alpha1"
)

func TestTCPOpenAndClosed(t *testing.T) {
	addr, accepted := acceptAll(t)
	_, port := hostPort(t, addr)
	r := Run(context.Background(), tcpProbe(intstr.FromInt32(int32(port))), Target{IP: "127.0.0.1"})
	if !r.Success || r.Address != addr || r.Message != "" {
		t.Errorf("open port: %+v", r)
	}
	eventually(t, "the listener to see the probe", func() bool { return accepted() == 1 })

	closed := closedPort(t)
	r = Run(context.Background(), tcpProbe(intstr.FromInt32(int32(closed))), Target{IP: "127.0.0.1"})
	want := fmt.Sprintf("dial tcp 127.0.0.1:%d: connect: connection refused", closed)
	if r.Success || r.Message != want {
		t.Errorf("closed port: got %+v, want %q", r, want)
	}
}

func TestTCPNamedPortThroughPublished(t *testing.T) {
	addr, _ := acceptAll(t)
	h, p := hostPort(t, addr)
	tg := Target{
		Ports:     []v1.ServicePort{{Name: "sql", ContainerPort: 5432}},
		Published: []PublishedPort{{ContainerPort: 5432, HostIP: h, HostPort: p}},
	}
	if r := Run(context.Background(), tcpProbe(intstr.FromString("sql")), tg); !r.Success || r.Address != addr {
		t.Errorf("named port: %+v, want success via %s", r, addr)
	}
}

func TestTCPFallbackReportsEveryAddress(t *testing.T) {
	a, b := closedPort(t), closedPort(t)
	tg := Target{IP: "127.0.0.1", Published: []PublishedPort{{ContainerPort: a, HostIP: "127.0.0.1", HostPort: b}}}
	r := Run(context.Background(), tcpProbe(intstr.FromInt32(int32(a))), tg)
	if r.Success || strings.Count(r.Message, "connection refused") != 2 ||
		!strings.Contains(r.Message, fmt.Sprintf("127.0.0.1:%d", a)) || !strings.Contains(r.Message, fmt.Sprintf("127.0.0.1:%d", b)) {
		t.Errorf("both refused: got %+v, want both dial errors", r)
	}
}
