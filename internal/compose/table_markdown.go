package compose

import (
	"bytes"
	"errors"
	"fmt"
	"strings"
)

// Markers delimit README.md's generated compose table.
const (
	TableBegin = "<!-- BEGIN compose-table: generated from internal/compose/table.go by `make compose-table`; do not edit -->"
	TableEnd   = "<!-- END compose-table -->"
)

// Markdown renders Table as the README's table: one line per row, in the
// table's order.
func Markdown() string {
	var b strings.Builder
	b.WriteString("| Compose attribute | Becomes | How, or why not |\n|---|---|---|\n")
	for _, r := range Table {
		var becomes string
		switch r.Kind {
		case Mapped:
			becomes = "`" + r.Field + "`"
			if strings.HasPrefix(r.Field, "(") {
				becomes = r.Field
			}
		case Ignored:
			becomes = "ignored"
		case Refused:
			becomes = "**refused**"
		}
		fmt.Fprintf(&b, "| `%s` | %s | %s |\n", displayPath(r.Path), becomes, escapeCell(r.Note))
	}
	return b.String()
}

func escapeCell(s string) string { return strings.ReplaceAll(s, "|", `\|`) }

// ReplaceSection returns readme with the text between TableBegin and
// TableEnd replaced by the table.
func ReplaceSection(readme []byte) ([]byte, error) {
	begin := bytes.Index(readme, []byte(TableBegin))
	end := bytes.Index(readme, []byte(TableEnd))
	if begin < 0 || end < begin {
		return nil, errors.New("README.md has no compose table markers (" + TableBegin + " … " + TableEnd + ")")
	}
	var out bytes.Buffer
	out.Write(readme[:begin+len(TableBegin)])
	out.WriteString("\n\n")
	out.WriteString(Markdown())
	out.WriteString("\n")
	out.Write(readme[end:])
	return out.Bytes(), nil
}
