package session

import (
	"strings"
	"testing"

	"k8s.io/apimachinery/pkg/util/validation"

	"berth.dev/berth/apis/v1alpha1"
)

func TestNamePrefix(t *testing.T) {
	for in, want := range map[string]string{
		"demo":                    "demo-",
		"testdata/env.yaml":       "env-",
		"My_Stack.v2.yml":         "my-stack-v2-",
		"--":                      "run-",
		"":                        "run-",
		strings.Repeat("a", 60):   strings.Repeat("a", v1alpha1.MaxNameLength-6) + "-",
		strings.Repeat("ab-", 20): "ab-ab-ab-ab-ab-ab-ab-ab-ab-ab-ab-a-",
	} {
		got := NamePrefix(in)
		if got != want {
			t.Errorf("NamePrefix(%q) = %q, want %q", in, got, want)
		}
		full := got + "x1y2z"
		if len(full) > v1alpha1.MaxNameLength || len(validation.IsDNS1123Label(full)) > 0 {
			t.Errorf("NamePrefix(%q) + suffix = %q is not a valid Environment name", in, full)
		}
	}
}
