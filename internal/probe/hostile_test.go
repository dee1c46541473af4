package probe

import (
	"bufio"
	"context"
	"fmt"
	"net"
	"net/http"
	"runtime"
	"strings"
	"sync/atomic"
	"testing"
	"time"
	"unicode/utf8"

	"k8s.io/apimachinery/pkg/util/intstr"

	v1 "berth.dev/berth/apis/v1alpha1"
)

// hostileServer answers every connection with head, then writes filler
// until the peer goes away, counting what it managed to write. It reads the
// request first, so the probe has sent everything before the flood starts.
func hostileServer(t *testing.T, head string, filler []byte) (addr string, written, hungUp *atomic.Int64) {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	return hostileServerOn(t, l, head, filler)
}

// hostileServerOn is hostileServer on a listener of the caller's (a TLS
// one).
func hostileServerOn(t *testing.T, l net.Listener, head string, filler []byte) (addr string, written, hungUp *atomic.Int64) {
	t.Helper()
	t.Cleanup(func() { l.Close() })
	written, hungUp = &atomic.Int64{}, &atomic.Int64{}
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			go func() {
				defer hungUp.Add(1)
				defer c.Close()
				if _, err := http.ReadRequest(bufio.NewReader(c)); err != nil {
					return
				}
				n, err := c.Write([]byte(head))
				written.Add(int64(n))
				for err == nil {
					n, err = c.Write(filler)
					written.Add(int64(n))
				}
			}()
		}
	}()
	return l.Addr().String(), written, hungUp
}

// heapStats is what the memory checks compare: the heap in use after a
// full GC, and the bytes allocated so far. A response read into memory
// whole shows in the second even when it is garbage again by the time the
// probe returns, so the allocation count is the stricter of the two.
func heapStats() (inuse, allocated uint64) {
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return ms.HeapInuse, ms.TotalAlloc
}

// A readiness probe must read a bounded amount of whatever the container
// answers: one endless header grew the manager's heap to about 1.1 GiB
// within a 3 s timeout. The bounds here are on memory and bytes, never on
// time.
func TestHTTPHostileResponsesStayBounded(t *testing.T) {
	const (
		probes = 3
		// Far above what a bounded probe allocates (a few KiB each plus
		// the test's own noise) and far below what an unbounded read of
		// a loopback flood allocates in one second (hundreds of MiB).
		maxAllocated  = 8 << 20
		maxHeapGrowth = 4 << 20
		// What the server may push per probe before the probe hangs
		// up: the probe's limit plus the loopback socket buffers, which
		// the kernel may auto-tune up to tcp_rmem's and tcp_wmem's
		// maxima (32 MiB and 4 MiB on Debian; a few MiB are seen). An
		// unbounded read drains hundreds of MiB within the timeout.
		maxWrittenPerProbe = 64 << 20
	)
	filler := []byte(strings.Repeat("a", 32<<10))
	cases := []struct {
		name string
		head string
		// ok: the probe passes (the status and headers are fine and the
		// body is never read).
		ok  bool
		msg string
	}{
		{"endless header", "HTTP/1.1 200 OK\r\nX-Endless: ", false, "response headers exceed 16 KiB"},
		{"endless header list", "HTTP/1.1 200 OK\r\n", false, "response headers exceed 16 KiB"},
		{"endless status line", "HTTP/1.1 200 ", false, "response headers exceed 16 KiB"},
		{"endless body", "HTTP/1.1 200 OK\r\nContent-Length: 1099511627776\r\n\r\n", true, ""},
		{"garbage status quoted in the message", "HTTP/1.1 " + strings.Repeat("x", 8<<10) + "\r\n\r\n", false, "malformed HTTP status code"},
		{"endless chunked body", "HTTP/1.1 503 Service Unavailable\r\nTransfer-Encoding: chunked\r\n\r\n8000\r\n", false, "HTTP probe failed with status 503"},
	}
	for _, scheme := range []v1.URIScheme{v1.URISchemeHTTP, v1.URISchemeHTTPS} {
		for _, c := range cases {
			t.Run(string(scheme)+"/"+c.name, func(t *testing.T) {
				fill := filler
				if c.name == "endless header list" {
					fill = []byte(strings.Repeat("X-Many: header\r\n", 2048))
				}
				var addr string
				var written, hungUp *atomic.Int64
				if scheme == v1.URISchemeHTTPS {
					addr, written, hungUp = hostileServerOn(t, tlsListener(t), c.head, fill)
				} else {
					addr, written, hungUp = hostileServer(t, c.head, fill)
				}
				tg := publishedAt(t, addr)
				p := httpProbe("/", intstr.FromInt32(80))
				p.HTTPGet.Scheme = scheme
				p.HTTPGet.InsecureSkipVerify = scheme == v1.URISchemeHTTPS
				// The timeout: an unbounded read has 3 s to grow.
				p.TimeoutSeconds = 3

				inuse0, alloc0 := heapStats()
				var results []Result
				for range probes {
					results = append(results, Run(context.Background(), p, tg))
				}
				inuse1, alloc1 := heapStats()

				for i, r := range results {
					if r.Success != c.ok || !strings.Contains(r.Message, c.msg) {
						t.Errorf("probe %d: got %+v, want success=%v and a message containing %q", i, r, c.ok, c.msg)
					}
					if len(r.Message) > maxStatusMessage+len("...") {
						t.Errorf("probe %d: message of %d bytes, want at most %d", i, len(r.Message), maxStatusMessage+len("..."))
					}
				}
				allocated := alloc1 - alloc0
				growth := int64(inuse1) - int64(inuse0)
				t.Logf("%d probes: %d KiB allocated, heap in use %+d KiB, server wrote %d KiB",
					probes, allocated>>10, growth>>10, written.Load()>>10)
				if allocated > maxAllocated {
					t.Errorf("%d probes allocated %d MiB, want under %d MiB: the response is not read through a limit",
						probes, allocated>>20, maxAllocated>>20)
				}
				if growth > maxHeapGrowth {
					t.Errorf("heap in use grew by %d MiB over %d probes, want under %d MiB", growth>>20, probes, maxHeapGrowth>>20)
				}
				// Every probe has closed its connection; what the server
				// wrote is final once each of its writes failed.
				eventually(t, "the server to see every probe hang up", func() bool { return hungUp.Load() == probes })
				if w := written.Load() / probes; w > maxWrittenPerProbe {
					t.Errorf("each probe took %d MiB from the server, want under %d MiB: the response is drained", w>>20, maxWrittenPerProbe>>20)
				}
			})
		}
	}
}

// Whatever a probe's message quotes (here Docker's exec error naming a
// program the spec may spell in 32 KiB), the status gets a short one.
func TestProbeMessagesAreClipped(t *testing.T) {
	long := strings.Repeat("é", 20<<10)
	ex := ExecFunc(func(context.Context, string, []string, time.Duration) (ExecResult, error) {
		return ExecResult{}, fmt.Errorf("exec in abc: OCI runtime exec failed: exec: %q: executable file not found in $PATH", long)
	})
	r := Run(context.Background(), execProbe(long), Target{ContainerID: "abc", Execer: ex})
	if r.Success || !strings.HasPrefix(r.Message, "exec probe: exec in abc: OCI runtime exec failed") || !strings.HasSuffix(r.Message, "...") {
		t.Errorf("got %q, want the start of the error, clipped", r.Message[:min(len(r.Message), 200)])
	}
	if len(r.Message) > maxStatusMessage+len("...") || !utf8.ValidString(r.Message) {
		t.Errorf("message of %d bytes (valid UTF-8: %v), want at most %d", len(r.Message), utf8.ValidString(r.Message), maxStatusMessage+len("..."))
	}
}
