package cli

import (
	"context"
	"strings"
	"testing"

	"k8s.io/cli-runtime/pkg/genericiooptions"
)

// TestLogsTailIsBounded: --tail has no "all" (-1 was one); a value outside
// 0..10000 is refused before anything is asked of the manager.
func TestLogsTailIsBounded(t *testing.T) {
	for _, tail := range []int64{-1, -5, maxTail + 1} {
		o := &logsOptions{tail: tail}
		err := o.run(context.Background(), nil, "demo", "web", nil)
		if err == nil || !strings.Contains(err.Error(), "--tail") || !strings.Contains(err.Error(), "from 0 to 10000") {
			t.Errorf("--tail %d: %v, want an error naming --tail and its range", tail, err)
		}
	}
	cmd := newLogsCommand(nil, genericiooptions.IOStreams{In: strings.NewReader("")})
	if def := cmd.Flags().Lookup("tail").DefValue; def != "10000" {
		t.Errorf("--tail default %s, want 10000 (bounded)", def)
	}
}
