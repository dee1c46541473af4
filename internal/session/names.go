package session

import (
	"path/filepath"
	"strings"

	"berth.dev/berth/apis/v1alpha1"
)

// generatedSuffix is the length of the random suffix the API server adds
// to a generateName prefix (Kubernetes' rule, which berth's server keeps).
const generatedSuffix = 5

// NamePrefix turns base (an Environment's name, or a file's name) into a
// generateName prefix: a DNS label short enough that the server's random
// suffix still fits MaxNameLength, ending in '-'. It returns "run-" when
// nothing usable is left.
func NamePrefix(base string) string {
	base = strings.TrimSuffix(filepath.Base(base), filepath.Ext(base))
	var b strings.Builder
	dash := false
	for _, r := range strings.ToLower(base) {
		ok := (r >= 'a' && r <= 'z') || (r >= '0' && r <= '9')
		switch {
		case ok:
			b.WriteRune(r)
			dash = false
		case b.Len() > 0 && !dash:
			b.WriteByte('-')
			dash = true
		}
	}
	s := strings.TrimRight(b.String(), "-")
	limit := v1alpha1.MaxNameLength - generatedSuffix - 1
	if len(s) > limit {
		s = strings.TrimRight(s[:limit], "-")
	}
	if s == "" {
		s = "run"
	}
	return s + "-"
}
