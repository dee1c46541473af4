// Package streamcap caps concurrent long-lived streams (container log
// streams) in total and per key, so that a listener cannot be made to hold
// an unbounded number of open Docker streams, and one container cannot
// take all of them.
package streamcap

import (
	"errors"
	"fmt"
	"sync"
)

// ErrTooMany is what Acquire returns when a cap is reached; errors.Is
// finds it in the error Acquire returns.
var ErrTooMany = errors.New("too many open streams")

// Limiter counts open streams. The zero value is not usable: use New.
type Limiter struct {
	what          string
	total, perKey int

	mu   sync.Mutex
	open int
	keys map[string]int
}

// New returns a Limiter allowing total streams at once, at most perKey of
// them for one key. what names the streams in errors ("dashboard log
// streams").
func New(what string, total, perKey int) *Limiter {
	return &Limiter{what: what, total: total, perKey: perKey, keys: make(map[string]int)}
}

// Acquire takes a slot for key, or refuses with ErrTooMany. release gives
// the slot back; calling it more than once is harmless.
func (l *Limiter) Acquire(key string) (release func(), err error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.keys[key] >= l.perKey {
		return nil, fmt.Errorf("%w: %d %s of %s are open, the most for one", ErrTooMany, l.keys[key], l.what, key)
	}
	if l.open >= l.total {
		return nil, fmt.Errorf("%w: %d %s are open, the most at once", ErrTooMany, l.open, l.what)
	}
	l.open++
	l.keys[key]++
	var once sync.Once
	return func() {
		once.Do(func() {
			l.mu.Lock()
			defer l.mu.Unlock()
			l.open--
			if l.keys[key]--; l.keys[key] <= 0 {
				delete(l.keys, key)
			}
		})
	}, nil
}

// Open is how many streams are open now.
func (l *Limiter) Open() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.open
}
