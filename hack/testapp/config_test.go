package main

import (
	"errors"
	"flag"
	"io"
	"reflect"
	"strings"
	"testing"
	"time"
)

func TestParseFlagsDefaults(t *testing.T) {
	c, err := parseFlags(nil, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if c.httpPort != 8080 || !c.healthy || c.tcpPort != 0 || c.exitSet || c.ignoreSigterm ||
		c.allocInterval != time.Second || c.allocMaxMB != 4096 {
		t.Fatalf("unexpected defaults: %+v", c)
	}
}

func TestParseFlagsAll(t *testing.T) {
	c, err := parseFlags([]string{
		"--http-port", "9090", "--healthy=false", "--tcp-port", "5432",
		"--log-lines", "3", "--log-every", "250ms",
		"--exit-after", "1s", "--exit-code", "7",
		"--ignore-sigterm", "--stop-delay", "3s",
		"--alloc-mb", "16", "--alloc-step-mb", "4", "--alloc-interval", "100ms", "--alloc-max-mb", "64",
		"--touch-file", "/data/started", "-ready-file", "/tmp/ready",
	}, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	want := config{
		httpPort: 9090, healthy: false, tcpPort: 5432,
		logLines: 3, logEvery: 250 * time.Millisecond,
		exitSet: true, exitAfter: time.Second, exitCode: 7,
		ignoreSigterm: true, stopDelay: 3 * time.Second,
		allocMB: 16, allocStepMB: 4, allocInterval: 100 * time.Millisecond, allocMaxMB: 64,
		touchFile: "/data/started", readyFile: "/tmp/ready",
	}
	if !reflect.DeepEqual(c, want) {
		t.Fatalf("got  %+v\nwant %+v", c, want)
	}
}

func TestParseFlagsExitCodeAloneMeansExitNow(t *testing.T) {
	c, err := parseFlags([]string{"--exit-code", "3"}, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if !c.exitSet || c.exitAfter != 0 || c.exitCode != 3 {
		t.Fatalf("got %+v", c)
	}
}

func TestParseFlagsInvalid(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--http-port", "-1"}, "--http-port -1"},
		{[]string{"--http-port", "70000"}, "--http-port 70000"},
		{[]string{"--tcp-port", "65536"}, "--tcp-port 65536"},
		{[]string{"--tcp-port", "8080"}, "both 8080"},
		{[]string{"--log-lines", "-2"}, "--log-lines -2"},
		{[]string{"--log-every", "-1s"}, "--log-every -1s"},
		{[]string{"--exit-after", "-5s"}, "--exit-after -5s"},
		{[]string{"--exit-code", "256"}, "--exit-code 256"},
		{[]string{"--exit-code", "-1"}, "--exit-code -1"},
		{[]string{"--stop-delay", "-1ms"}, "--stop-delay -1ms"},
		{[]string{"--alloc-mb", "-1"}, "--alloc-mb -1"},
		{[]string{"--alloc-step-mb", "1", "--alloc-interval", "0s"}, "--alloc-interval 0s"},
		{[]string{"--healthy=maybe"}, "invalid boolean"},
		{[]string{"--exit-after", "soon"}, "invalid value"},
		{[]string{"--no-such-flag"}, "not defined"},
		{[]string{"serve"}, `unexpected argument "serve"`},
	} {
		_, err := parseFlags(tc.args, io.Discard)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("parseFlags(%q) = %v, want an error containing %q", tc.args, err, tc.want)
		}
	}
}

func TestParseFlagsHelp(t *testing.T) {
	var out strings.Builder
	_, err := parseFlags([]string{"-h"}, &out)
	if !errors.Is(err, flag.ErrHelp) {
		t.Fatalf("err = %v, want flag.ErrHelp", err)
	}
	for _, s := range []string{"testapp check", "-ignore-sigterm", "-ready-file", "/healthz/fail"} {
		if !strings.Contains(out.String(), s) {
			t.Errorf("usage does not mention %q", s)
		}
	}
}
