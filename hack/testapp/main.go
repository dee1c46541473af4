// Command testapp is the test image behind every berth Docker test and the
// demo: one small static binary (berth-testapp:dev, built FROM scratch by
// hack/build-images.sh) whose flags reproduce the behaviours a controller has
// to cope with, so tests never need an image from the internet.
//
// With no arguments it serves GET /healthz (200) on port 8080 and runs until
// SIGTERM or SIGINT, then exits 0 promptly.
//
// Usage:
//
//	testapp [flags]
//	testapp check (--http URL | --tcp ADDR | --file PATH) [--timeout D]
//
// Flags of the server:
//
//	--http-port N        serve HTTP on port N (default 8080; 0 disables HTTP)
//	--https-port N       also serve the HTTP endpoints over TLS on port N (0 = off)
//	                     with a self-signed ECDSA certificate made in memory at
//	                     start, naming the hostname and the interfaces' addresses
//	--healthy BOOL       initial health (default true)
//	--tcp-port N         also listen on TCP port N and echo what is received (0 = off)
//	--log-lines N        print N numbered log lines to stdout at start
//	--log-every D        print a numbered log line to stdout every D (0 = off)
//	--exit-after D       exit after D with --exit-code (one-shot jobs, crash loops)
//	--exit-code N        exit code used by --exit-after (default 0); given alone,
//	                     testapp exits with N as soon as its start-up work is done
//	--ignore-sigterm     ignore SIGTERM and SIGINT entirely: only SIGKILL stops it
//	--stop-delay D       on a stop signal keep running for D, then exit 0
//	--stop-signals LIST  signals that stop it (default SIGTERM,SIGINT; also SIGQUIT,
//	                     SIGHUP, SIGUSR1, SIGUSR2); SIGTERM or SIGINT left out of
//	                     LIST are logged ("received SIGTERM, ignoring it") and ignored
//	--alloc-mb N         allocate and touch N MiB of memory at start
//	--alloc-step-mb N    then allocate N more MiB every --alloc-interval
//	--alloc-interval D   interval of --alloc-step-mb (default 1s)
//	--alloc-max-mb N     stop the stepped growth at N MiB in all (default 4096; 0 = no cap)
//	--touch-file PATH    append a line (time, hostname, name) to PATH at start
//	--ready-file PATH    keep PATH present exactly while healthy
//
// HTTP endpoints (when --http-port is not 0):
//
//	GET  /              JSON: app, hostname, name ($TESTAPP_NAME), pid, healthy, started
//	GET  /healthz       200 "ok" while healthy, 503 "unhealthy" otherwise
//	POST /healthz/fail  turn unhealthy (and remove --ready-file)
//	POST /healthz/ok    turn healthy (and create --ready-file)
//
// The check subcommand is what exec probes run inside the FROM scratch image,
// which has no shell, curl or nc: it exits 0 when the HTTP URL answers 2xx or
// 3xx, the TCP address accepts a connection, or the file exists; 1 when not;
// 2 on a usage error. For example:
//
//	["/testapp", "check", "--file", "/tmp/ready"]
//	["/testapp", "check", "--http", "http://127.0.0.1:8080/healthz"]
//
// The cat, print, tty and stat subcommands (tools.go) stand in for the
// coreutils the image lacks in `berth exec` and `berth cp` tests.
//
// Everything testapp says goes to stdout, one line per event, prefixed with
// "testapp:", so tests can wait for "testapp: ready" and read container logs.
package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
)

func main() {
	os.Exit(realMain(os.Args[1:], os.Stdout, os.Stderr))
}

// realMain is main without os.Exit, so tests can run the whole program inside
// a re-executed test binary and still see its exit code.
func realMain(args []string, stdout, stderr io.Writer) int {
	if len(args) > 0 && args[0] == "check" {
		return runCheck(args[1:], stdout, stderr)
	}
	if len(args) > 0 {
		if tool, ok := tools[args[0]]; ok {
			return tool(args[1:], os.Stdin, stdout, stderr)
		}
	}
	cfg, err := parseFlags(args, stderr)
	if errors.Is(err, flag.ErrHelp) {
		return 0
	}
	if err != nil {
		fmt.Fprintf(stderr, "testapp: %v\n", err)
		return 2
	}

	// The signals are caught before anything else runs, also with
	// --ignore-sigterm: the app then logs and drops them. signal.Ignore
	// would be simpler but leaves an app with no listeners and no timers
	// without any goroutine that can wake up, which the Go runtime kills as
	// a deadlock (exit 2) instead of letting Docker's SIGKILL do it.
	sig := make(chan os.Signal, 4)
	signal.Notify(sig, caughtSignals(cfg.stopSignals)...)
	return newApp(cfg, stdout).run(sig)
}
