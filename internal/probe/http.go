package probe

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"strings"
	"time"

	"berth.dev/berth/internal/version"
)

var userAgent = "berth-probe/" + version.Version

// maxResponseHeaderBytes bounds what a probe reads of a response: the
// status line and headers (what http.Transport's MaxResponseHeaderBytes
// bounds, 10 MiB by default there). The container is not ours to trust: one
// endless header grew the manager's heap by a GiB within a 3 s timeout.
// 16 KiB holds the headers of any health endpoint (a few cookies and a
// security policy included), like the 8–16 KiB header limits of common
// servers and proxies.
const maxResponseHeaderBytes = 16 << 10

// errHeadersTooLarge is what a probe whose response hit the limit reports.
var errHeadersTooLarge = fmt.Errorf("response headers exceed %d KiB", maxResponseHeaderBytes>>10)

// probeHTTP sends one GET over a connection of its own and reads only the
// status line and headers, at most maxResponseHeaderBytes of them; the body
// is never read. There is no http.Client: no proxy from the environment, no
// redirect following (a 3xx is itself a success, and following it could
// leave the container), and no connection outlives the probe.
func probeHTTP(ctx context.Context, h httpTarget, addrs []string, port int, timeout time.Duration) Result {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	conn, addr, err := dialAny(ctx, addrs, port)
	if err != nil {
		var de dialErrors
		if errors.As(err, &de) && de.timedOut() {
			return failed(fmt.Sprintf("HTTP probe timed out after %s: %s", timeout, err))
		}
		return failed(err.Error())
	}
	defer conn.Close()
	// The deadline bounds a server that accepts and never answers; the
	// close unblocks the read when the worker is stopped.
	if dl, ok := ctx.Deadline(); ok {
		_ = conn.SetDeadline(dl)
	}
	stop := context.AfterFunc(ctx, func() { _ = conn.Close() })
	defer stop()

	var rw net.Conn = conn
	if h.https {
		tc, err := handshake(ctx, conn, addr, h.insecureSkipVerify)
		if err != nil {
			if errors.Is(err, os.ErrDeadlineExceeded) || ctx.Err() == context.DeadlineExceeded {
				return Result{Message: fmt.Sprintf("HTTPS probe to %s timed out after %s in the TLS handshake", addr, timeout), Address: addr}
			}
			return Result{Message: fmt.Sprintf("HTTPS probe to %s: %s", addr, err), Address: addr}
		}
		rw = tc
	}
	code, err := getStatus(rw, addr, h.scheme(), h.path)
	if err != nil {
		if errors.Is(err, os.ErrDeadlineExceeded) || ctx.Err() == context.DeadlineExceeded {
			return Result{Message: fmt.Sprintf("HTTP probe to %s timed out after %s", addr, timeout), Address: addr}
		}
		return Result{Message: fmt.Sprintf("HTTP probe to %s: %s", addr, err), Address: addr}
	}
	if code < 200 || code >= 400 {
		return Result{Message: fmt.Sprintf("HTTP probe failed with status %d", code), Address: addr}
	}
	return Result{Success: true, Address: addr}
}

// getStatus writes a GET for path to conn and returns the status code.
func getStatus(conn net.Conn, addr, scheme, path string) (int, error) {
	u, err := probeURL(scheme, addr, path)
	if err != nil {
		return 0, err
	}
	req := &http.Request{
		Method:     http.MethodGet,
		URL:        u,
		Proto:      "HTTP/1.1",
		ProtoMajor: 1,
		ProtoMinor: 1,
		Header: http.Header{
			"User-Agent": {userAgent},
			"Accept":     {"*/*"},
		},
		Host:  addr,
		Close: true,
	}
	if err := req.Write(conn); err != nil {
		return 0, fmt.Errorf("send request: %w", err)
	}
	capped := &cappedReader{r: conn, left: maxResponseHeaderBytes}
	resp, err := http.ReadResponse(bufio.NewReader(capped), req)
	// The parser may report the line the cap cut short as malformed
	// instead of passing the cap's error on.
	if err != nil && (errors.Is(err, errHeadersTooLarge) || capped.left <= 0) {
		return 0, errHeadersTooLarge
	}
	if err != nil {
		return 0, fmt.Errorf("read response: %w", err)
	}
	// The body is left unread, not closed: closing drains it to the end,
	// which an endless body never reaches. The caller closes the
	// connection.
	return resp.StatusCode, nil
}

// cappedReader reads at most left bytes from r, then fails with
// errHeadersTooLarge. Unlike io.LimitReader's EOF, the error says why the
// response ended.
type cappedReader struct {
	r    io.Reader
	left int
}

func (c *cappedReader) Read(p []byte) (int, error) {
	if c.left <= 0 {
		return 0, errHeadersTooLarge
	}
	if len(p) > c.left {
		p = p[:c.left]
	}
	n, err := c.r.Read(p)
	c.left -= n
	return n, err
}

// probeURL joins the answering address and the probe's path, which may
// carry a query.
func probeURL(scheme, addr, path string) (*url.URL, error) {
	if !strings.HasPrefix(path, "/") {
		path = "/" + path
	}
	u, err := url.Parse(scheme + "://" + addr + path)
	if err != nil {
		return nil, fmt.Errorf("bad path %q: %w", path, err)
	}
	return u, nil
}
