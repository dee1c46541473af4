package dashboard

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"time"
)

// Event streams. Each starts with a full snapshot (so a reconnect after a
// dropped connection misses nothing), then sends only what changed, at
// most every coalesce interval. A heartbeat comment keeps idle streams
// open through proxies and finds closed ones.
const (
	coalesce  = 150 * time.Millisecond
	heartbeat = 25 * time.Second
)

// rowEvent is one overview row, or its removal when HTML is empty.
type rowEvent struct {
	Name string `json:"name"`
	HTML string `json:"html,omitempty"`
}

func (s *Server) overviewEvents(w http.ResponseWriter, r *http.Request) {
	s.synced(r.Context())
	sub := s.hub.subscribe("")
	defer s.hub.unsubscribe(sub)
	stream, err := startSSE(w)
	if err != nil {
		return
	}
	// The snapshot: every row, so the page replaces what it rendered.
	var names []string
	for _, e := range s.listEnvs() {
		names = append(names, e.Name)
	}
	if s.sendRows(stream, names, true) != nil {
		return
	}
	s.streamLoop(r.Context(), stream, sub, func(changed []string) error {
		return s.sendRows(stream, changed, false)
	})
}

// sendRows sends the rows of names (a reset replaces the whole table),
// then the phase counts.
func (s *Server) sendRows(stream *sseStream, names []string, reset bool) error {
	slices.Sort(names)
	rows := make([]rowEvent, 0, len(names))
	for _, n := range names {
		ev := rowEvent{Name: n}
		if env, ok := s.getEnv(n); ok {
			html, err := s.pages.render("overview", "row", rowOf(s.display(env)))
			if err != nil {
				s.log.Error(err, "render overview row", "environment", n)
				continue
			}
			ev.HTML = html
		}
		rows = append(rows, ev)
	}
	data, err := marshal(map[string]any{"reset": reset, "rows": rows})
	if err != nil {
		return err
	}
	if err := stream.send("rows", data); err != nil {
		return err
	}
	summary, err := s.pages.render("overview", "summary", countPhases(s.listEnvs()))
	if err != nil {
		return err
	}
	return stream.send("summary", summary)
}

func (s *Server) envEvents(w http.ResponseWriter, r *http.Request) {
	name := r.PathValue("name")
	s.synced(r.Context())
	sub := s.hub.subscribe(name)
	defer s.hub.unsubscribe(sub)
	stream, err := startSSE(w)
	if err != nil {
		return
	}
	if s.sendEnv(stream, name) != nil {
		return
	}
	s.streamLoop(r.Context(), stream, sub, func([]string) error { return s.sendEnv(stream, name) })
}

// sendEnv sends the Environment page's live parts by element id, or
// "gone" once the Environment no longer exists.
func (s *Server) sendEnv(stream *sseStream, name string) error {
	env, ok := s.getEnv(name)
	if !ok {
		return stream.send("gone", name)
	}
	v := s.envView(env)
	parts := map[string]string{}
	for id, tmpl := range map[string]string{
		"env-head": "envHead", "env-services": "envServices", "env-conditions": "envConditions", "env-events": "envEvents",
	} {
		html, err := s.pages.render("env", tmpl, v)
		if err != nil {
			s.log.Error(err, "render environment part", "environment", name, "part", tmpl)
			continue
		}
		parts[id] = html
	}
	data, err := marshal(map[string]any{"parts": parts, "text": map[string]string{"env-spec": v.Spec}})
	if err != nil {
		return err
	}
	return stream.send("env", data)
}

// streamLoop waits for changes for sub and hands them to send, until the
// browser leaves or the dashboard stops.
func (s *Server) streamLoop(ctx context.Context, stream *sseStream, sub *subscriber, send func(changed []string) error) {
	beat := time.NewTicker(heartbeat)
	defer beat.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-s.done:
			return
		case <-beat.C:
			if stream.heartbeat() != nil {
				return
			}
		case <-sub.wake:
			// Let a burst of updates (a reconcile writes status a few
			// times in a row) land before rendering once.
			select {
			case <-time.After(coalesce):
			case <-ctx.Done():
				return
			}
			if changed := sub.take(); len(changed) > 0 {
				if send(changed) != nil {
					return
				}
			}
		}
	}
}

func (s *Server) engineEvents(w http.ResponseWriter, r *http.Request) {
	stream, err := startSSE(w)
	if err != nil {
		return
	}
	// A sample every couple of seconds doubles as the heartbeat.
	for {
		_, next := s.sampler.snapshot()
		if s.sendEngine(stream) != nil {
			return
		}
		select {
		case <-r.Context().Done():
			return
		case <-s.done:
			return
		case <-next:
		}
	}
}

func (s *Server) sendEngine(stream *sseStream) error {
	live := s.engineLive()
	parts := map[string]string{}
	for id, tmpl := range map[string]string{"engine-live": "engineLive", "engine-restarts": "engineRestarts"} {
		html, err := s.pages.render("engine", tmpl, live)
		if err != nil {
			return err
		}
		parts[id] = html
	}
	data, err := marshal(map[string]any{"parts": parts})
	if err != nil {
		return err
	}
	return stream.send("engine", data)
}

// marshal is JSON without HTML escaping: the payloads are HTML that the
// page inserts as such, and \u003c for every < would only add bytes.
func marshal(v any) (string, error) {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return "", fmt.Errorf("encode event: %w", err)
	}
	return strings.TrimSuffix(b.String(), "\n"), nil
}
