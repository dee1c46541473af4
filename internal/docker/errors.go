package docker

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"strings"
	"syscall"

	cerrdefs "github.com/containerd/errdefs"
	"github.com/containerd/errdefs/pkg/errhttp"
	"github.com/moby/moby/client"

	"berth.dev/berth/internal/governor"
)

// Sentinel errors callers test with errors.Is or the Is* helpers. The
// governor maps every Docker answer onto one of these so that no caller
// needs to know the Docker client's own error types.
var (
	// ErrNotFound: the object does not exist (HTTP 404).
	ErrNotFound = errors.New("not found")
	// ErrConflict: the request conflicts with the object's state, or a
	// name is taken by an object berth may not adopt (HTTP 409).
	ErrConflict = errors.New("conflict")
	// ErrInvalid: Docker rejected the request as malformed (HTTP 400).
	ErrInvalid = errors.New("invalid request")
	// ErrForbidden: Docker refused the operation (HTTP 403), e.g. removing
	// a network that still has endpoints.
	ErrForbidden = errors.New("forbidden")
	// ErrActiveEndpoints: Docker refused to remove a network because it
	// still counts endpoints on it. It is a kind of ErrForbidden. When no
	// container is attached any more, those endpoints are stale entries in
	// the daemon's network store (seen with Docker 20.10's libnetwork),
	// which only a forced disconnect by endpoint name or a daemon restart
	// clears.
	ErrActiveEndpoints = fmt.Errorf("network has active endpoints: %w", ErrForbidden)
	// ErrNotOwned: the object lacks this manager's identity label, so berth
	// will not stop, remove or adopt it whatever the caller asked.
	ErrNotOwned = errors.New("not owned by this berth manager")
	// ErrUnavailable: a transient failure (connection error, timeout, 5xx)
	// that persisted through every retry; the caller's backoff takes over.
	// It is the governor's own sentinel, which its retry loop acts on.
	ErrUnavailable = governor.ErrUnavailable
	// ErrImageNotPresent: the image is not on the host and the pull policy
	// forbids pulling it.
	ErrImageNotPresent = errors.New("image not present")
	// ErrRegistryUnreachable: pulling failed because the registry could not
	// be reached or did not have the image.
	ErrRegistryUnreachable = errors.New("pull failed at the registry")
	// ErrRegistryAuth: the registry wants credentials the manager's Docker
	// config does not have, refused the ones it has, or they could not be
	// read (malformed config.json, failing credential helper). Retrying
	// does not help; `docker login` as the manager's user does. It is a
	// kind of ErrRegistryUnreachable, so callers that only know that one
	// still treat it as a pull failure.
	ErrRegistryAuth = fmt.Errorf("registry authentication failed: %w", ErrRegistryUnreachable)
)

// IsNotFound reports whether err means the Docker object does not exist.
func IsNotFound(err error) bool { return errors.Is(err, ErrNotFound) }

// IsConflict reports whether err is a Docker 409 or an unadoptable name clash.
func IsConflict(err error) bool { return errors.Is(err, ErrConflict) }

// IsInvalid reports whether Docker rejected the request as malformed.
func IsInvalid(err error) bool { return errors.Is(err, ErrInvalid) }

// IsForbidden reports whether Docker refused the operation (403).
func IsForbidden(err error) bool { return errors.Is(err, ErrForbidden) }

// IsActiveEndpoints reports whether Docker refused a network removal for
// endpoints it still counts on the network.
func IsActiveEndpoints(err error) bool { return errors.Is(err, ErrActiveEndpoints) }

// IsNotOwned reports whether berth refused to touch an object it does not own.
func IsNotOwned(err error) bool { return errors.Is(err, ErrNotOwned) }

// IsUnavailable reports whether err is a transient failure that outlived
// the governor's retries.
func IsUnavailable(err error) bool { return errors.Is(err, ErrUnavailable) }

// IsImageNotPresent reports whether an image is missing under pull policy Never.
func IsImageNotPresent(err error) bool { return errors.Is(err, ErrImageNotPresent) }

// IsRegistryUnreachable reports whether a pull failed at the registry.
func IsRegistryUnreachable(err error) bool { return errors.Is(err, ErrRegistryUnreachable) }

// IsRegistryAuth reports whether a pull failed for want of (valid)
// registry credentials.
func IsRegistryAuth(err error) bool { return errors.Is(err, ErrRegistryAuth) }

// Error is what the governor returns for a failed Docker call: the
// operation, the object it was about, berth's classification (one of the
// sentinels above, or nil when unclassified) and Docker's own error.
type Error = governor.Error

// classifyCall is the governor's Classifier for Docker calls: classify plus
// whether the daemon could not be reached at all, which the governor counts
// as an outage.
func classifyCall(callerCtx context.Context, err error) governor.Class {
	result, kind := classify(callerCtx, err)
	return governor.Class{Result: result, Kind: kind,
		Unreachable: result == governor.ResultTransient && client.IsErrConnectionFailed(err)}
}

// classify maps an error from the Docker client onto a metric result and a
// berth sentinel. callerCtx decides whether a deadline is the caller's
// (final) or a per-attempt timeout of the governor (transient).
func classify(callerCtx context.Context, err error) (result string, kind error) {
	switch {
	case err == nil:
		return governor.ResultOK, nil
	case callerCtx.Err() != nil && (errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded)):
		return governor.ResultCanceled, nil
	case errors.Is(err, ErrNotOwned):
		return governor.ResultForbidden, ErrNotOwned
	case cerrdefs.IsNotFound(err):
		return governor.ResultNotFound, ErrNotFound
	case cerrdefs.IsConflict(err):
		return governor.ResultConflict, ErrConflict
	case cerrdefs.IsInvalidArgument(err):
		return governor.ResultInvalid, ErrInvalid
	case cerrdefs.IsPermissionDenied(err) && isActiveEndpointsText(err):
		return governor.ResultForbidden, ErrActiveEndpoints
	case cerrdefs.IsPermissionDenied(err):
		return governor.ResultForbidden, ErrForbidden
	case cerrdefs.IsUnauthorized(err), cerrdefs.IsFailedPrecondition(err), cerrdefs.IsNotImplemented(err):
		return governor.ResultClient, nil
	case isNotPausedText(err):
		return governor.ResultConflict, ErrConflict
	case isTransient(err):
		return governor.ResultTransient, ErrUnavailable
	}
	return governor.ResultOther, nil
}

// isActiveEndpointsText recognises libnetwork's ActiveEndpointsError
// ("network NAME id ID has active endpoints"), which reaches the client
// only as a 403 with that text; the text is matched here and nowhere else.
func isActiveEndpointsText(err error) bool {
	return strings.Contains(err.Error(), "has active endpoints")
}

// isNotPausedText recognises the answer to an unpause of a container that
// is not paused. Newer daemons send it as a 409; Docker 20.10 sends a 500
// ("Container ID is not paused"), which read as transient cost a claim of
// a standby that was already thawed three retries (1 s, 2 s, 4 s) before
// its Environment went on. No resend can succeed: it is a conflict with
// the container's state.
func isNotPausedText(err error) bool {
	return cerrdefs.IsInternal(err) && strings.Contains(err.Error(), "is not paused")
}

// isTransient says whether resending the same request later may succeed:
// the daemon was unreachable, the connection broke, the attempt timed out,
// or the daemon answered 5xx or 429. 4xx answers are final.
func isTransient(err error) bool {
	if err == nil {
		return false
	}
	if cerrdefs.IsInternal(err) || cerrdefs.IsUnavailable(err) || cerrdefs.IsResourceExhausted(err) {
		return true
	}
	if cerrdefs.IsUnknown(err) {
		// The client maps status codes it has no name for onto Unknown;
		// only the 5xx ones (and 408) are worth another try.
		return !isUnnamedClientStatus(err)
	}
	if client.IsErrConnectionFailed(err) {
		return true
	}
	if errors.Is(err, context.DeadlineExceeded) {
		// Only reached when the caller's context is still live: the
		// governor's per-attempt timeout fired.
		return true
	}
	if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) ||
		errors.Is(err, syscall.ECONNRESET) || errors.Is(err, syscall.ECONNREFUSED) ||
		errors.Is(err, syscall.EPIPE) || errors.Is(err, net.ErrClosed) {
		return true
	}
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		return true
	}
	return false
}

// isUnnamedClientStatus reports whether err carries a 4xx status the Docker
// client could not name (405, 422, ...). Those arrive as "unknown" errors
// whose only handle is equality with errhttp's value for the same code.
func isUnnamedClientStatus(err error) bool {
	for code := 400; code < 500; code++ {
		if code == 408 {
			continue
		}
		if errors.Is(err, errhttp.ToNative(code)) {
			return true
		}
	}
	return false
}
