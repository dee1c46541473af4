package main

import (
	"testing"
)

func TestParseStatusKB(t *testing.T) {
	status := "Name:\tmanager\nVmPeak:\t 1419444 kB\nVmHWM:\t   98304 kB\nVmRSS:\t   81920 kB\nThreads:\t12\n"
	for key, want := range map[string]int64{"VmHWM": 98304, "VmRSS": 81920} {
		got, err := parseStatusKB(status, key)
		if err != nil || got != want {
			t.Errorf("%s: got %d, %v; want %d", key, got, err, want)
		}
	}
	if _, err := parseStatusKB(status, "VmSwap"); err == nil {
		t.Error("a missing key: want an error")
	}
	if _, err := parseStatusKB(status, "Threads"); err == nil {
		t.Error("a value without kB: want an error")
	}
}

func TestFormatPerEnvironment(t *testing.T) {
	got := map[string]float64{"PUT status 200": 6, "PUT status 409": 1, "POST - 201": 3}
	if s := formatPerEnvironment(got, 3); s != "POST - 201: 1.00, PUT status 200: 2.00, PUT status 409: 0.33" {
		t.Errorf("formatPerEnvironment: %q", s)
	}
}
