package probe

import (
	"context"
	"time"
)

// probeTCP succeeds when a connection opens; it is closed at once.
func probeTCP(ctx context.Context, addrs []string, port int, timeout time.Duration) Result {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	c, addr, err := dialAny(ctx, addrs, port)
	if err != nil {
		return failed(err.Error())
	}
	_ = c.Close()
	return Result{Success: true, Address: addr}
}
