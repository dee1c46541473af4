package probe

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strings"
	"time"
)

// dialAny connects to the first candidate that accepts. Each candidate but
// the last gets an equal share of the time left, so an address that drops
// packets (a container IP seen from outside Docker Desktop's VM) cannot use
// up the whole timeout before the fallback is tried.
func dialAny(ctx context.Context, addrs []string, port int) (net.Conn, string, error) {
	if len(addrs) == 0 {
		return nil, "", fmt.Errorf("no address for port %d: the container has no address on its network and the port is not published", port)
	}
	var errs dialErrors
	for i, a := range addrs {
		dctx, cancel := ctx, context.CancelFunc(func() {})
		if dl, ok := ctx.Deadline(); ok && i < len(addrs)-1 {
			dctx, cancel = context.WithTimeout(ctx, time.Until(dl)/time.Duration(len(addrs)-i))
		}
		var d net.Dialer
		c, err := d.DialContext(dctx, "tcp", a)
		cancel()
		if err == nil {
			return c, a, nil
		}
		errs = append(errs, err)
		if ctx.Err() != nil {
			break
		}
	}
	return nil, "", errs
}

// dialErrors are the failed attempts of one dialAny, reported together: on
// Docker Desktop the first one alone would hide the one that matters.
type dialErrors []error

func (e dialErrors) Error() string {
	msgs := make([]string, len(e))
	for i, err := range e {
		msgs[i] = err.Error()
	}
	return strings.Join(msgs, "; ")
}

func (e dialErrors) Unwrap() []error { return e }

// timedOut says whether the probe's time ran out while dialling: the last
// attempt, which had all the time left, timed out.
func (e dialErrors) timedOut() bool {
	if len(e) == 0 {
		return false
	}
	var ne net.Error
	last := e[len(e)-1]
	return errors.Is(last, context.DeadlineExceeded) || (errors.As(last, &ne) && ne.Timeout())
}
