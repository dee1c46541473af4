package apimetrics

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"strconv"
	"strings"

	"k8s.io/client-go/rest"
)

// Read fetches the API server's /metrics through client (a REST client of
// any group: the path is absolute) and sums apiserver_request_total of
// resource by request kind (see Parse).
func Read(ctx context.Context, client rest.Interface, resource string) (map[string]float64, error) {
	body, err := client.Get().AbsPath("/metrics").DoRaw(ctx)
	if err != nil {
		return nil, fmt.Errorf("read the API server's /metrics: %w", err)
	}
	return Parse(bytes.NewReader(body), resource)
}

// Parse sums the apiserver_request_total samples of resource by
// "VERB subresource code" (subresource "-" for the object itself), e.g.
// "PUT status 200".
func Parse(r io.Reader, resource string) (map[string]float64, error) {
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
