package governor

import (
	"context"
	"errors"
	"testing"
	"time"
)

var errDial = errors.New("dial: connection refused")

// fakeClassify stands in for a real client's classifier: errDial is the
// daemon being unreachable, everything else is final.
func fakeClassify(ctx context.Context, err error) Class {
	if errors.Is(err, errDial) {
		return Class{Result: ResultTransient, Unreachable: true}
	}
	return DefaultClassify(ctx, err)
}

func unitGovernor(t *testing.T, classify Classifier) *Governor {
	t.Helper()
	g, err := New(Config{Profile: ProfileCI, Classify: classify,
		RetryBackoff: []time.Duration{time.Millisecond, time.Millisecond}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(g.Close)
	return g
}

// TestClassifierDrivesRetriesAndOutages: what the classifier calls
// transient is retried and ends as ErrUnavailable (a Kind it did not name
// is filled in), what it calls unreachable is one outage however many
// attempts failed, and what it calls final is returned at once.
func TestClassifierDrivesRetriesAndOutages(t *testing.T) {
	g := unitGovernor(t, fakeClassify)
	attempts := 0
	err := g.Do(context.Background(), Call{Op: "ping", Lane: LaneRead, Idempotent: true}, func(context.Context, int) error {
		attempts++
		return errDial
	})
	var e *Error
	if !errors.Is(err, ErrUnavailable) || !errors.As(err, &e) || e.Op != "ping" || attempts != 3 {
		t.Fatalf("err %v after %d attempts; want ErrUnavailable from op ping after 1 + 2 retries", err, attempts)
	}
	if st := g.Stats(); st.DaemonOutages != 1 || st.Retries != 2 || st.ByOp["ping"].Results[ResultTransient] != 3 {
		t.Fatalf("stats %+v %+v; want one outage, two retries, three transient attempts", st, st.ByOp["ping"])
	}
	final := errors.New("bad request")
	attempts = 0
	err = g.Do(context.Background(), Call{Op: "x", Lane: LaneWrite, Idempotent: true}, func(context.Context, int) error {
		attempts++
		return final
	})
	if !errors.Is(err, final) || errors.Is(err, ErrUnavailable) || attempts != 1 {
		t.Fatalf("final error: %v after %d attempts", err, attempts)
	}
}

// TestDefaultClassifyKnowsOnlyContexts: without a client's classifier,
// only the governor's own per-attempt timeout is transient.
func TestDefaultClassifyKnowsOnlyContexts(t *testing.T) {
	live := context.Background()
	done, cancel := context.WithCancel(live)
	cancel()
	for _, c := range []struct {
		ctx  context.Context
		err  error
		want string
	}{
		{live, nil, ResultOK},
		{live, context.DeadlineExceeded, ResultTransient},
		{done, context.Canceled, ResultCanceled},
		{live, errors.New("x"), ResultOther},
	} {
		if got := DefaultClassify(c.ctx, c.err).Result; got != c.want {
			t.Errorf("DefaultClassify(%v) = %s, want %s", c.err, got, c.want)
		}
	}
}
