package docker

import (
	"strings"
	"testing"
)

func TestOwnedIDsKeepFullIDsOnlyAndStayBounded(t *testing.T) {
	var o ownedIDs
	full := strings.Repeat("ab", 32)
	for _, s := range []string{"berth-x-web", full[:12], strings.ToUpper(full), full + "0"} {
		o.add(s)
		if o.has(s) {
			t.Errorf("%q remembered: only a full ID names one container for good", s)
		}
	}
	o.add(full)
	if !o.has(full) {
		t.Fatalf("full ID not remembered")
	}
	for i := 0; i < 3*maxOwnedIDs; i++ {
		id := []byte(strings.Repeat("0", 64))
		for j, k := 0, i; k > 0; j, k = j+1, k/16 {
			id[63-j] = "0123456789abcdef"[k%16]
		}
		o.add(string(id))
	}
	if n := len(o.ids); n > maxOwnedIDs {
		t.Errorf("%d IDs kept, want at most %d", n, maxOwnedIDs)
	}
}
