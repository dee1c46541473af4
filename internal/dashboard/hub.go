package dashboard

import "sync"

// hub fans Environment changes out to open pages. A page does not get the
// objects themselves: it gets the names that changed since it last looked,
// and renders them from the lister when it is ready to write. Many changes
// to one Environment between two writes collapse into one, so a slow
// browser never makes the informer wait and never receives stale rows.
type hub struct {
	mu   sync.Mutex
	subs map[*subscriber]struct{}
}

// subscriber is one open event stream. env limits it to one Environment;
// "" means every Environment (the overview).
type subscriber struct {
	env  string
	wake chan struct{}

	mu    sync.Mutex
	dirty map[string]struct{}
}

func newHub() *hub { return &hub{subs: map[*subscriber]struct{}{}} }

func (h *hub) subscribe(env string) *subscriber {
	s := &subscriber{env: env, wake: make(chan struct{}, 1), dirty: map[string]struct{}{}}
	h.mu.Lock()
	h.subs[s] = struct{}{}
	h.mu.Unlock()
	return s
}

func (h *hub) unsubscribe(s *subscriber) {
	h.mu.Lock()
	delete(h.subs, s)
	h.mu.Unlock()
}

// changed marks name dirty for every page that shows it. It never blocks:
// it runs on the informer's goroutine.
func (h *hub) changed(name string) {
	if name == "" {
		return
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	for s := range h.subs {
		if s.env != "" && s.env != name {
			continue
		}
		s.mu.Lock()
		s.dirty[name] = struct{}{}
		s.mu.Unlock()
		select {
		case s.wake <- struct{}{}:
		default:
		}
	}
}

// subscribers counts open streams (for tests and logs).
func (h *hub) subscribers() int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return len(h.subs)
}

// take returns the names changed since the last take and clears them.
func (s *subscriber) take() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]string, 0, len(s.dirty))
	for n := range s.dirty {
		out = append(out, n)
	}
	clear(s.dirty)
	return out
}
