package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"time"
)

// config is the parsed command line of the server mode.
type config struct {
	httpPort  int
	httpsPort int
	healthy   bool
	tcpPort   int

	logLines int
	logEvery time.Duration

	// exitAfter is meaningful only when exitSet: a zero duration then means
	// "exit as soon as start-up is done", not "never".
	exitSet   bool
	exitAfter time.Duration
	exitCode  int

	ignoreSigterm bool
	stopDelay     time.Duration
	// stopSignals end the app; nil means SIGTERM and SIGINT.
	stopSignals []os.Signal

	allocMB       int
	allocStepMB   int
	allocInterval time.Duration
	allocMaxMB    int

	touchFile string
	readyFile string
}

const usageHeader = `testapp: berth's test program (see the package documentation for details).

Usage:
  testapp [flags]
  testapp check (--http URL | --tcp ADDR | --file PATH) [--timeout D]

HTTP (when --http-port is not 0): GET / (who am I, JSON), GET /healthz (200/503),
POST /healthz/fail, POST /healthz/ok. $TESTAPP_NAME names the instance.

Flags (one dash or two; durations like 500ms, 2s, 1m):
`

// parseFlags parses the server-mode flags. Durations use Go syntax (500ms,
// 2s, 1m). It returns flag.ErrHelp after printing usage for -h.
func parseFlags(args []string, stderr io.Writer) (config, error) {
	var c config
	fs := flag.NewFlagSet("testapp", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprint(fs.Output(), usageHeader)
		fs.PrintDefaults()
	}

	fs.IntVar(&c.httpPort, "http-port", 8080, "serve HTTP on this `port` (0 disables HTTP)")
	fs.IntVar(&c.httpsPort, "https-port", 0, "also serve the HTTP endpoints over TLS on this `port`, with a self-signed certificate made at start (0 = off)")
	fs.BoolVar(&c.healthy, "healthy", true, "initial health reported by GET /healthz")
	fs.IntVar(&c.tcpPort, "tcp-port", 0, "also listen on this TCP `port` and echo what is received (0 = off)")
	fs.IntVar(&c.logLines, "log-lines", 0, "print `N` numbered log lines to stdout at start")
	fs.DurationVar(&c.logEvery, "log-every", 0, "print a numbered log line to stdout every `D` (0 = off)")
	fs.DurationVar(&c.exitAfter, "exit-after", 0, "exit with --exit-code after `D` (one-shot jobs, crash loops)")
	fs.IntVar(&c.exitCode, "exit-code", 0, "exit `code` for --exit-after; alone, exit with it right after start-up")
	fs.BoolVar(&c.ignoreSigterm, "ignore-sigterm", false, "ignore SIGTERM and SIGINT: only SIGKILL stops the process")
	fs.DurationVar(&c.stopDelay, "stop-delay", 0, "on a stop signal keep running for `D`, then exit 0")
	stopList := fs.String("stop-signals", "SIGTERM,SIGINT", "the `LIST` of signals that stop the app; SIGTERM and SIGINT not in it are logged and ignored")
	fs.IntVar(&c.allocMB, "alloc-mb", 0, "allocate and touch `N` MiB of memory at start")
	fs.IntVar(&c.allocStepMB, "alloc-step-mb", 0, "then allocate `N` more MiB every --alloc-interval")
	fs.DurationVar(&c.allocInterval, "alloc-interval", time.Second, "interval `D` of --alloc-step-mb")
	fs.IntVar(&c.allocMaxMB, "alloc-max-mb", 4096, "stop --alloc-step-mb growth at `N` MiB in all (0 = no cap)")
	fs.StringVar(&c.touchFile, "touch-file", "", "append a line (time, hostname, name) to `PATH` at start")
	fs.StringVar(&c.readyFile, "ready-file", "", "keep `PATH` present exactly while healthy (for exec probes)")

	if err := fs.Parse(args); err != nil {
		return config{}, err
	}
	if fs.NArg() > 0 {
		return config{}, fmt.Errorf("unexpected argument %q (flags only, or the check subcommand)", fs.Arg(0))
	}
	var stopErr error
	fs.Visit(func(f *flag.Flag) {
		if f.Name == "exit-after" || f.Name == "exit-code" {
			c.exitSet = true
		}
		if f.Name == "stop-signals" {
			c.stopSignals, stopErr = parseStopSignals(*stopList)
		}
	})
	if stopErr != nil {
		return config{}, stopErr
	}
	if err := c.validate(); err != nil {
		return config{}, err
	}
	return c, nil
}

// validate rejects values that would otherwise surface later as a confusing
// listen error, a busy loop or a wrapped exit status.
func (c config) validate() error {
	var errs []error
	port := func(name string, v int) {
		if v < 0 || v > 65535 {
			errs = append(errs, fmt.Errorf("--%s %d: want 0..65535", name, v))
		}
	}
	nonNeg := func(name string, v int) {
		if v < 0 {
			errs = append(errs, fmt.Errorf("--%s %d: must not be negative", name, v))
		}
	}
	nonNegDur := func(name string, d time.Duration) {
		if d < 0 {
			errs = append(errs, fmt.Errorf("--%s %s: must not be negative", name, d))
		}
	}
	port("http-port", c.httpPort)
	port("tcp-port", c.tcpPort)
	port("https-port", c.httpsPort)
	if c.httpPort != 0 && c.httpPort == c.tcpPort {
		errs = append(errs, fmt.Errorf("--http-port and --tcp-port are both %d", c.httpPort))
	}
	if c.httpsPort != 0 && (c.httpsPort == c.httpPort || c.httpsPort == c.tcpPort) {
		errs = append(errs, fmt.Errorf("--https-port %d is also --http-port or --tcp-port", c.httpsPort))
	}
	nonNeg("log-lines", c.logLines)
	nonNegDur("log-every", c.logEvery)
	nonNegDur("exit-after", c.exitAfter)
	if c.exitCode < 0 || c.exitCode > 255 {
		errs = append(errs, fmt.Errorf("--exit-code %d: want 0..255", c.exitCode))
	}
	nonNegDur("stop-delay", c.stopDelay)
	nonNeg("alloc-mb", c.allocMB)
	nonNeg("alloc-step-mb", c.allocStepMB)
	nonNeg("alloc-max-mb", c.allocMaxMB)
	if c.allocStepMB > 0 && c.allocInterval <= 0 {
		errs = append(errs, fmt.Errorf("--alloc-interval %s: must be positive with --alloc-step-mb", c.allocInterval))
	}
	return errors.Join(errs...)
}
