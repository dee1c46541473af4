package cli

import (
	"fmt"
	"io"
	"os"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"golang.org/x/term"

	"berth.dev/berth/internal/session"
)

// progressPrinter shows an Environment converging. On a terminal it keeps
// one live line, rewritten in place (with the elapsed time ticking); in a
// log (CI, a pipe) it writes a plain line each time what it waits on
// changes, so a log shows the story without a line per second.
type progressPrinter struct {
	// mu serialises the ticker, the watch and berth's messages, which
	// all write the one line.
	mu    sync.Mutex
	w     io.Writer
	live  bool
	width int // terminal columns; 0 = unknown
	start time.Time
	now   func() time.Time

	last  string // last progress text (without the elapsed time)
	drawn bool   // a live line is on screen
}

// newProgressPrinter writes to w, live when w is a terminal.
func newProgressPrinter(w io.Writer) *progressPrinter {
	p := &progressPrinter{w: w, now: time.Now}
	if f, ok := w.(*os.File); ok && term.IsTerminal(int(f.Fd())) {
		p.live = true
		if cols, _, err := term.GetSize(int(f.Fd())); err == nil {
			p.width = cols
		}
	}
	p.start = p.now()
	return p
}

// restart counts the elapsed time from now.
func (p *progressPrinter) restart() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.start = p.now()
}

func (p *progressPrinter) elapsed() string {
	return p.now().Sub(p.start).Round(100 * time.Millisecond).String()
}

// Update shows pr.
func (p *progressPrinter) Update(pr session.Progress) {
	p.mu.Lock()
	defer p.mu.Unlock()
	text := pr.String()
	if !p.live {
		if text == p.last {
			return
		}
		p.last = text
		fmt.Fprintf(p.w, "berth: %s: %s [%s]\n", pr.Name, text, p.elapsed())
		return
	}
	p.last = pr.Name + ": " + text
	p.draw()
}

// Tick redraws the live line so its elapsed time moves while nothing
// else does; it does nothing in a log.
func (p *progressPrinter) Tick() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.live && p.last != "" {
		p.draw()
	}
}

func (p *progressPrinter) draw() {
	line := fmt.Sprintf("berth: %s [%s]", p.last, p.elapsed())
	if p.width > 1 && utf8.RuneCountInString(line) >= p.width {
		// One row only, or \r would leave the wrapped part behind.
		r := []rune(line)
		line = string(r[:p.width-2]) + "…"
	}
	// \r back to column 0, then clear to the end of the line.
	fmt.Fprintf(p.w, "\r\x1b[K%s", line)
	p.drawn = true
}

// Println ends a live line (if one is drawn) and writes a message line.
func (p *progressPrinter) Println(format string, args ...any) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.clear()
	msg := fmt.Sprintf(format, args...)
	if !strings.HasSuffix(msg, "\n") {
		msg += "\n"
	}
	fmt.Fprint(p.w, msg)
}

// Finish leaves the last live line on screen and moves below it.
func (p *progressPrinter) Finish() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.live && p.drawn {
		fmt.Fprintln(p.w)
		p.drawn = false
	}
}

// clear wipes a live line so a message does not get glued to it.
func (p *progressPrinter) clear() {
	if p.live && p.drawn {
		fmt.Fprint(p.w, "\r\x1b[K")
		p.drawn = false
	}
}
