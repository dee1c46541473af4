package governor

import (
	"context"
	"errors"
	"fmt"
)

// ErrUnavailable: a transient failure (connection error, timeout, 5xx)
// that persisted through every retry; the caller's backoff takes over. The
// classifier marks a transient failure with it, and it is what Do retries.
var ErrUnavailable = errors.New("docker unavailable")

// Result labels of the calls metric; they are also what AIMD and the retry
// loop decide on.
const (
	ResultOK        = "ok"
	ResultNotFound  = "not_found"
	ResultConflict  = "conflict"
	ResultInvalid   = "invalid"
	ResultForbidden = "forbidden"
	ResultClient    = "client_error" // other 4xx
	ResultTransient = "transient"    // connection error, timeout, 5xx
	ResultCanceled  = "canceled"     // the caller's context ended
	ResultOther     = "error"
)

// Class is what a Classifier says about one attempt's error.
type Class struct {
	// Result is the metric label (one of the Result constants).
	Result string
	// Kind is the sentinel the returned *Error wraps, nil when none fits.
	// A transient Result without a Kind gets ErrUnavailable.
	Kind error
	// Unreachable: the daemon could not be reached at all (not merely an
	// error answer); a run of these is counted as one outage.
	Unreachable bool
}

// Classifier maps the error of one attempt onto a Class. callerCtx is the
// caller's context: a deadline on it is final, while a deadline of the
// governor's own per-attempt timeout is transient.
type Classifier func(callerCtx context.Context, err error) Class

// DefaultClassify knows only contexts: nil is ok, the caller's own end is
// canceled, a per-attempt timeout is transient, anything else is "error"
// and never retried. Real clients pass their own classifier.
func DefaultClassify(callerCtx context.Context, err error) Class {
	switch {
	case err == nil:
		return Class{Result: ResultOK}
	case callerCtx.Err() != nil && (errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded)):
		return Class{Result: ResultCanceled}
	case errors.Is(err, context.DeadlineExceeded):
		return Class{Result: ResultTransient, Kind: ErrUnavailable}
	}
	return Class{Result: ResultOther}
}

func (g *Governor) classifyErr(ctx context.Context, err error) Class {
	cl := g.classify(ctx, err)
	if cl.Result == "" {
		cl.Result = ResultOther
	}
	if cl.Result == ResultTransient && cl.Kind == nil {
		cl.Kind = ErrUnavailable
	}
	return cl
}

// Error is what the governor returns for a failed call: the operation, the
// object it was about, the classification (a sentinel, or nil when
// unclassified) and the client's own error.
type Error struct {
	Op     string
	Object string
	Kind   error
	Err    error
}

func (e *Error) Error() string {
	if e.Object == "" {
		return fmt.Sprintf("docker %s: %v", e.Op, e.Err)
	}
	return fmt.Sprintf("docker %s %s: %v", e.Op, e.Object, e.Err)
}

// Unwrap exposes both the classification and the cause to errors.Is/As.
func (e *Error) Unwrap() []error {
	if e.Kind == nil {
		return []error{e.Err}
	}
	return []error{e.Kind, e.Err}
}
