package dashboard

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"sync"

	"berth.dev/berth/internal/docker"
)

// Log stream limits: the tail a page gets unless it asks, the most it may
// ask for, the open streams allowed (in total and per container), and the
// longest partial line held back waiting for its newline.
const (
	defaultTail             = 100
	maxTail                 = docker.MaxLogTail
	defaultLogStreams       = 32
	defaultLogStreamsPerCtr = 4
	maxPending              = 16 << 10
)

// parseTail reads the tail parameter: absent is defaultTail, 0 is no old
// lines (with follow, only new ones); anything else outside 0..maxTail is
// an error, never "everything".
func parseTail(v string) (int, error) {
	if v == "" {
		return defaultTail, nil
	}
	t, err := strconv.Atoi(v)
	if err != nil || t < 0 || t > maxTail {
		return 0, fmt.Errorf("tail: invalid value %q: must be a whole number from 0 to %d", v, maxTail)
	}
	return t, nil
}

// logs streams one service's container output as server-sent events
// ("out" and "err" carry lines, "end" says why the stream stopped),
// through the Docker layer's governed Logs call, which refuses a container
// this manager does not own (a status can name any container). The stream
// lives exactly as long as the browser's request: closing the pane or the
// page ends it.
func (s *Server) logs(w http.ResponseWriter, r *http.Request) {
	name, service := r.PathValue("name"), r.PathValue("service")
	q := r.URL.Query()
	tail, err := parseTail(q.Get("tail"))
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	opts := docker.LogOptions{Follow: q.Get("follow") != "0", Tail: tail}
	id := s.containerOf(name, service)
	var release func()
	if id != "" {
		if release, err = s.logStreams.Acquire(shortID(id)); err != nil {
			http.Error(w, "log stream refused: "+err.Error(), http.StatusTooManyRequests)
			return
		}
		defer release()
	}

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
	case docker.IsNotOwned(err):
		s.log.Info("refused a log stream of a container berth does not own", "environment", name, "service", service, "container", shortID(id))
		_ = stream.send("end", "refused: container "+shortID(id)+" is not managed by this berth manager")
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
// (a running one first, else the newest), else the one status names. The
// status is only a hint (anyone who may write status can set it); the
// Docker layer checks ownership before streaming.
func (s *Server) containerOf(env, service string) string {
	env = s.containerEnv(env)
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
