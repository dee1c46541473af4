// Package dnsname turns free-form strings (host names, compose volume hints)
// into parts of the names and label values Kubernetes and Docker accept:
// lower-case letters, digits and inner dashes, bounded in length.
package dnsname

import "strings"

// Part is s lower-cased, with anything but letters and digits turned into
// '-', the dashes at either end trimmed, and cut to at most max bytes (the
// cut's trailing dashes trimmed too). It is "" when nothing of s is left;
// callers that need a non-empty name choose their own fallback.
func Part(s string, max int) string {
	var b strings.Builder
	for _, r := range strings.ToLower(s) {
		if (r >= 'a' && r <= 'z') || (r >= '0' && r <= '9') {
			b.WriteRune(r)
		} else {
			b.WriteByte('-')
		}
	}
	out := strings.Trim(b.String(), "-")
	if len(out) > max {
		out = strings.TrimRight(out[:max], "-")
	}
	return out
}
