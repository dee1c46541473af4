package main

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"sort"
	"strconv"
	"strings"

	"berth.dev/berth/client/clientset/versioned"
)

// apiRequests reads the API server's apiserver_request_total for
// Environments from /metrics and sums it by verb, subresource and code
// ("PUT status 200"): what the run cost the store, per request kind.
func apiRequests(ctx context.Context, cs versioned.Interface) (map[string]float64, error) {
	body, err := cs.Discovery().RESTClient().Get().AbsPath("/metrics").DoRaw(ctx)
	if err != nil {
		return nil, fmt.Errorf("read the API server's /metrics: %w", err)
	}
	return parseRequestTotals(bytes.NewReader(body), "environments")
}

// parseRequestTotals sums the apiserver_request_total samples of resource
// by "VERB subresource code" (subresource "-" for the object itself).
func parseRequestTotals(r io.Reader, resource string) (map[string]float64, error) {
	out := map[string]float64{}
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 64*1024), 1024*1024)
	for sc.Scan() {
		line := sc.Text()
		if !strings.HasPrefix(line, "apiserver_request_total{") {
			continue
		}
		end := strings.LastIndexByte(line, '}')
		if end < 0 {
			continue
		}
		labels := map[string]string{}
		for _, kv := range strings.Split(line[len("apiserver_request_total{"):end], ",") {
			k, v, ok := strings.Cut(kv, "=")
			if ok {
				labels[k] = strings.Trim(v, `"`)
			}
		}
		if labels["resource"] != resource {
			continue
		}
		v, err := strconv.ParseFloat(strings.TrimSpace(line[end+1:]), 64)
		if err != nil {
			return nil, fmt.Errorf("metrics line %q: %w", line, err)
		}
		sub := labels["subresource"]
		if sub == "" {
			sub = "-"
		}
		out[labels["verb"]+" "+sub+" "+labels["code"]] += v
	}
	return out, sc.Err()
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
