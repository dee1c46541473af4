package buildctx

import "sync"

// Tail keeps the last Max bytes written to it: a build's output is kept
// for `berth logs` and the BuildFailed event without a Dockerfile that
// prints forever growing the manager's memory. Safe for concurrent use.
type Tail struct {
	Max int

	mu        sync.Mutex
	buf       []byte
	truncated bool
}

// NewTail returns a Tail of max bytes.
func NewTail(max int) *Tail { return &Tail{Max: max} }

// Write keeps the newest bytes; it never fails.
func (t *Tail) Write(p []byte) (int, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	n := len(p)
	if t.Max <= 0 {
		t.truncated = t.truncated || n > 0
		return n, nil
	}
	if len(p) >= t.Max {
		t.truncated = t.truncated || len(t.buf) > 0 || len(p) > t.Max
		t.buf = append(t.buf[:0], p[len(p)-t.Max:]...)
		return n, nil
	}
	if over := len(t.buf) + len(p) - t.Max; over > 0 {
		// Shift in place: the buffer never holds more than Max bytes.
		copy(t.buf, t.buf[over:])
		t.buf = t.buf[:len(t.buf)-over]
		t.truncated = true
	}
	t.buf = append(t.buf, p...)
	return n, nil
}

// Bytes is a copy of what is kept, and whether older output was dropped.
func (t *Tail) Bytes() (b []byte, truncated bool) {
	t.mu.Lock()
	defer t.mu.Unlock()
	return append([]byte(nil), t.buf...), t.truncated
}

// LastLines is the last n lines kept (for an event message).
func (t *Tail) LastLines(n int) string {
	b, _ := t.Bytes()
	for len(b) > 0 && (b[len(b)-1] == '\n' || b[len(b)-1] == '\r') {
		b = b[:len(b)-1]
	}
	cut := len(b)
	for i := len(b) - 1; i >= 0; i-- {
		if b[i] == '\n' {
			n--
			if n == 0 {
				return string(b[i+1:])
			}
		}
		cut = i
	}
	return string(b[cut:])
}
