package main

import (
	"context"
	"fmt"
	"sort"
	"strings"

	"berth.dev/berth/client/clientset/versioned"
	"berth.dev/berth/internal/apimetrics"
)

// apiRequests reads the API server's request counts for Environments:
// what the run cost the store, per request kind.
func apiRequests(ctx context.Context, cs versioned.Interface) (map[string]float64, error) {
	return apimetrics.Read(ctx, cs.Discovery().RESTClient(), "environments")
}

// formatPerEnvironment prints each request kind's count per Environment.
func formatPerEnvironment(totals map[string]float64, envs int) string {
	keys := make([]string, 0, len(totals))
	for k := range totals {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var b strings.Builder
	for i, k := range keys {
		if i > 0 {
			b.WriteString(", ")
		}
		fmt.Fprintf(&b, "%s: %.2f", k, totals[k]/float64(envs))
	}
	return b.String()
}
