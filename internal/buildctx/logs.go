package buildctx

import "sync"

// DefaultLogBytes is how much of each build's output is kept per service.
const DefaultLogBytes = 64 << 10

// LogStore keeps the output of the last build of each service, bounded
// per build, for `berth logs` before (or without) a container. The number
// of entries is bounded by the services of the Environments that exist:
// an Environment's entries go with it.
type LogStore struct {
	max int
	mu  sync.Mutex
	by  map[string]map[string]*Tail // env → service → output
}

// NewLogStore keeps up to perBuild bytes of each build (DefaultLogBytes
// when perBuild <= 0).
func NewLogStore(perBuild int) *LogStore {
	if perBuild <= 0 {
		perBuild = DefaultLogBytes
	}
	return &LogStore{max: perBuild, by: map[string]map[string]*Tail{}}
}

// Start begins a new build's output for env/service, replacing the last.
func (s *LogStore) Start(env, service string) *Tail {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.by[env] == nil {
		s.by[env] = map[string]*Tail{}
	}
	t := NewTail(s.max)
	s.by[env][service] = t
	return t
}

// Get is the last build's output of env/service.
func (s *LogStore) Get(env, service string) ([]byte, bool) {
	s.mu.Lock()
	t := s.by[env][service]
	s.mu.Unlock()
	if t == nil {
		return nil, false
	}
	b, _ := t.Bytes()
	return b, true
}

// Forget drops env's build output (the Environment is gone).
func (s *LogStore) Forget(env string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.by, env)
}
