package docker

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"

	"berth.dev/berth/internal/governor"
)

func testGovernor(t *testing.T, reg prometheus.Registerer) *governor.Governor {
	t.Helper()
	g, err := governor.New(governor.Config{Profile: governor.ProfileCI, Classify: classifyCall, Registerer: reg,
		RetryBackoff: []time.Duration{time.Millisecond, 2 * time.Millisecond, 4 * time.Millisecond}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(g.Close)
	return g
}

func TestRetryTransientThenGiveUp(t *testing.T) {
	g := testGovernor(t, nil)
	var attempts atomic.Int32
	err := g.Do(context.Background(), governor.Call{Op: "container_start", Lane: governor.LaneWrite, Idempotent: true}, func(ctx context.Context, _ int) error {
		attempts.Add(1)
		return statusErr(500)
	})
	if !IsUnavailable(err) {
		t.Fatalf("err = %v, want Unavailable", err)
	}
	if attempts.Load() != 4 {
		t.Fatalf("%d attempts, want 1 + 3 retries", attempts.Load())
	}
	if st := g.Stats(); st.Retries != 3 || st.ByOp["container_start"].Results[governor.ResultTransient] != 4 {
		t.Fatalf("stats %+v", st.ByOp["container_start"])
	}
}

func TestNoRetryOnClientErrors(t *testing.T) {
	g := testGovernor(t, nil)
	for code, is := range map[int]func(error) bool{404: IsNotFound, 409: IsConflict, 400: IsInvalid, 403: IsForbidden} {
		var attempts int
		err := g.Do(context.Background(), governor.Call{Op: "x", Lane: governor.LaneRead, Idempotent: true}, func(ctx context.Context, _ int) error {
			attempts++
			return statusErr(code)
		})
		if !is(err) || attempts != 1 {
			t.Errorf("%d: err %v after %d attempts, want its typed error at once", code, err, attempts)
		}
	}
}

func TestNonIdempotentNeverBlindlyRetried(t *testing.T) {
	g := testGovernor(t, nil)
	var attempts int
	err := g.Do(context.Background(), governor.Call{Op: "container_create", Lane: governor.LaneWrite}, func(ctx context.Context, _ int) error {
		attempts++
		return io.ErrUnexpectedEOF
	})
	if attempts != 1 || !IsUnavailable(err) {
		t.Fatalf("non-idempotent call without a lookup: %d attempts, %v", attempts, err)
	}
}

func TestRecoverAdoptsBeforeRetry(t *testing.T) {
	g := testGovernor(t, nil)
	var attempts, lookups int
	err := g.Do(context.Background(), governor.Call{Op: "container_create", Lane: governor.LaneWrite,
		Recover: func(ctx context.Context) (bool, error) { lookups++; return true, nil },
	}, func(ctx context.Context, _ int) error {
		attempts++
		// The daemon created it, the answer was lost.
		return fmt.Errorf("error during connect: %w", io.EOF)
	})
	if err != nil || attempts != 1 || lookups != 1 {
		t.Fatalf("err %v, %d attempts, %d lookups; want adoption after one attempt", err, attempts, lookups)
	}
	// Not found by the lookup: the create is sent again.
	attempts, lookups = 0, 0
	err = g.Do(context.Background(), governor.Call{Op: "container_create", Lane: governor.LaneWrite,
		Recover: func(ctx context.Context) (bool, error) { lookups++; return false, nil },
	}, func(ctx context.Context, attempt int) error {
		attempts++
		if attempt == 0 {
			return statusErr(503)
		}
		return nil
	})
	if err != nil || attempts != 2 || lookups != 1 {
		t.Fatalf("err %v, %d attempts, %d lookups; want lookup then a second create", err, attempts, lookups)
	}
	// A lookup that fails transiently never leads to a blind resend.
	attempts, lookups = 0, 0
	err = g.Do(context.Background(), governor.Call{Op: "network_create", Lane: governor.LaneWrite,
		Recover: func(ctx context.Context) (bool, error) {
			lookups++
			return false, &Error{Op: "network_list", Kind: ErrUnavailable, Err: io.EOF}
		},
	}, func(ctx context.Context, _ int) error {
		attempts++
		return io.EOF
	})
	if !IsUnavailable(err) || attempts != 1 || lookups != 3 {
		t.Fatalf("err %v, %d attempts, %d lookups; want one send and only lookups after it", err, attempts, lookups)
	}
	// A lookup that finds a foreign object ends it with that error.
	err = g.Do(context.Background(), governor.Call{Op: "container_create", Lane: governor.LaneWrite,
		Recover: func(ctx context.Context) (bool, error) {
			return false, &Error{Op: "x", Kind: ErrNotOwned, Err: errors.New("foreign")}
		},
	}, func(ctx context.Context, _ int) error { return io.EOF })
	if !IsNotOwned(err) {
		t.Fatalf("err %v, want NotOwned from the lookup", err)
	}
}

func TestRetryWaitRespectsContext(t *testing.T) {
	g, err := governor.New(governor.Config{Profile: governor.ProfileCI, Classify: classifyCall, RetryBackoff: []time.Duration{time.Hour}})
	if err != nil {
		t.Fatal(err)
	}
	defer g.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	done := make(chan error, 1)
	go func() {
		done <- g.Do(ctx, governor.Call{Op: "x", Lane: governor.LaneRead, Idempotent: true}, func(ctx context.Context, _ int) error { return statusErr(500) })
	}()
	select {
	case err := <-done:
		if !IsUnavailable(err) {
			t.Fatalf("err %v", err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("retry backoff ignored the caller's context")
	}
}

func TestPerAttemptTimeoutIsTransient(t *testing.T) {
	g := testGovernor(t, nil)
	var attempts int
	err := g.Do(context.Background(), governor.Call{Op: "x", Lane: governor.LaneRead, Idempotent: true, Timeout: 5 * time.Millisecond}, func(ctx context.Context, _ int) error {
		attempts++
		<-ctx.Done()
		return ctx.Err()
	})
	if !IsUnavailable(err) || attempts != 4 {
		t.Fatalf("hung attempts: %v after %d attempts; want Unavailable after 4", err, attempts)
	}
}

func TestMetricsExported(t *testing.T) {
	reg := prometheus.NewPedanticRegistry()
	g := testGovernor(t, reg)
	_ = g.Do(context.Background(), governor.Call{Op: "container_inspect", Lane: governor.LaneRead, Idempotent: true}, func(ctx context.Context, _ int) error { return nil })
	_ = g.Do(context.Background(), governor.Call{Op: "container_start", Lane: governor.LaneWrite, Idempotent: true}, func(ctx context.Context, a int) error {
		if a == 0 {
			return statusErr(500)
		}
		return nil
	})
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]*dto.MetricFamily{}
	for _, mf := range mfs {
		if !strings.HasPrefix(mf.GetName(), "berth_docker_") {
			t.Errorf("metric %s lacks the berth_docker_ prefix", mf.GetName())
		}
		got[mf.GetName()] = mf
	}
	for _, name := range []string{"berth_docker_calls_total", "berth_docker_in_flight", "berth_docker_concurrency_limit",
		"berth_docker_call_duration_seconds", "berth_docker_retries_total", "berth_docker_limiter_wait_seconds"} {
		if got[name] == nil {
			t.Errorf("metric %s missing", name)
		}
	}
	var starts float64
	for _, m := range got["berth_docker_calls_total"].GetMetric() {
		labels := map[string]string{}
		for _, l := range m.GetLabel() {
			labels[l.GetName()] = l.GetValue()
		}
		if labels["operation"] == "container_start" {
			starts += m.GetCounter().GetValue()
		}
	}
	if starts != 2 {
		t.Fatalf("container_start attempts counted %v, want 2", starts)
	}
	var retries float64
	for _, m := range got["berth_docker_retries_total"].GetMetric() {
		retries += m.GetCounter().GetValue()
	}
	if retries != 1 {
		t.Fatalf("retries %v, want 1", retries)
	}
	if _, err := governor.New(governor.Config{Registerer: reg}); err == nil {
		t.Fatal("registering a second governor's metrics on the same registry should fail loudly")
	}
}

func TestUnreachableDaemonIsAnOutage(t *testing.T) {
	c, err := New(Config{Host: "unix:///nonexistent/berth/docker.sock", ManagerID: "berth-unit", RetryBackoff: []time.Duration{time.Millisecond}})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if _, err := c.Ping(ctx); !IsUnavailable(err) {
		t.Fatalf("ping of a missing socket = %v, want Unavailable", err)
	}
	st := c.Stats()
	if st.DaemonOutages != 1 || st.Retries != 1 || st.LastOutage.IsZero() {
		t.Fatalf("stats %+v, want one outage and one retry", st)
	}
	// An injected 500 is the daemon answering: not an outage.
	g := testGovernor(t, nil)
	_ = g.Do(ctx, governor.Call{Op: "x", Lane: governor.LaneRead}, func(ctx context.Context, _ int) error { return statusErr(500) })
	if g.Stats().DaemonOutages != 0 {
		t.Fatal("a 500 counted as the daemon being unreachable")
	}
}
