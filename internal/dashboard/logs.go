package dashboard

import (
	"bytes"
	"context"
	"net/http"
	"strconv"
	"strings"
	"sync"

	"berth.dev/berth/internal/docker"
)

// Log stream limits: the tail a page may ask for, and the longest partial
// line held back waiting for its newline.
const (
	maxTail    = 10000
	maxPending = 16 << 10
)

// logs streams one service's container output as server-sent events
// ("out" and "err" carry lines, "end" says why the stream stopped),
// through the Docker layer's governed Logs call. The stream lives exactly
// as long as the browser's request: closing the pane or the page ends it.
func (s *Server) logs(w http.ResponseWriter, r *http.Request) {
	name, service := r.PathValue("name"), r.PathValue("service")
	q := r.URL.Query()
	opts := docker.LogOptions{Follow: q.Get("follow") != "0", Tail: 200}
	if t, err := strconv.Atoi(q.Get("tail")); err == nil {
		opts.Tail = min(max(t, 0), maxTail)
	}
	id := s.containerOf(name, service)

	stream, err := startSSE(w)
	if err != nil {
		return
	}
	if id == "" {
		_ = stream.send("end", "no container for "+service+" yet")
		return
	}
	_ = stream.send("meta", shortID(id))

	ctx, cancel := context.WithCancel(r.Context())
	defer cancel()
	go func() {
		select {
		case <-s.done:
			cancel()
		case <-ctx.Done():
		}
	}()
	var mu sync.Mutex // Docker demultiplexes on one goroutine; this is belt and braces
	out := &lineSender{stream: stream, event: "out", mu: &mu}
	errw := &lineSender{stream: stream, event: "err", mu: &mu}
	err = s.opts.Docker.Logs(ctx, id, opts, out, errw)
	out.flush()
	errw.flush()
	switch {
	case ctx.Err() != nil:
		return
	case err != nil:
		s.log.V(1).Info("log stream ended", "environment", name, "service", service, "error", err.Error())
		_ = stream.send("end", "log stream ended: "+err.Error())
	case opts.Follow:
		_ = stream.send("end", "container "+shortID(id)+" stopped or was replaced")
	default:
		_ = stream.send("end", "end of log")
	}
}

// containerOf finds the service's current container: the Docker cache's
// (a running one first, else the newest), else the one status names.
func (s *Server) containerOf(env, service string) string {
	var best *docker.Container
	for _, c := range s.opts.Cache.Containers(env) {
		if c.Service != service {
			continue
		}
		switch {
		case best == nil,
			c.Running() && !best.Running(),
			c.Running() == best.Running() && c.CreatedAt.After(best.CreatedAt):
			best = &c
		}
	}
	if best != nil {
		return best.ID
	}
	if e, ok := s.getEnv(env); ok {
		for _, st := range e.Status.Services {
			if st.Name == service {
				return st.ContainerID
			}
		}
	}
	return ""
}

// lineSender turns a container's output into events of whole lines,
// holding a partial last line until its newline arrives (or it grows too
// long to hold).
type lineSender struct {
	stream  *sseStream
	event   string
	mu      *sync.Mutex
	pending []byte
}

func (l *lineSender) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.pending = append(l.pending, p...)
	cut := bytes.LastIndexByte(l.pending, '\n')
	if cut < 0 {
		if len(l.pending) < maxPending {
			return len(p), nil
		}
		cut = len(l.pending)
	}
	chunk := l.pending[:cut]
	rest := l.pending[min(cut+1, len(l.pending)):]
	if err := l.stream.send(l.event, clean(chunk)); err != nil {
		return 0, err
	}
	l.pending = append(l.pending[:0], rest...)
	return len(p), nil
}

func (l *lineSender) flush() {
	l.mu.Lock()
	defer l.mu.Unlock()
	if len(l.pending) > 0 {
		_ = l.stream.send(l.event, clean(l.pending))
		l.pending = l.pending[:0]
	}
}

// clean makes output safe for an event stream: valid UTF-8, no carriage
// returns (an event's data ends at a bare CR too).
func clean(b []byte) string {
	return strings.ReplaceAll(strings.ToValidUTF8(string(b), "\uFFFD"), "\r", "")
}
