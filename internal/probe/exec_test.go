package probe

import (
	"context"
	"errors"
	"reflect"
	"testing"
	"time"

	v1 "berth.dev/berth/apis/v1alpha1"
)

func execProbe(cmd ...string) *v1.Probe {
	return &v1.Probe{Exec: &v1.ExecAction{Command: cmd}, TimeoutSeconds: 3, PeriodSeconds: 2, SuccessThreshold: 1, FailureThreshold: 3}
}

func TestExec(t *testing.T) {
	cases := []struct {
		name string
		res  ExecResult
		err  error
		ok   bool
		msg  string
	}{
		{"exit 0", ExecResult{ExitCode: 0, Output: "testapp check: ok\n"}, nil, true, ""},
		{"exit 1", ExecResult{ExitCode: 1, Output: "\ntestapp check: GET http://127.0.0.1:8080/healthz: status 503\nmore\n"}, nil,
			false, "exec probe failed with exit code 1: testapp check: GET http://127.0.0.1:8080/healthz: status 503"},
		{"exit 2 silent", ExecResult{ExitCode: 2}, nil, false, "exec probe failed with exit code 2"},
		{"timed out", ExecResult{ExitCode: -1, TimedOut: true}, nil, false, "exec probe timed out after 3s"},
		{"error", ExecResult{}, errors.New("exec in abc: container is not running"), false, "exec probe: exec in abc: container is not running"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var gotID string
			var gotCmd []string
			var gotTimeout time.Duration
			ex := ExecFunc(func(ctx context.Context, id string, cmd []string, timeout time.Duration) (ExecResult, error) {
				gotID, gotCmd, gotTimeout = id, cmd, timeout
				return c.res, c.err
			})
			r := Run(context.Background(), execProbe("/testapp", "check", "--file", "/tmp/ready"), Target{ContainerID: "abc", Execer: ex})
			if r.Success != c.ok || r.Message != c.msg {
				t.Errorf("got %+v, want success=%v message %q", r, c.ok, c.msg)
			}
			if gotID != "abc" || !reflect.DeepEqual(gotCmd, []string{"/testapp", "check", "--file", "/tmp/ready"}) || gotTimeout != 3*time.Second {
				t.Errorf("Exec(%q, %q, %s), want abc, the probe's command, 3s", gotID, gotCmd, gotTimeout)
			}
		})
	}
}

func TestExecWithoutExecerOrContainer(t *testing.T) {
	ok := ExecFunc(func(context.Context, string, []string, time.Duration) (ExecResult, error) { return ExecResult{}, nil })
	if r := Run(context.Background(), execProbe("true"), Target{ContainerID: "abc"}); r.Success {
		t.Errorf("no Execer: %+v, want failure", r)
	}
	if r := Run(context.Background(), execProbe("true"), Target{Execer: ok}); r.Success {
		t.Errorf("no container: %+v, want failure", r)
	}
	if r := Run(context.Background(), execProbe(), Target{ContainerID: "abc", Execer: ok}); r.Success {
		t.Errorf("no command: %+v, want failure", r)
	}
	if r := Run(context.Background(), &v1.Probe{}, Target{ContainerID: "abc", Execer: ok}); r.Success {
		t.Errorf("no handler: %+v, want failure", r)
	}
	if r := Run(context.Background(), nil, Target{}); r.Success {
		t.Errorf("nil probe: %+v, want failure", r)
	}
}

func TestType(t *testing.T) {
	for want, p := range map[string]*v1.Probe{
		TypeExec:  execProbe("x"),
		TypeHTTP:  {HTTPGet: &v1.HTTPGetAction{}},
		TypeTCP:   {TCPSocket: &v1.TCPSocketAction{}},
		"unknown": {},
	} {
		if got := Type(p); got != want {
			t.Errorf("Type(%+v) = %s, want %s", p, got, want)
		}
	}
}
