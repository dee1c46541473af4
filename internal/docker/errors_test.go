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

	"berth.dev/berth/internal/governor"
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
		{"404", statusErr(404), governor.ResultNotFound, ErrNotFound},
		{"409", statusErr(409), governor.ResultConflict, ErrConflict},
		{"400", statusErr(400), governor.ResultInvalid, ErrInvalid},
		{"403", statusErr(403), governor.ResultForbidden, ErrForbidden},
		{"403 active endpoints", fmt.Errorf("Error response from daemon: error while removing network: network berth-sbs id 5f3c has active endpoints: %w", errhttp.ToNative(403)), governor.ResultForbidden, ErrActiveEndpoints},
		{"405 unnamed 4xx", statusErr(405), governor.ResultOther, nil},
		{"500 not paused (Docker 20.10's unpause of a running container)", fmt.Errorf("Error response from daemon: Container 95ed1f07d2d3 is not paused: %w", errhttp.ToNative(500)), governor.ResultConflict, ErrConflict},
		{"500", statusErr(500), governor.ResultTransient, ErrUnavailable},
		{"502 unnamed 5xx", statusErr(502), governor.ResultTransient, ErrUnavailable},
		{"503", statusErr(503), governor.ResultTransient, ErrUnavailable},
		{"429", statusErr(429), governor.ResultTransient, ErrUnavailable},
		{"eof", fmt.Errorf("error during connect: %w", io.EOF), governor.ResultTransient, ErrUnavailable},
		{"unexpected eof", io.ErrUnexpectedEOF, governor.ResultTransient, ErrUnavailable},
		{"reset", &net.OpError{Op: "read", Err: syscall.ECONNRESET}, governor.ResultTransient, ErrUnavailable},
		{"refused", &net.OpError{Op: "dial", Err: syscall.ECONNREFUSED}, governor.ResultTransient, ErrUnavailable},
		{"attempt timeout", fmt.Errorf("x: %w", context.DeadlineExceeded), governor.ResultTransient, ErrUnavailable},
		{"not owned", fmt.Errorf("x: %w", ErrNotOwned), governor.ResultForbidden, ErrNotOwned},
		{"plain", errors.New("something odd"), governor.ResultOther, nil},
		{"invalid argument", cerrdefs.ErrInvalidArgument.WithMessage("bad"), governor.ResultInvalid, ErrInvalid},
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
	if result != governor.ResultCanceled || kind != nil {
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
