package compose

import (
	"fmt"
	"slices"
	"strings"

	"github.com/compose-spec/compose-go/v2/loader"
)

// Refusal is one compose attribute berth does not support.
type Refusal struct {
	// Path locates the attribute, e.g. services.web.network_mode
	// (services.web.ports[].mode for every item of a list).
	Path   string
	Reason string
}

func (r Refusal) String() string { return r.Path + ": not supported: " + r.Reason }

// RefusedError lists every attribute of a project that berth refused, in
// path order; Load returns it instead of a partial Environment.
type RefusedError struct {
	Files    []string
	Refusals []Refusal
}

func (e *RefusedError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s: %d compose attribute(s) not supported", strings.Join(e.Files, ", "), len(e.Refusals))
	for _, r := range e.Refusals {
		b.WriteString("\n  ")
		b.WriteString(r.String())
	}
	return b.String()
}

// unlistedReason is what an attribute the table does not know is refused
// with: one a newer compose-go added since the table was written.
const unlistedReason = "berth does not map this attribute (it has no row in berth's compose table)"

// refusals collects refusals while a project is mapped, and the warnings
// of what maps but not as compose does it.
type refusals struct {
	list     []Refusal
	warnings []string
}

// warn records a warning; Load prints it, as compose-go prints its own
// (warning: …), once the project has converted.
func (r *refusals) warn(format string, args ...any) {
	r.warnings = append(r.warnings, fmt.Sprintf(format, args...))
}

func (r *refusals) add(path, format string, args ...any) {
	r.list = append(r.list, Refusal{Path: path, Reason: fmt.Sprintf(format, args...)})
}

// addFinding records an attribute compose-go's screening reported,
// with the reason from the table.
func (r *refusals) addFinding(f loader.UnsupportedAttribute) {
	p := string(f.Path)
	reason := unlistedReason
	if row, ok := RowFor(p); ok && row.Kind == Refused {
		reason = row.Note
	}
	r.list = append(r.list, Refusal{Path: displayPath(p), Reason: reason})
}

// sorted returns the refusals in path order without duplicates (a list
// attribute found in several items is reported once).
func (r *refusals) sorted() []Refusal {
	out := slices.Clone(r.list)
	slices.SortStableFunc(out, func(a, b Refusal) int { return strings.Compare(a.Path, b.Path) })
	return slices.CompactFunc(out, func(a, b Refusal) bool { return a == b })
}

// displayPath writes compose-go's list marker the way users read paths:
// services.web.ports.[].mode → services.web.ports[].mode.
func displayPath(p string) string { return strings.ReplaceAll(p, ".[]", "[]") }
