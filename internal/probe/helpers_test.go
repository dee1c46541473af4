package probe

import (
	"net"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	"k8s.io/apimachinery/pkg/util/intstr"

	v1 "berth.dev/berth/apis/v1alpha1"
)

// eventually polls cond generously; tests assert behaviour, not speed.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// hostPort splits a listener's address.
func hostPort(t *testing.T, addr string) (string, int) {
	t.Helper()
	h, p, err := net.SplitHostPort(addr)
	if err != nil {
		t.Fatalf("split %q: %v", addr, err)
	}
	n, err := strconv.Atoi(p)
	if err != nil {
		t.Fatalf("port of %q: %v", addr, err)
	}
	return h, n
}

// closedPort returns a loopback port nothing listens on (it was just
// released).
func closedPort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	_, p := hostPort(t, l.Addr().String())
	l.Close()
	return p
}

// acceptAll accepts and closes connections until the listener closes,
// counting them.
func acceptAll(t *testing.T) (addr string, accepted func() int) {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	n := make(chan int, 1)
	n <- 0
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			c.Close()
			n <- <-n + 1
		}
	}()
	return l.Addr().String(), func() int { v := <-n; n <- v; return v }
}

func httpProbe(path string, port intstr.IntOrString) *v1.Probe {
	return &v1.Probe{HTTPGet: &v1.HTTPGetAction{Path: path, Port: port}, TimeoutSeconds: 1, PeriodSeconds: 2, SuccessThreshold: 1, FailureThreshold: 3}
}

func tcpProbe(port intstr.IntOrString) *v1.Probe {
	return &v1.Probe{TCPSocket: &v1.TCPSocketAction{Port: port}, TimeoutSeconds: 1, PeriodSeconds: 2, SuccessThreshold: 1, FailureThreshold: 3}
}

// workerGoroutines counts goroutines running a probe worker.
func workerGoroutines() int {
	buf := make([]byte, 1<<20)
	for {
		n := runtime.Stack(buf, true)
		if n < len(buf) {
			return strings.Count(string(buf[:n]), "internal/probe.(*worker).run(")
		}
		buf = make([]byte, 2*len(buf))
	}
}

// noWorkersLeft checks every worker goroutine ends. Stop has waited for
// them all to finish their work; the last instructions of a goroutine after
// that are not observable, so the check polls.
func noWorkersLeft(t *testing.T) {
	t.Helper()
	eventually(t, "every worker goroutine to end", func() bool { return workerGoroutines() == 0 })
}
