package compose

import (
	"encoding/json"
	"fmt"

	"berth.dev/berth/apis/v1alpha1"
)

// Manifest is env as the manifest `berth apply` sends for compose files
// and `berth convert` prints: what the user asks for, without status,
// without the creationTimestamp: null of an object never stored, and
// without empty objects (resources: {}, teardown: {}), which mean the
// same as leaving the field out.
func Manifest(env *v1alpha1.Environment) (map[string]any, error) {
	b, err := json.Marshal(env)
	if err != nil {
		return nil, fmt.Errorf("encode Environment %s: %w", env.Name, err)
	}
	var obj map[string]any
	if err := json.Unmarshal(b, &obj); err != nil {
		return nil, fmt.Errorf("encode Environment %s: %w", env.Name, err)
	}
	delete(obj, "status")
	if meta, ok := obj["metadata"].(map[string]any); ok {
		delete(meta, "creationTimestamp")
	}
	pruneEmpty(obj)
	return obj, nil
}

// pruneEmpty removes the empty objects below v, innermost first.
func pruneEmpty(v any) {
	switch t := v.(type) {
	case map[string]any:
		for k, e := range t {
			pruneEmpty(e)
			if m, ok := e.(map[string]any); ok && len(m) == 0 {
				delete(t, k)
			}
		}
	case []any:
		for _, e := range t {
			pruneEmpty(e)
		}
	}
}
