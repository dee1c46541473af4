package main

import (
	"testing"
	"time"

	"berth.dev/berth/internal/docker/faultproxy"
)

func TestCallKind(t *testing.T) {
	for uri, want := range map[string]string{
		"/v1.41/containers/abc/json":                  "GET /containers/{id}/json",
		"/v1.41/containers/json?all=1":                "GET /containers/json",
		"/v1.41/containers/create?name=x":             "GET /containers/create",
		"/v1.41/images/registry:5000/team/app:1/json": "GET /images/{name}/json",
		"/v1.41/networks/5e0f":                        "GET /networks/{id}",
		"/v1.41/exec/123/start":                       "GET /exec/{id}/start",
		"/_ping":                                      "GET /_ping",
	} {
		if got := callKind("GET", uri); got != want {
			t.Errorf("callKind(%q) = %q, want %q", uri, got, want)
		}
	}
}

func TestPeakInFlight(t *testing.T) {
	t0 := time.Now()
	at := func(ms int) time.Time { return t0.Add(time.Duration(ms) * time.Millisecond) }
	reqs := []faultproxy.Request{
		{Start: at(0), Answered: at(100), End: at(100)},
		{Start: at(50), Answered: at(150), End: at(150)},
		{Start: at(100), Answered: at(120), End: at(120)}, // starts as the first ends
		{Start: at(60), End: at(10000), Stream: true},     // streams are not counted
		{Start: at(200), End: at(300)},                    // never answered: counts until End
		{Start: at(250), Answered: at(260), End: at(260)},
	}
	if got := peakInFlight(reqs); got != 2 {
		t.Fatalf("peak = %d, want 2", got)
	}
}
