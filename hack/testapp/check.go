package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"time"
)

// Exit codes of the check subcommand, as exec probes read them.
const (
	checkOK    = 0
	checkFail  = 1
	checkUsage = 2
)

const checkUsageHeader = `Usage: testapp check (--http URL | --tcp ADDR | --file PATH) [--timeout D]

Exits 0 when the URL answers 2xx/3xx, the address accepts a TCP connection, or
the file exists; 1 when not; 2 on a usage error. Meant for exec probes inside
the FROM scratch image, which has no shell.

Flags:
`

// runCheck is the "testapp check" subcommand.
func runCheck(args []string, stdout, stderr io.Writer) int {
	var url, addr, file string
	var timeout time.Duration
	fs := flag.NewFlagSet("testapp check", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprint(fs.Output(), checkUsageHeader)
		fs.PrintDefaults()
	}
	fs.StringVar(&url, "http", "", "GET this `URL`; success is a 2xx or 3xx status")
	fs.StringVar(&addr, "tcp", "", "connect to this `host:port`")
	fs.StringVar(&file, "file", "", "succeed when this `path` exists")
	fs.DurationVar(&timeout, "timeout", 2*time.Second, "give up after `D`")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return checkOK
		}
		return checkUsage
	}
	n := 0
	for _, v := range []string{url, addr, file} {
		if v != "" {
			n++
		}
	}
	if n != 1 || fs.NArg() > 0 || timeout <= 0 {
		fmt.Fprintln(stderr, "testapp check: give exactly one of --http, --tcp, --file (and a positive --timeout)")
		return checkUsage
	}

	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	var err error
	switch {
	case url != "":
		err = checkHTTP(ctx, url)
	case addr != "":
		err = checkTCP(ctx, addr)
	default:
		err = checkFile(file)
	}
	if err != nil {
		fmt.Fprintf(stderr, "testapp check: %v\n", err)
		return checkFail
	}
	fmt.Fprintln(stdout, "testapp check: ok")
	return checkOK
}

func checkHTTP(ctx context.Context, url string) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return fmt.Errorf("bad URL %q: %w", url, err)
	}
	// Redirects are not followed: like Kubernetes' HTTP probe, a 3xx is
	// itself a success, and following it could leave the container.
	client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error {
		return http.ErrUseLastResponse
	}}
	resp, err := client.Do(req)
	if err != nil {
		return fmt.Errorf("GET %s: %w", url, err)
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	if resp.StatusCode < 200 || resp.StatusCode >= 400 {
		return fmt.Errorf("GET %s: status %d", url, resp.StatusCode)
	}
	return nil
}

func checkTCP(ctx context.Context, addr string) error {
	var d net.Dialer
	c, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		return fmt.Errorf("connect %s: %w", addr, err)
	}
	return c.Close()
}

func checkFile(path string) error {
	if _, err := os.Stat(path); err != nil {
		return fmt.Errorf("stat: %w", err)
	}
	return nil
}
