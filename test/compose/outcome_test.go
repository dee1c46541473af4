package compose

import (
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
)

// expectedText is what expected.txt holds for r: "converts N services
// (environment NAME): names" plus a line per admission need, or "refuses" and the refusal
// lines exactly as convert printed them (the corpus path normalized).
func expectedText(r result) string {
	var b strings.Builder
	if r.env == nil {
		b.WriteString("refuses\n")
		for _, f := range r.refusals {
			b.WriteString(f.line() + "\n")
		}
		return b.String()
	}
	names := make([]string, 0, len(r.env.Spec.Services))
	for _, s := range r.env.Spec.Services {
		names = append(names, s.Name)
	}
	slices.Sort(names)
	fmt.Fprintf(&b, "converts %d services (environment %s): %s\n", len(names), r.env.Name, strings.Join(names, ", "))
	for _, n := range r.needs {
		fmt.Fprintf(&b, "needs %s\n", n)
	}
	return b.String()
}

// checkExpected compares r with the project's expected.txt, or rewrites
// the file under -update.
func checkExpected(t *testing.T, p project, r result) {
	t.Helper()
	path := filepath.Join(p.dir, expectedFile)
	got := expectedText(r)
	if *update {
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run with -update to write it, then review it)", err)
	}
	if string(want) != got {
		t.Errorf("berth convert's outcome changed for %s (if the change is meant, run with -update and commit the file)\n--- %s\n%s--- now\n%s",
			p.name, path, want, got)
	}
}

// refusalLine is a refusal with a field path: "services.web.network_mode:
// not supported: ...". The path is dotted compose keys with optional
// [index] parts; a line without one (a heading) keeps path "".
var refusalLine = regexp.MustCompile(`^([A-Za-z0-9_-]+(?:\.[A-Za-z0-9_.-]+|\[[^\]]*\])+): (.+)$`)

// parseRefusals splits a refusal into its lines, dropping the bullets a
// list may carry.
func parseRefusals(msg string) []refusal {
	var out []refusal
	for _, line := range strings.Split(msg, "\n") {
		line = strings.TrimSpace(line)
		line = strings.TrimSpace(strings.TrimLeft(line, "*-•"))
		if line == "" {
			continue
		}
		if m := refusalLine.FindStringSubmatch(line); m != nil {
			out = append(out, refusal{path: m[1], reason: m[2]})
			continue
		}
		out = append(out, refusal{reason: line})
	}
	return out
}

func (f refusal) line() string {
	if f.path == "" {
		return f.reason
	}
	return f.path + ": " + f.reason
}

// topLevelMaps are the compose keys whose second path element is a name
// the project chose; namedUnder are the service keys whose next element
// is one. The report replaces those names with * and list indexes with
// [] to group the same field across services and projects.
var (
	topLevelMaps = []string{"services", "networks", "volumes", "secrets", "configs"}
	namedUnder   = []string{"depends_on", "networks"}
	listIndex    = regexp.MustCompile(`\[\d+\]`)
)

// field is the refusal's path with the project's own names replaced:
// services.homeassistant.network_mode -> services.*.network_mode,
// services.app.depends_on.db.restart -> services.*.depends_on.*.restart,
// services.rails.tmpfs[0] -> services.*.tmpfs[].
func (f refusal) field() string {
	parts := strings.Split(listIndex.ReplaceAllString(f.path, "[]"), ".")
	if len(parts) >= 2 && slices.Contains(topLevelMaps, parts[0]) {
		parts[1] = "*"
		if parts[0] == "services" && len(parts) >= 4 && slices.Contains(namedUnder, parts[2]) {
			parts[3] = "*"
		}
	}
	return strings.Join(parts, ".")
}

// report is the corpus's summary: the share of projects that convert,
// every refused field with its reason and the projects that have it, and
// what admission needs for the ones that convert. Markdown, so it goes
// into a closing note as it is.
func report(results []result) string {
	var b strings.Builder
	var converted, refused []string
	services := 0
	for _, r := range results {
		if r.env != nil {
			converted = append(converted, r.project)
			services += len(r.env.Spec.Services)
		} else {
			refused = append(refused, r.project)
		}
	}
	share := 0.0
	if len(results) > 0 {
		share = 100 * float64(len(converted)) / float64(len(results))
	}
	fmt.Fprintf(&b, "compose corpus: %d of %d projects convert (%.0f%%), %d services in them\n",
		len(converted), len(results), share, services)
	fmt.Fprintf(&b, "converts: %s\n", strings.Join(converted, ", "))
	fmt.Fprintf(&b, "refused:  %s\n\n", strings.Join(refused, ", "))

	type key struct{ field, reason string }
	projects := map[key][]string{}
	var keys []key
	// sole counts the projects a field alone keeps from converting: the
	// ones that would convert if berth mapped that field.
	sole := map[string][]string{}
	for _, r := range results {
		var fields []string
		for _, f := range r.refusals {
			if f.path == "" {
				continue // the heading ("N compose attribute(s) not supported")
			}
			if !slices.Contains(fields, f.field()) {
				fields = append(fields, f.field())
			}
			k := key{f.field(), f.reason}
			if _, ok := projects[k]; !ok {
				keys = append(keys, k)
			}
			if !slices.Contains(projects[k], r.project) {
				projects[k] = append(projects[k], r.project)
			}
		}
		if len(fields) == 1 {
			sole[fields[0]] = append(sole[fields[0]], r.project)
		}
	}
	slices.SortFunc(keys, func(a, b key) int {
		return strings.Compare(a.field+"\x00"+a.reason, b.field+"\x00"+b.reason)
	})
	b.WriteString("| refused field | reason | projects |\n|---|---|---|\n")
	for _, k := range keys {
		fmt.Fprintf(&b, "| `%s` | %s | %s |\n", k.field, cell(k.reason), strings.Join(projects[k], ", "))
	}

	b.WriteString("\n| the only refused field of | projects |\n|---|---|\n")
	soleFields := slices.Sorted(maps.Keys(sole))
	slices.SortStableFunc(soleFields, func(a, b string) int { return len(sole[b]) - len(sole[a]) })
	for _, f := range soleFields {
		fmt.Fprintf(&b, "| `%s` | %d: %s |\n", f, len(sole[f]), strings.Join(sole[f], ", "))
	}

	b.WriteString("\n| converts, but admission needs | projects |\n|---|---|\n")
	needs := map[string][]string{}
	var needKeys []string
	for _, r := range results {
		for _, n := range r.needs {
			if _, ok := needs[n]; !ok {
				needKeys = append(needKeys, n)
			}
			needs[n] = append(needs[n], r.project)
		}
	}
	slices.Sort(needKeys)
	for _, n := range needKeys {
		fmt.Fprintf(&b, "| %s | %s |\n", cell(n), strings.Join(needs[n], ", "))
	}
	return b.String()
}

// cell keeps a table cell on one row.
func cell(s string) string {
	return strings.ReplaceAll(s, "|", `\|`)
}
