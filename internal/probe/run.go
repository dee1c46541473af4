package probe

import (
	"context"
	"strings"
	"time"
	"unicode/utf8"

	v1 "berth.dev/berth/apis/v1alpha1"
)

// Result is the outcome of one probe.
type Result struct {
	Success bool
	// Message says why the probe failed, short enough for a status field;
	// empty on success.
	Message string
	// Address is the host:port that answered an HTTP or TCP probe, so the
	// next probe can try it first.
	Address string
}

// Probe types, as the berth_probe_* metrics label them.
const (
	TypeExec = "exec"
	TypeHTTP = "http"
	TypeTCP  = "tcp"
	TypeLog  = "log"
)

// Type names the handler a probe uses, or "unknown".
func Type(p *v1.Probe) string {
	switch {
	case p == nil:
		return "unknown"
	case p.Exec != nil:
		return TypeExec
	case p.HTTPGet != nil:
		return TypeHTTP
	case p.TCPSocket != nil:
		return TypeTCP
	case p.Log != nil:
		return TypeLog
	}
	return "unknown"
}

// Run performs one probe against target and reports whether it passed. It
// returns within the probe's timeout (exec probes: within the timeout plus
// the Execer's own queueing), or as soon as ctx is done.
func Run(ctx context.Context, p *v1.Probe, target Target) Result {
	return run(ctx, p, target, "")
}

// run is Run with a preferred address: the one that answered last time,
// which spares a Docker Desktop manager the unreachable network address on
// every probe. Its message is clipped for the status it ends up in: errors
// quote what the container sent (an HTTP parser's) or what the spec says
// (a missing program's 32 KiB name, in Docker's exec error).
func run(ctx context.Context, p *v1.Probe, target Target, prefer string) Result {
	res := runHandler(ctx, p, target, prefer)
	res.Message = clip(res.Message, maxStatusMessage)
	return res
}

func runHandler(ctx context.Context, p *v1.Probe, target Target, prefer string) Result {
	if p == nil {
		return failed("no probe to run")
	}
	timeout := time.Duration(p.TimeoutSeconds) * time.Second
	if timeout <= 0 {
		timeout = time.Duration(v1.DefaultProbeTimeoutSeconds) * time.Second
	}
	switch {
	case p.Exec != nil:
		return probeExec(ctx, p.Exec.Command, target, timeout)
	case p.HTTPGet != nil:
		port, err := target.ResolvePort(p.HTTPGet.Port)
		if err != nil {
			return failed("HTTP probe: " + err.Error())
		}
		return probeHTTP(ctx, httpTargetOf(p.HTTPGet), preferFirst(target.Addresses(port), prefer), port, timeout)
	case p.TCPSocket != nil:
		port, err := target.ResolvePort(p.TCPSocket.Port)
		if err != nil {
			return failed("TCP probe: " + err.Error())
		}
		return probeTCP(ctx, preferFirst(target.Addresses(port), prefer), port, timeout)
	case p.Log != nil:
		// A log probe follows one stream across probes, which only a
		// Manager's worker keeps.
		return failed("log probe: runs only in the probe manager")
	}
	return failed("probe has no exec, httpGet, tcpSocket or log handler")
}

func failed(msg string) Result { return Result{Message: msg} }

// preferFirst moves prefer to the front of addrs when it is one of them.
func preferFirst(addrs []string, prefer string) []string {
	if prefer == "" {
		return addrs
	}
	for i, a := range addrs {
		if a == prefer && i > 0 {
			out := make([]string, 0, len(addrs))
			out = append(out, a)
			out = append(out, addrs[:i]...)
			return append(out, addrs[i+1:]...)
		}
	}
	return addrs
}

// maxMessage bounds a message taken from the probed program, which is not
// ours to keep short.
const maxMessage = 160

// maxStatusMessage bounds any Result.Message, which ends up in the
// Environment's status: a message that quotes what a container sent (an
// HTTP parser error) must not carry kilobytes of it.
const maxStatusMessage = 512

// firstLine is the first non-empty line of s, cut to maxMessage bytes on a
// rune boundary.
func firstLine(s string) string {
	for _, l := range strings.Split(s, "\n") {
		l = strings.TrimSpace(l)
		if l == "" {
			continue
		}
		return clip(l, maxMessage)
	}
	return ""
}

// clip cuts s to at most n bytes on a rune boundary, marking the cut with
// "..." (which may take the result 3 bytes past n).
func clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	cut := n
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + "..."
}
