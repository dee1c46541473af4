package probe

import (
	"context"
	"io"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-logr/logr/testr"
	"github.com/prometheus/client_golang/prometheus"
	clocktesting "k8s.io/utils/clock/testing"

	v1 "berth.dev/berth/apis/v1alpha1"
)

const readyLine = "database system is ready to accept connections"

// chunk is output a fake container writes, to stdout or stderr.
type chunk struct {
	stderr bool
	data   string
}

// fakeLogs is a container's output: each FollowLogs call is one stream fed
// from the channel the test pushes onto; it ends when a writer fails (the
// probe is satisfied), ctx ends, or the test closes the feed.
type fakeLogs struct {
	mu     sync.Mutex
	feeds  []chan chunk
	acks   []chan struct{}
	gones  []chan struct{}
	open   int
	opens  int
	since  []time.Time
	errors []error
}

func (f *fakeLogs) FollowLogs(ctx context.Context, id string, since time.Time, stdout, stderr io.Writer) error {
	feed, ack, gone := make(chan chunk), make(chan struct{}, 1), make(chan struct{})
	defer close(gone)
	f.mu.Lock()
	f.feeds = append(f.feeds, feed)
	f.acks = append(f.acks, ack)
	f.gones = append(f.gones, gone)
	f.open++
	f.opens++
	f.since = append(f.since, since)
	f.mu.Unlock()
	defer func() {
		f.mu.Lock()
		f.open--
		f.mu.Unlock()
	}()
	for {
		select {
		case <-ctx.Done():
			return nil
		case c, ok := <-feed:
			if !ok {
				return nil
			}
			w := stdout
			if c.stderr {
				w = stderr
			}
			_, err := w.Write([]byte(c.data))
			ack <- struct{}{}
			if err != nil {
				f.mu.Lock()
				f.errors = append(f.errors, err)
				f.mu.Unlock()
				return err
			}
		}
	}
}

func (f *fakeLogs) state() (open, opens int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.open, f.opens
}

func (f *fakeLogs) feed(i int) chan chunk {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.feeds[i]
}

// push writes c on stream i and waits until the probe's writer has taken
// it; false when the stream had ended already (the probe closed it).
func (f *fakeLogs) push(i int, c chunk) bool {
	f.mu.Lock()
	feed, ack, gone := f.feeds[i], f.acks[i], f.gones[i]
	f.mu.Unlock()
	select {
	case feed <- c:
		<-ack
		return true
	case <-gone:
		return false
	}
}

func logSpecProbe(pattern string, n int32) *v1.Probe {
	return &v1.Probe{Log: &v1.LogAction{Pattern: pattern, Occurrences: n}, PeriodSeconds: 2, TimeoutSeconds: 1, SuccessThreshold: 1, FailureThreshold: 3}
}

func newLogFixture(t *testing.T) (*Manager, *fakeLogs, *clocktesting.FakeClock) {
	t.Helper()
	clk := clocktesting.NewFakeClock(time.Unix(1_700_000_000, 0))
	logs := &fakeLogs{}
	m, err := NewManager(context.Background(), Options{Logger: testr.New(t), Registerer: prometheus.NewRegistry(), Logs: logs, Clock: clk})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		m.Stop()
		noWorkersLeft(t)
	})
	return m, logs, clk
}

// TestLogProbeCountsOccurrences is the Postgres wait: the ready line twice
// (the init server's, then the real one's), split across writes and
// between stdout and stderr, makes the container Ready, and the stream is
// closed once it has.
func TestLogProbeCountsOccurrences(t *testing.T) {
	m, logs, clk := newLogFixture(t)
	started := clk.Now().Add(-time.Second)
	m.Sync("shop", []Spec{{Service: "db", Probe: logSpecProbe(readyLine, 2), Target: Target{ContainerID: "c1"}, StartedAt: started}})

	eventually(t, "the stream to open", func() bool { open, _ := logs.state(); return open == 1 })
	logs.push(0, chunk{data: "initdb: starting\nLOG:  " + readyLine + "\nLOG:  shutting down\n"})
	if !logs.push(0, chunk{stderr: true, data: "LOG:  database system is rea"}) {
		t.Fatal("the stream closed after one ready line of two")
	}
	// The first probe waits its timeout for the stream, then reports.
	eventually(t, "the probe to wait on its timeout", func() bool { return clk.Waiters() == 1 })
	clk.Step(time.Second)
	eventually(t, "the first verdict", func() bool { st, _ := m.Result("c1"); return st.Known })
	if st, _ := m.Result("c1"); st.Ready || !strings.Contains(st.Message, "1 of 2") {
		t.Fatalf("after one ready line: %+v, want not ready, 1 of 2", st)
	}
	// The rest of the stderr line completes the second match.
	logs.push(0, chunk{stderr: true, data: "dy to accept connections\r\n"})
	eventually(t, "the stream to close once satisfied", func() bool { open, _ := logs.state(); return open == 0 })
	eventually(t, "the worker to sleep", func() bool { return clk.Waiters() == 1 })
	clk.Step(time.Second)
	eventually(t, "Ready", func() bool { st, _ := m.Result("c1"); return st.Ready })
	if _, opens := logs.state(); opens != 1 {
		t.Errorf("%d streams opened, want 1", opens)
	}
	if logs.since[0] != started {
		t.Errorf("stream since %v, want the container's start %v", logs.since[0], started)
	}
	if m.logStreams.Open() != 0 {
		t.Errorf("%d log streams still counted open", m.logStreams.Open())
	}
	// Satisfied stays satisfied: later probes read no stream.
	eventually(t, "the worker to sleep", func() bool { return clk.Waiters() == 1 })
	clk.Step(2 * time.Second)
	eventually(t, "the worker to sleep again", func() bool { return clk.Waiters() == 1 })
	if st, _ := m.Result("c1"); !st.Ready {
		t.Errorf("not ready after a later probe: %+v", st)
	}
	if _, opens := logs.state(); opens != 1 {
		t.Errorf("%d streams opened after being satisfied, want 1", opens)
	}
}

// TestLogProbeStreamEnds: a stream that ends before the pattern matched
// often enough fails the probe and is reopened, counting afresh from the
// container's start (the same lines are read again, not counted twice).
func TestLogProbeStreamEnds(t *testing.T) {
	m, logs, clk := newLogFixture(t)
	m.Sync("shop", []Spec{{Service: "db", Probe: logSpecProbe("ready", 2), Target: Target{ContainerID: "c1"}, StartedAt: clk.Now()}})
	eventually(t, "the stream to open", func() bool { open, _ := logs.state(); return open == 1 })
	logs.push(0, chunk{data: "ready\n"})
	close(logs.feed(0))
	eventually(t, "the first verdict", func() bool { st, _ := m.Result("c1"); return st.Known })
	if st, _ := m.Result("c1"); st.Ready || !strings.Contains(st.Message, "before the stream ended") {
		t.Fatalf("%+v, want a failure saying the stream ended", st)
	}
	eventually(t, "the worker to sleep", func() bool { return clk.Waiters() == 1 })
	clk.Step(2 * time.Second)
	eventually(t, "a second stream", func() bool { open, opens := logs.state(); return open == 1 && opens == 2 })
	logs.push(1, chunk{data: "ready\n"})
	eventually(t, "the probe to wait on its timeout", func() bool { return clk.Waiters() == 1 })
	clk.Step(time.Second)
	eventually(t, "the second verdict", func() bool { st, _ := m.Result("c1"); return st.ConsecutiveFailures == 2 })
	if st, _ := m.Result("c1"); st.Ready || !strings.Contains(st.Message, "1 of 2") {
		t.Fatalf("%+v: the reread line must not count twice", st)
	}
}

// TestLogProbeStreamCap: one stream per container, and the Manager's cap
// holds across containers; a probe over it fails and tries again.
func TestLogProbeStreamCap(t *testing.T) {
	clk := clocktesting.NewFakeClock(time.Unix(1_700_000_000, 0))
	logs := &fakeLogs{}
	m, err := NewManager(context.Background(), Options{Logger: testr.New(t), Logs: logs, Clock: clk, MaxLogStreams: 1})
	if err != nil {
		t.Fatal(err)
	}
	defer m.Stop()
	m.Sync("shop", []Spec{
		{Service: "a", Probe: logSpecProbe("ready", 1), Target: Target{ContainerID: "c1"}, StartedAt: clk.Now()},
		{Service: "b", Probe: logSpecProbe("ready", 1), Target: Target{ContainerID: "c2"}, StartedAt: clk.Now()},
	})
	eventually(t, "one refused", func() bool {
		a, _ := m.Result("c1")
		b, _ := m.Result("c2")
		return strings.Contains(a.Message+b.Message, "too many open streams")
	})
	if open, opens := logs.state(); open != 1 || opens != 1 {
		t.Errorf("%d open, %d opened; want the cap of 1", open, opens)
	}
}

// An endless line (or gigabytes of output) costs the matcher a bounded
// buffer: the heap stays flat, and matching goes on after the line ends.
func TestLogMatcherEndlessLineStaysBounded(t *testing.T) {
	m := newLogMatcher(regexp.MustCompile("ready"), 2)
	w := m.writer()
	chunk := []byte(strings.Repeat("a", 64<<10))
	const total = 256 << 20
	_, alloc0 := heapStats()
	for written := 0; written < total; written += len(chunk) {
		if _, err := w.Write(chunk); err != nil {
			t.Fatal(err)
		}
	}
	inuse1, alloc1 := heapStats()
	if a := alloc1 - alloc0; a > 1<<20 {
		t.Errorf("a %d MiB line allocated %d KiB, want under 1 MiB: the line is not capped", total>>20, a>>10)
	}
	if cap(w.line) > maxLogLine {
		t.Errorf("line buffer of %d bytes, want at most %d", cap(w.line), maxLogLine)
	}
	t.Logf("heap in use %d KiB", inuse1>>10)
	// The endless line ends; its first 16 KiB did not match.
	if _, err := w.Write([]byte("ready at the end of the endless line\nready\n")); err != nil {
		t.Fatal(err)
	}
	if n := m.count(); n != 1 {
		t.Errorf("%d matches, want 1: the cut tail of a long line is skipped, the next line counts", n)
	}
	// A long line whose start matches counts once, not once per cap.
	if _, err := w.Write([]byte("ready" + strings.Repeat("b", 3*maxLogLine) + "\n")); err != errLogSatisfied {
		t.Errorf("second match returned %v, want errLogSatisfied (which ends the stream)", err)
	}
	if n := m.count(); n != 2 {
		t.Errorf("%d matches, want 2", n)
	}
}
