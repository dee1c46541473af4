package probe

import (
	"bytes"
	"errors"
	"regexp"
	"sync"
)

// maxLogLine is the most of one line a log probe keeps to match: the
// start of a longer line is matched, the rest skipped up to its newline,
// so an endless line costs this much memory and no more. Docker itself
// splits log lines at 16 KiB.
const maxLogLine = 16 << 10

// errLogSatisfied ends a log stream once the pattern matched often enough.
var errLogSatisfied = errors.New("log pattern matched")

// logMatcher counts lines of a container's output that match a pattern.
// Its two writers take stdout and stderr, each with a partial line of its
// own; a match on either counts.
type logMatcher struct {
	re   *regexp.Regexp
	want int

	mu      sync.Mutex
	matches int
}

func newLogMatcher(re *regexp.Regexp, want int) *logMatcher {
	return &logMatcher{re: re, want: max(want, 1)}
}

// count is how many lines have matched so far.
func (m *logMatcher) count() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.matches
}

func (m *logMatcher) satisfied() bool { return m.count() >= m.want }

// writer is one stream's line splitter.
func (m *logMatcher) writer() *lineWriter { return &lineWriter{m: m} }

// match counts line if it matches; errLogSatisfied once enough have.
func (m *logMatcher) match(line []byte) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.matches >= m.want {
		return errLogSatisfied
	}
	if m.re.Match(line) {
		m.matches++
	}
	if m.matches >= m.want {
		return errLogSatisfied
	}
	return nil
}

// lineWriter splits what it is given into lines, keeping at most
// maxLogLine bytes of the current one.
type lineWriter struct {
	m    *logMatcher
	line []byte
	// skipping: the current line passed maxLogLine and was matched
	// already; the rest of it up to the newline is dropped.
	skipping bool
}

func (w *lineWriter) Write(p []byte) (int, error) {
	n := len(p)
	for len(p) > 0 {
		i := bytes.IndexByte(p, '\n')
		chunk := p
		if i >= 0 {
			chunk = p[:i]
		}
		if !w.skipping {
			room := maxLogLine - len(w.line)
			w.line = append(w.line, chunk[:min(len(chunk), room)]...)
			if len(chunk) >= room && i < 0 {
				// The line is full and goes on: match what fits now,
				// skip the rest.
				err := w.m.match(bytes.TrimSuffix(w.line, []byte("\r")))
				w.line, w.skipping = w.line[:0], true
				if err != nil {
					return n, err
				}
			}
		}
		if i < 0 {
			return n, nil
		}
		p = p[i+1:]
		if w.skipping {
			w.skipping = false
			w.line = w.line[:0]
			continue
		}
		err := w.m.match(bytes.TrimSuffix(w.line, []byte("\r")))
		w.line = w.line[:0]
		if err != nil {
			return n, err
		}
	}
	return n, nil
}
