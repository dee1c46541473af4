package probe

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"os"
	"strings"
	"time"

	"berth.dev/berth/internal/version"
)

var userAgent = "berth-probe/" + version.Version

// probeHTTP sends one GET over a connection of its own and reads only the
// status line and headers. There is no http.Client: no proxy from the
// environment, no redirect following (a 3xx is itself a success, and
// following it could leave the container), and no connection outlives the
// probe.
func probeHTTP(ctx context.Context, path string, addrs []string, port int, timeout time.Duration) Result {
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

	code, err := getStatus(conn, addr, path)
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
func getStatus(conn net.Conn, addr, path string) (int, error) {
	u, err := probeURL(addr, path)
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
	resp, err := http.ReadResponse(bufio.NewReader(conn), req)
	if err != nil {
		return 0, fmt.Errorf("read response: %w", err)
	}
	_ = resp.Body.Close()
	return resp.StatusCode, nil
}

// probeURL joins the answering address and the probe's path, which may
// carry a query.
func probeURL(addr, path string) (*url.URL, error) {
	if !strings.HasPrefix(path, "/") {
		path = "/" + path
	}
	u, err := url.Parse("http://" + addr + path)
	if err != nil {
		return nil, fmt.Errorf("bad path %q: %w", path, err)
	}
	return u, nil
}
