package dashboard

import (
	"fmt"
	"net/http"
	"strings"
	"sync"
)

// sseStream writes server-sent events. Writes are serialised, so a log
// stream's stdout and stderr and a heartbeat can share one.
type sseStream struct {
	mu sync.Mutex
	w  http.ResponseWriter
	rc *http.ResponseController
}

// startSSE sends the event-stream headers and a retry hint: EventSource
// reconnects on its own after that many milliseconds, and every stream
// starts with a full snapshot, so a reconnect loses nothing.
func startSSE(w http.ResponseWriter) (*sseStream, error) {
	h := w.Header()
	h.Set("Content-Type", "text/event-stream; charset=utf-8")
	h.Set("Cache-Control", "no-cache")
	h.Set("X-Accel-Buffering", "no")
	w.WriteHeader(http.StatusOK)
	s := &sseStream{w: w, rc: http.NewResponseController(w)}
	if _, err := fmt.Fprint(w, "retry: 2000\n\n"); err != nil {
		return nil, fmt.Errorf("start event stream: %w", err)
	}
	return s, s.flush()
}

// send writes one event; data may span lines (each becomes a data: line,
// and the browser joins them with newlines again).
func (s *sseStream) send(event, data string) error {
	var b strings.Builder
	if event != "" {
		b.WriteString("event: ")
		b.WriteString(event)
		b.WriteByte('\n')
	}
	for line := range strings.SplitSeq(data, "\n") {
		b.WriteString("data: ")
		b.WriteString(strings.TrimSuffix(line, "\r"))
		b.WriteByte('\n')
	}
	b.WriteByte('\n')
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, err := s.w.Write([]byte(b.String())); err != nil {
		return fmt.Errorf("write event %s: %w", event, err)
	}
	return s.flushLocked()
}

// heartbeat is a comment line: it keeps proxies from closing an idle
// stream and lets a dead connection surface as a write error.
func (s *sseStream) heartbeat() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, err := s.w.Write([]byte(": ping\n\n")); err != nil {
		return fmt.Errorf("write heartbeat: %w", err)
	}
	return s.flushLocked()
}

func (s *sseStream) flush() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.flushLocked()
}

func (s *sseStream) flushLocked() error {
	if err := s.rc.Flush(); err != nil {
		return fmt.Errorf("flush event stream: %w", err)
	}
	return nil
}

// defaultPageStreams is how many live page streams may be open at once: a
// browser keeps one per open tab, so this is many tabs, and a client that
// opens streams without end meets a 429 instead of growing the manager.
const defaultPageStreams = 64

// pageStream admits h, a live page stream, only while fewer than the cap
// are open; the slot is held for the life of the request.
func (s *Server) pageStream(h http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		release, err := s.pageStreams.Acquire("pages")
		if err != nil {
			w.Header().Set("Retry-After", "5")
			http.Error(w, "page stream refused: "+err.Error(), http.StatusTooManyRequests)
			return
		}
		defer release()
		h(w, r)
	}
}
