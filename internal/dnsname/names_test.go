package dnsname

import "testing"

func TestPart(t *testing.T) {
	for _, c := range []struct {
		in   string
		max  int
		want string
	}{
		{"Web-1", 63, "web-1"},
		{"my_host.example.com", 63, "my-host-example-com"},
		{"--x--", 63, "x"},
		{"ÄÖ", 63, ""},
		{"abcdef-ghi", 7, "abcdef"},
		{"abc", 2, "ab"},
		{"", 5, ""},
	} {
		if got := Part(c.in, c.max); got != c.want {
			t.Errorf("Part(%q, %d) = %q, want %q", c.in, c.max, got, c.want)
		}
	}
}
