package docker

import (
	"context"
	"errors"
	"time"

	"github.com/go-logr/logr"
	"github.com/moby/moby/client"
)

// defaultCallTimeout bounds one attempt of a non-stream call. Starts on a
// loaded 2-core daemon take seconds, never minutes; a hung daemon connection
// must not hold a slot forever.
const defaultCallTimeout = 2 * time.Minute

// Governor is the gate every Docker API call passes: a concurrency cap with
// a share reserved for writes, a token bucket spacing call starts, retries
// of transient failures with jittered exponential backoff, AIMD under the
// adaptive profile, and statistics.
type Governor struct {
	limits      limits
	gate        *gate
	aimd        *aimd // nil unless adaptive
	stats       *stats
	backoff     []time.Duration
	callTimeout time.Duration
	log         logr.Logger
}

// newGovernor builds a governor from a validated config.
func newGovernor(cfg Config) (*Governor, error) {
	l, err := resolveLimits(cfg.Profile, cfg.MaxInFlight, cfg.QPS)
	if err != nil {
		return nil, err
	}
	st, err := newStats(cfg.Registerer)
	if err != nil {
		return nil, err
	}
	g := &Governor{
		limits:      l,
		gate:        newGate(l.initial, l.longCap, l.stopsShareCap, l.qps, l.burst),
		stats:       st,
		backoff:     cfg.RetryBackoff,
		callTimeout: cfg.CallTimeout,
		log:         cfg.Logger,
	}
	if g.backoff == nil {
		g.backoff = DefaultRetryBackoff
	}
	if g.callTimeout == 0 {
		g.callTimeout = defaultCallTimeout
	}
	st.limit.Set(float64(l.initial))
	if l.adaptive {
		g.aimd = newAIMD(l.initial, 1, l.max, time.Now(), func(limit int, why string) {
			prev := g.gate.snapshot().limit
			g.gate.setLimit(limit)
			st.limitChanged(limit, limit > prev)
			g.log.V(1).Info("docker concurrency limit changed", "from", prev, "to", limit, "reason", why)
		})
	}
	return g, nil
}

// call describes one logical Docker operation for the governor.
type call struct {
	op     string // metric label, e.g. "container_create"
	lane   lane
	object string // for error messages
	// idempotent: a retry may resend the request as is. Non-idempotent
	// calls either set recover or are never retried.
	idempotent bool
	// recover runs before each retry of a non-idempotent call that may
	// have taken effect; done=true means the effect was found (and adopted)
	// and the call is complete.
	recover func(ctx context.Context) (done bool, err error)
	// timeout overrides the per-attempt timeout; negative means none.
	timeout time.Duration
}

// do runs fn under the governor with retries. attempt is 0 on the first try.
// The returned error is an *Error classified with berth's sentinels.
func (g *Governor) do(ctx context.Context, c call, fn func(ctx context.Context, attempt int) error) error {
	for attempt := 0; ; attempt++ {
		var err error
		if attempt > 0 && c.recover != nil {
			done, rerr := c.recover(ctx)
			if done {
				return nil
			}
			if rerr != nil && !errors.Is(rerr, ErrUnavailable) {
				return rerr
			}
			// A lookup that failed says nothing about whether the call
			// took effect: wait and look again rather than resend.
			err = rerr
		}
		if err == nil {
			err = g.once(ctx, c, func(ctx context.Context) error { return fn(ctx, attempt) })
			if err == nil {
				return nil
			}
		}
		if !IsUnavailable(err) || (!c.idempotent && c.recover == nil) {
			return err
		}
		d, ok := backoffDelay(g.backoff, attempt, jitterRand())
		if !ok {
			return err
		}
		g.stats.retried(c.op)
		g.log.V(1).Info("retrying docker call", "op", c.op, "object", c.object, "attempt", attempt+1, "after", d, "error", err.Error())
		if serr := sleepCtx(ctx, d); serr != nil {
			return err
		}
	}
}

// once runs a single gated attempt and classifies its outcome.
func (g *Governor) once(ctx context.Context, c call, fn func(ctx context.Context) error) error {
	release, adm, err := g.gate.acquire(ctx, c.lane)
	if err != nil {
		return &Error{Op: c.op, Object: c.object, Err: err}
	}
	defer release()
	g.stats.admitted(c.lane, adm.waited)

	actx, cancel := ctx, context.CancelFunc(func() {})
	timeout := c.timeout
	if timeout == 0 {
		timeout = g.callTimeout
	}
	if timeout > 0 && c.lane != laneStream {
		actx, cancel = context.WithTimeout(ctx, timeout)
	}
	start := time.Now()
	err = fn(actx)
	d := time.Since(start)
	cancel()

	result, kind := classify(ctx, err)
	g.stats.finished(c.lane, c.op, result, d, result == resultTransient && client.IsErrConnectionFailed(err))
	if g.aimd != nil && (c.lane == laneRead || c.lane == laneWrite) && result != resultCanceled {
		g.aimd.observe(time.Now(), c.op, d, result == resultTransient, adm.saturated)
	}
	if err == nil {
		return nil
	}
	var e *Error
	if errors.As(err, &e) && e.Kind != nil {
		// Already classified by a nested governed call (recover paths).
		return err
	}
	return &Error{Op: c.op, Object: c.object, Kind: kind, Err: err}
}

// stream admits the start of a long-lived call (events, logs, wait, pull):
// it takes a token but no slot. done must be called when the stream ends,
// with its final error (nil or a context error for a normal end).
func (g *Governor) stream(ctx context.Context, op, object string) (done func(err error), err error) {
	release, adm, err := g.gate.acquire(ctx, laneStream)
	if err != nil {
		return nil, &Error{Op: op, Object: object, Err: err}
	}
	g.stats.admitted(laneStream, adm.waited)
	start := time.Now()
	return func(err error) {
		result, _ := classify(ctx, err)
		if err == nil || errors.Is(err, context.Canceled) {
			result = resultOK
		}
		g.stats.finished(laneStream, op, result, time.Since(start), result == resultTransient && client.IsErrConnectionFailed(err))
		release()
	}, nil
}

// Stats returns a snapshot of the governor's state and counters.
func (g *Governor) Stats() Stats {
	snap := g.gate.snapshot()
	st := Stats{
		Profile:        g.limits.profile,
		Limit:          snap.limit,
		MaxLimit:       g.limits.max,
		QPS:            g.limits.qps,
		InFlightWrites: snap.inflight[laneWrite],
		InFlightReads:  snap.inflight[laneRead],
		InFlightLong:   snap.inflight[laneLong],
		OpenStreams:    snap.inflight[laneStream],
		PeakInFlight:   snap.peak,
	}
	st.InFlight = st.InFlightWrites + st.InFlightReads
	for _, n := range snap.waiting {
		st.Waiting += n
	}
	g.stats.fill(&st)
	return st
}

func (g *Governor) close() { g.gate.close() }
