package buildctx

import (
	"bufio"
	"fmt"
	"io"
	"path"
	"regexp"
	"strings"
)

// ignoreRule is one line of a .dockerignore file.
type ignoreRule struct {
	re *regexp.Regexp
	// exception is a "!pattern" line: it puts back what earlier lines
	// left out.
	exception bool
}

// Ignore is a parsed .dockerignore: the last rule that matches a path
// decides, and a rule that matches a directory matches everything in it,
// as Docker's own matcher does.
type Ignore struct {
	rules         []ignoreRule
	hasExceptions bool
}

// maxIgnoreRules bounds a hostile .dockerignore.
const maxIgnoreRules = 10000

// ParseIgnore reads .dockerignore syntax: one pattern a line, '#' comments,
// '!' exceptions, Go filepath.Match wildcards plus '**' for any number of
// directories.
func ParseIgnore(r io.Reader) (*Ignore, error) {
	ig := &Ignore{}
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64*1024), 64*1024)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		exc := strings.HasPrefix(line, "!")
		if exc {
			line = strings.TrimSpace(line[1:])
		}
		line = path.Clean(strings.TrimPrefix(strings.ReplaceAll(line, "\\", "/"), "/"))
		if line == "." {
			// "." or "/" would leave out the whole context; Docker
			// ignores such a line too.
			continue
		}
		re, err := patternRegexp(line)
		if err != nil {
			return nil, fmt.Errorf(".dockerignore pattern %q: %w", line, err)
		}
		if len(ig.rules) >= maxIgnoreRules {
			return nil, fmt.Errorf(".dockerignore has more than %d patterns", maxIgnoreRules)
		}
		ig.rules = append(ig.rules, ignoreRule{re: re, exception: exc})
		ig.hasExceptions = ig.hasExceptions || exc
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("read .dockerignore: %w", err)
	}
	return ig, nil
}

// patternRegexp translates a pattern into an anchored regexp that also
// matches everything below a matching directory.
func patternRegexp(p string) (*regexp.Regexp, error) {
	var b strings.Builder
	b.WriteString("^")
	for i := 0; i < len(p); i++ {
		c := p[i]
		switch {
		case c == '*' && i+1 < len(p) && p[i+1] == '*':
			i++
			if i+1 < len(p) && p[i+1] == '/' {
				// "**/" is zero or more directories.
				i++
				b.WriteString("(?:.*/)?")
			} else {
				b.WriteString(".*")
			}
		case c == '*':
			b.WriteString("[^/]*")
		case c == '?':
			b.WriteString("[^/]")
		case c == '[':
			j := strings.IndexByte(p[i:], ']')
			if j < 0 {
				return nil, fmt.Errorf("unterminated [")
			}
			class := p[i+1 : i+j]
			if strings.HasPrefix(class, "!") {
				class = "^" + class[1:]
			}
			b.WriteString("[" + class + "]")
			i += j
		case c == '\\' && i+1 < len(p):
			i++
			b.WriteString(regexp.QuoteMeta(string(p[i])))
		default:
			b.WriteString(regexp.QuoteMeta(string(c)))
		}
	}
	b.WriteString("(?:/.*)?$")
	return regexp.Compile(b.String())
}

// Excluded reports whether rel (slash-separated, relative to the context)
// is left out of the context.
func (ig *Ignore) Excluded(rel string) bool {
	if ig == nil {
		return false
	}
	out := false
	for _, r := range ig.rules {
		if r.re.MatchString(rel) {
			out = !r.exception
		}
	}
	return out
}
