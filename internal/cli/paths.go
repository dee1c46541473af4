package cli

import (
	"fmt"
	"path/filepath"
	"strings"
)

// hostPathFields are the fields of an Environment that name a path on the
// manager's host. The server takes absolute paths only (kubectl sends the
// file as written); `berth apply -f FILE` resolves relative ones against
// FILE's directory first, the way compose resolves build contexts. Each
// entry is a path of object keys, where "[]" walks every element of a list.
var hostPathFields = [][]string{
	{"spec", "services", "[]", "build", "context"},
	{"spec", "files", "[]", "path"},
	{"spec", "secrets", "[]", "path"},
	{"spec", "volumes", "[]", "hostPath", "path"},
}

// ResolvePaths makes the relative host paths of obj absolute against
// baseDir, in place, and reports whether anything changed. obj is a
// decoded manifest (an Environment, or a List of them); other kinds are
// left alone. It works on the unstructured map so that it covers fields
// whatever version of the types this CLI was built with.
func ResolvePaths(obj map[string]any, baseDir string) (bool, error) {
	if obj == nil {
		return false, nil
	}
	if items, ok := obj["items"].([]any); ok && strings.HasSuffix(fmt.Sprint(obj["kind"]), "List") {
		changed := false
		for _, it := range items {
			m, ok := it.(map[string]any)
			if !ok {
				continue
			}
			c, err := ResolvePaths(m, baseDir)
			if err != nil {
				return changed, err
			}
			changed = changed || c
		}
		return changed, nil
	}
	if obj["kind"] != "Environment" || !strings.HasPrefix(fmt.Sprint(obj["apiVersion"]), "berth.dev/") {
		return false, nil
	}
	if !filepath.IsAbs(baseDir) {
		abs, err := filepath.Abs(baseDir)
		if err != nil {
			return false, fmt.Errorf("resolve %s: %w", baseDir, err)
		}
		baseDir = abs
	}
	changed := false
	for _, f := range hostPathFields {
		resolveAt(obj, f, func(v string) string {
			if v == "" || filepath.IsAbs(v) {
				return v
			}
			changed = true
			return filepath.Join(baseDir, v)
		})
	}
	return changed, nil
}

// resolveAt applies fn to the string at keys below v, if there is one.
func resolveAt(v any, keys []string, fn func(string) string) {
	if len(keys) == 0 {
		return
	}
	if keys[0] == "[]" {
		list, _ := v.([]any)
		for _, el := range list {
			resolveAt(el, keys[1:], fn)
		}
		return
	}
	m, ok := v.(map[string]any)
	if !ok {
		return
	}
	if len(keys) == 1 {
		if s, ok := m[keys[0]].(string); ok {
			m[keys[0]] = fn(s)
		}
		return
	}
	resolveAt(m[keys[0]], keys[1:], fn)
}
