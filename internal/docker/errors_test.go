package docker

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"syscall"
	"testing"

	cerrdefs "github.com/containerd/errdefs"
	"github.com/containerd/errdefs/pkg/errhttp"
)

// statusErr builds the error the Docker client returns for an HTTP status.
func statusErr(code int) error {
	return fmt.Errorf("Error response from daemon: boom: %w", errhttp.ToNative(code))
}

func TestClassify(t *testing.T) {
	live := context.Background()
	cases := []struct {
		name   string
		err    error
		result string
		kind   error
	}{
		{"404", statusErr(404), resultNotFound, ErrNotFound},
		{"409", statusErr(409), resultConflict, ErrConflict},
		{"400", statusErr(400), resultInvalid, ErrInvalid},
		{"403", statusErr(403), resultForbidden, ErrForbidden},
		{"403 active endpoints", fmt.Errorf("Error response from daemon: error while removing network: network berth-sbs id 5f3c has active endpoints: %w", errhttp.ToNative(403)), resultForbidden, ErrActiveEndpoints},
		{"405 unnamed 4xx", statusErr(405), resultOther, nil},
		{"500", statusErr(500), resultTransient, ErrUnavailable},
		{"502 unnamed 5xx", statusErr(502), resultTransient, ErrUnavailable},
		{"503", statusErr(503), resultTransient, ErrUnavailable},
		{"429", statusErr(429), resultTransient, ErrUnavailable},
		{"eof", fmt.Errorf("error during connect: %w", io.EOF), resultTransient, ErrUnavailable},
		{"unexpected eof", io.ErrUnexpectedEOF, resultTransient, ErrUnavailable},
		{"reset", &net.OpError{Op: "read", Err: syscall.ECONNRESET}, resultTransient, ErrUnavailable},
		{"refused", &net.OpError{Op: "dial", Err: syscall.ECONNREFUSED}, resultTransient, ErrUnavailable},
		{"attempt timeout", fmt.Errorf("x: %w", context.DeadlineExceeded), resultTransient, ErrUnavailable},
		{"not owned", fmt.Errorf("x: %w", ErrNotOwned), resultForbidden, ErrNotOwned},
		{"plain", errors.New("something odd"), resultOther, nil},
		{"invalid argument", cerrdefs.ErrInvalidArgument.WithMessage("bad"), resultInvalid, ErrInvalid},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			result, kind := classify(live, c.err)
			if result != c.result || kind != c.kind {
				t.Fatalf("classify(%v) = %s, %v; want %s, %v", c.err, result, kind, c.result, c.kind)
			}
		})
	}
}

// TestActiveEndpointsIsTyped: the refusal that left a deleted Environment
// Terminating for good must be told apart by type, not by callers reading
// Docker's text, and still read as the 403 it is.
func TestActiveEndpointsIsTyped(t *testing.T) {
	_, kind := classify(context.Background(), fmt.Errorf("Error response from daemon: error while removing network: network berth-sbs id 5f3c has active endpoints: %w", errhttp.ToNative(403)))
	err := fmt.Errorf("remove network berth-sbs: %w", &Error{Op: "network_remove", Object: "berth-sbs", Kind: kind, Err: errors.New("has active endpoints")})
	if !IsActiveEndpoints(err) || !IsForbidden(err) {
		t.Fatalf("IsActiveEndpoints=%v IsForbidden=%v for %v", IsActiveEndpoints(err), IsForbidden(err), err)
	}
	other := &Error{Op: "network_remove", Kind: ErrForbidden, Err: errors.New("operation not permitted")}
	if IsActiveEndpoints(other) {
		t.Fatalf("a plain 403 read as active endpoints")
	}
}

func TestClassifyCallerCancelIsFinal(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	result, kind := classify(ctx, fmt.Errorf("x: %w", context.Canceled))
	if result != resultCanceled || kind != nil {
		t.Fatalf("caller cancel classified %s, %v", result, kind)
	}
}

func TestErrorHelpers(t *testing.T) {
	e := &Error{Op: "container_remove", Object: "c1", Kind: ErrNotOwned, Err: errors.New("refused")}
	wrapped := fmt.Errorf("teardown: %w", e)
	if !IsNotOwned(wrapped) || IsNotFound(wrapped) || IsConflict(wrapped) {
		t.Fatalf("helpers misread %v", wrapped)
	}
	var got *Error
	if !errors.As(wrapped, &got) || got.Object != "c1" {
		t.Fatalf("errors.As lost the *Error")
	}
	if e.Error() != "docker container_remove c1: refused" {
		t.Fatalf("message %q", e.Error())
	}
}
