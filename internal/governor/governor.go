package governor

import (
	"context"
	"errors"
	"time"

	"github.com/go-logr/logr"
	"github.com/prometheus/client_golang/prometheus"
)

// DefaultRetryBackoff is the wait before each retry of a transient failure
// (the seed's 1 s, 2 s, 4 s); after the last one the error goes back to the
// caller, whose workqueue backoff takes over.
var DefaultRetryBackoff = []time.Duration{time.Second, 2 * time.Second, 4 * time.Second}

// defaultCallTimeout bounds one attempt of a non-stream call. Starts on a
// loaded 2-core daemon take seconds, never minutes; a hung daemon connection
// must not hold a slot forever.
const defaultCallTimeout = 2 * time.Minute

// Config says how hard the governor lets its callers drive the daemon and
// how it reads their errors.
type Config struct {
	// Profile selects the limits: desktop, ci or adaptive ("" = adaptive).
	Profile Profile
	// MaxInFlight overrides the profile's concurrency limit (the hard cap
	// under adaptive); 0 keeps the profile's.
	MaxInFlight int
	// QPS overrides the profile's call-start rate; 0 keeps the profile's,
	// a negative value disables the token bucket.
	QPS float64
	// Classify maps a call's error onto a metric result, a sentinel kind
	// and whether the daemon was unreachable. It is where the knowledge of
	// a particular client's errors lives, so the governor needs none; nil
	// uses DefaultClassify.
	Classify Classifier
	// Logger receives retry and limit-change logs; the zero value discards them.
	Logger logr.Logger
	// Registerer, when set, gets the berth_docker_* collectors.
	Registerer prometheus.Registerer
	// RetryBackoff overrides DefaultRetryBackoff (tests use shorter waits).
	RetryBackoff []time.Duration
	// CallTimeout bounds one attempt of a non-stream call; a timed-out
	// attempt counts as transient. 0 means 2 minutes.
	CallTimeout time.Duration
}

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
	classify    Classifier
	log         logr.Logger
}

// New builds a governor. It fails on limits that make no sense and when the
// metrics cannot be registered (a second governor on one registry).
func New(cfg Config) (*Governor, error) {
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
		classify:    cfg.Classify,
		log:         cfg.Logger,
	}
	if g.classify == nil {
		g.classify = DefaultClassify
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

// Call describes one logical Docker operation for the governor.
type Call struct {
	Op     string // metric label, e.g. "container_create"
	Lane   Lane
	Object string // for error messages
	// Idempotent: a retry may resend the request as is. Non-idempotent
	// calls either set Recover or are never retried.
	Idempotent bool
	// Recover runs before each retry of a non-idempotent call that may
	// have taken effect; done=true means the effect was found (and adopted)
	// and the call is complete.
	Recover func(ctx context.Context) (done bool, err error)
	// Timeout overrides the per-attempt timeout; negative means none.
	Timeout time.Duration
}

// Do runs fn under the governor with retries of transient failures. attempt
// is 0 on the first try. The returned error is an *Error whose Kind is the
// classifier's sentinel (ErrUnavailable once retries are used up).
func (g *Governor) Do(ctx context.Context, c Call, fn func(ctx context.Context, attempt int) error) error {
	for attempt := 0; ; attempt++ {
		var err error
		if attempt > 0 && c.Recover != nil {
			done, rerr := c.Recover(ctx)
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
		if !errors.Is(err, ErrUnavailable) || (!c.Idempotent && c.Recover == nil) {
			return err
		}
		d, ok := backoffDelay(g.backoff, attempt, jitterRand())
		if !ok {
			return err
		}
		g.stats.retried(c.Op)
		g.log.V(1).Info("retrying docker call", "op", c.Op, "object", c.Object, "attempt", attempt+1, "after", d, "error", err.Error())
		if serr := sleepCtx(ctx, d); serr != nil {
			return err
		}
	}
}

// once runs a single gated attempt and classifies its outcome.
func (g *Governor) once(ctx context.Context, c Call, fn func(ctx context.Context) error) error {
	if IsBackground(ctx) && (c.Lane == LaneWrite || c.Lane == LaneRead) {
		c.Lane = LaneBackground
	}
	release, adm, err := g.gate.acquire(ctx, c.Lane)
	if err != nil {
		return &Error{Op: c.Op, Object: c.Object, Err: err}
	}
	defer release()
	g.stats.admitted(c.Lane, adm.waited)

	actx, cancel := ctx, context.CancelFunc(func() {})
	timeout := c.Timeout
	if timeout == 0 {
		timeout = g.callTimeout
	}
	if timeout > 0 && c.Lane != LaneStream {
		actx, cancel = context.WithTimeout(ctx, timeout)
	}
	start := time.Now()
	err = fn(actx)
	d := time.Since(start)
	cancel()

	cl := g.classifyErr(ctx, err)
	g.stats.finished(c.Lane, c.Op, cl.Result, d, cl.Unreachable)
	if g.aimd != nil && (c.Lane == LaneRead || c.Lane == LaneWrite || c.Lane == LaneBackground) && cl.Result != ResultCanceled {
		g.aimd.observe(time.Now(), c.Op, d, adm.inflight, cl.Result == ResultTransient, adm.saturated)
	}
	if err == nil {
		return nil
	}
	var e *Error
	if errors.As(err, &e) && e.Kind != nil {
		// Already classified by a nested governed call (recover paths).
		return err
	}
	return &Error{Op: c.Op, Object: c.Object, Kind: cl.Kind, Err: err}
}

// Stream admits the start of a long-lived call (events, logs, wait, pull):
// it takes a token but no slot. done must be called when the stream ends,
// with its final error (nil or a context error for a normal end).
func (g *Governor) Stream(ctx context.Context, op, object string) (done func(err error), err error) {
	release, adm, err := g.gate.acquire(ctx, LaneStream)
	if err != nil {
		return nil, &Error{Op: op, Object: object, Err: err}
	}
	g.stats.admitted(LaneStream, adm.waited)
	start := time.Now()
	return func(err error) {
		cl := g.classifyErr(ctx, err)
		if err == nil || errors.Is(err, context.Canceled) {
			cl = Class{Result: ResultOK}
		}
		g.stats.finished(LaneStream, op, cl.Result, time.Since(start), cl.Unreachable)
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
		InFlightWrites: snap.inflight[LaneWrite],
		InFlightReads:  snap.inflight[LaneRead],
		InFlightLong:   snap.inflight[LaneLong],
		OpenStreams:    snap.inflight[LaneStream],
		PeakInFlight:   snap.peak,
	}
	st.InFlight = st.InFlightWrites + st.InFlightReads
	for _, n := range snap.waiting {
		st.Waiting += n
	}
	g.stats.fill(&st)
	return st
}

// StreamDropped counts an event stream that ended without being asked to
// (the informer reports it; a daemon restart shows here).
func (g *Governor) StreamDropped() { g.stats.streamDropped() }

// Close stops the gate's timers.
func (g *Governor) Close() { g.gate.close() }
