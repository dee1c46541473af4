package apiserver

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-logr/logr"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apiserver/pkg/endpoints/request"
	"k8s.io/client-go/rest"

	"berth.dev/berth/apis/v1alpha1"
	"berth.dev/berth/client/clientset/versioned"
)

// scriptedLogs stands in for the Docker layer at the LogSource boundary, so
// these tests can see what the server asked for and when the server let go
// of a stream. The Docker side is covered by test/e2e against real
// containers.
type scriptedLogs struct {
	mu    sync.Mutex
	calls []LogOptions
	// ended receives the service of every Logs call that returned.
	ended chan string
}

func (s *scriptedLogs) Logs(ctx context.Context, env, service string, opts LogOptions, w io.Writer) error {
	s.mu.Lock()
	s.calls = append(s.calls, opts)
	s.mu.Unlock()
	defer func() { s.ended <- service }()
	switch service {
	case "pending":
		return ErrNoContainer
	case "broken":
		return errors.New("daemon said no")
	case "busy":
		return apierrors.NewTooManyRequests("too many log streams", 1)
	}
	for i := 1; i <= 3; i++ {
		if _, err := fmt.Fprintf(w, "%s/%s line %d\n", env, service, i); err != nil {
			return err
		}
	}
	if !opts.Follow {
		return nil
	}
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	for i := 4; ; i++ {
		select {
		case <-ctx.Done():
			return nil
		case <-tick.C:
			if _, err := fmt.Fprintf(w, "%s/%s line %d\n", env, service, i); err != nil {
				return err
			}
		}
	}
}

func (s *scriptedLogs) lastCall(t *testing.T) LogOptions {
	t.Helper()
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.calls) == 0 {
		t.Fatal("the log source was never called")
	}
	return s.calls[len(s.calls)-1]
}

// waitEnded waits for the source to return for service.
func (s *scriptedLogs) waitEnded(t *testing.T, service string) {
	t.Helper()
	deadline := time.After(5 * time.Second)
	for {
		select {
		case got := <-s.ended:
			if got == service {
				return
			}
		case <-deadline:
			t.Fatalf("the log source for %s still runs 5s after the stream should have ended", service)
		}
	}
}

type logServer struct {
	source *scriptedLogs
	rest   rest.Interface
	cancel context.CancelFunc
	done   chan error
}

// startLogServer runs a real API server (embedded etcd included) with the
// scripted source, and creates two Environments: one with a single service
// "web", one with several.
func startLogServer(t *testing.T) *logServer {
	t.Helper()
	src := &scriptedLogs{ended: make(chan string, 64)}
	ctx, cancel := context.WithCancel(context.Background())
	s, err := New(ctx, Options{DataDir: t.TempDir(), ListenAddress: "127.0.0.1:0", Logs: src, Log: logr.Discard()})
	if err != nil {
		cancel()
		t.Fatalf("New: %v", err)
	}
	ls := &logServer{source: src, cancel: cancel, done: make(chan error, 1)}
	ready := make(chan struct{})
	go func() { ls.done <- s.Run(ctx, func() { close(ready) }) }()
	t.Cleanup(func() {
		cancel()
		<-ls.done
	})
	select {
	case <-ready:
	case err := <-ls.done:
		t.Fatalf("Run: %v", err)
	case <-time.After(60 * time.Second):
		t.Fatal("API server not ready in 60s")
	}
	cs, err := versioned.NewForConfig(s.RESTConfig())
	if err != nil {
		t.Fatal(err)
	}
	ls.rest = cs.BerthV1alpha1().RESTClient()
	for name, services := range map[string][]string{"one": {"web"}, "many": {"web", "pending", "broken", "busy"}} {
		env := &v1alpha1.Environment{ObjectMeta: metav1.ObjectMeta{Name: name}}
		for _, svc := range services {
			env.Spec.Services = append(env.Spec.Services, v1alpha1.Service{Name: svc, Image: "berth-testapp:dev"})
		}
		if _, err := cs.BerthV1alpha1().Environments().Create(ctx, env, metav1.CreateOptions{}); err != nil {
			t.Fatalf("create %s: %v", name, err)
		}
	}
	return ls
}

func (ls *logServer) get(ctx context.Context, env string, params map[string]string) (io.ReadCloser, error) {
	req := ls.rest.Get().Resource("environments").Name(env).SubResource("log")
	for k, v := range params {
		req = req.Param(k, v)
	}
	return req.Stream(ctx)
}

func TestLogSubresource(t *testing.T) {
	ls := startLogServer(t)
	ctx := context.Background()

	t.Run("passes the query to the source and returns its output", func(t *testing.T) {
		body, err := ls.get(ctx, "many", map[string]string{"service": "web", "tailLines": "2", "timestamps": "true", "sinceSeconds": "60"})
		if err != nil {
			t.Fatal(err)
		}
		defer body.Close()
		out, err := io.ReadAll(body)
		if err != nil {
			t.Fatal(err)
		}
		if want := "many/web line 1\nmany/web line 2\nmany/web line 3\n"; string(out) != want {
			t.Errorf("body = %q, want %q", out, want)
		}
		got := ls.source.lastCall(t)
		if got.Follow || got.TailLines != 2 || !got.Timestamps {
			t.Errorf("source options = %+v, want tail 2, timestamps, no follow", got)
		}
		if age := time.Since(got.Since); age < 59*time.Second || age > 70*time.Second {
			t.Errorf("since is %s ago, want about 60s", age)
		}
	})

	t.Run("defaults: the most lines, and the only service", func(t *testing.T) {
		body, err := ls.get(ctx, "one", nil)
		if err != nil {
			t.Fatal(err)
		}
		out, _ := io.ReadAll(body)
		body.Close()
		if !strings.HasPrefix(string(out), "one/web line 1\n") {
			t.Errorf("body = %q", out)
		}
		if got := ls.source.lastCall(t); got.TailLines != MaxTailLines || !got.Since.IsZero() {
			t.Errorf("source options = %+v, want the last %d lines, never the whole log", got, MaxTailLines)
		}
	})

	errorCases := []struct {
		name, env string
		params    map[string]string
		check     func(error) bool
		message   string
	}{
		{"unknown environment", "nope", map[string]string{"service": "web"}, apierrors.IsNotFound, `"nope" not found`},
		{"unknown service", "many", map[string]string{"service": "x"}, apierrors.IsNotFound, "environment many has no service x (services: web, pending, broken, busy)"},
		{"no service named with several", "many", nil, apierrors.IsBadRequest, "environment many has 4 services"},
		{"no container yet", "many", map[string]string{"service": "pending"}, apierrors.IsBadRequest, "service pending of environment many has no container yet"},
		{"source fails before output", "many", map[string]string{"service": "broken"}, apierrors.IsInternalError, "daemon said no"},
		{"negative tail", "one", map[string]string{"tailLines": "-3"}, apierrors.IsBadRequest, "tailLines"},
		{"tail not a number", "one", map[string]string{"tailLines": "x"}, apierrors.IsBadRequest, "tailLines"},
		{"tail above the most", "one", map[string]string{"tailLines": "10001"}, apierrors.IsBadRequest, "tailLines: Invalid value: 10001: must be from 0 to 10000"},
		{"source chose its status", "many", map[string]string{"service": "busy"}, apierrors.IsTooManyRequests, "too many log streams"},
		{"since zero", "one", map[string]string{"sinceSeconds": "0"}, apierrors.IsBadRequest, "sinceSeconds"},
	}
	for _, tc := range errorCases {
		t.Run(tc.name, func(t *testing.T) {
			body, err := ls.get(ctx, tc.env, tc.params)
			if err == nil {
				out, _ := io.ReadAll(body)
				body.Close()
				t.Fatalf("got a stream (%q), want an error", out)
			}
			if !tc.check(err) || !strings.Contains(err.Error(), tc.message) {
				t.Errorf("error = %v (%T), want one containing %q", err, err, tc.message)
			}
		})
	}

	t.Run("follow streams lines as written and stops the source on disconnect", func(t *testing.T) {
		reqCtx, cancel := context.WithCancel(ctx)
		defer cancel()
		body, err := ls.get(reqCtx, "one", map[string]string{"follow": "true"})
		if err != nil {
			t.Fatal(err)
		}
		defer body.Close()
		lines := bufio.NewScanner(body)
		// Lines past the first three are written every 20ms: reading them
		// proves each write is flushed, not buffered until the end.
		deadline := time.Now().Add(10 * time.Second)
		for i := 1; i <= 8; i++ {
			if !lines.Scan() {
				t.Fatalf("stream ended after %d lines: %v", i-1, lines.Err())
			}
			if want := fmt.Sprintf("one/web line %d", i); lines.Text() != want {
				t.Fatalf("line %d = %q, want %q", i, lines.Text(), want)
			}
			if time.Now().After(deadline) {
				t.Fatal("lines arrive too slowly")
			}
		}
		if !ls.source.lastCall(t).Follow {
			t.Error("source not asked to follow")
		}
		cancel()
		ls.source.waitEnded(t, "web")
	})
}

// TestLogStreamsEndOnShutdown checks an open follow stream does not hold the
// server's shutdown until its timeout.
func TestLogStreamsEndOnShutdown(t *testing.T) {
	ls := startLogServer(t)
	body, err := ls.get(context.Background(), "one", map[string]string{"follow": "true"})
	if err != nil {
		t.Fatal(err)
	}
	defer body.Close()
	if _, err := bufio.NewReader(body).ReadString('\n'); err != nil {
		t.Fatal(err)
	}
	started := time.Now()
	ls.cancel()
	select {
	case err := <-ls.done:
		if err != nil {
			t.Errorf("Run: %v", err)
		}
		ls.done <- err // for the cleanup
	case <-time.After(20 * time.Second):
		t.Fatal("server did not stop within 20s with a follow stream open")
	}
	ls.source.waitEnded(t, "web")
	t.Logf("shutdown with an open follow stream took %s", time.Since(started).Round(time.Millisecond))
}

func TestLogRequestsAreLongRunning(t *testing.T) {
	req := httptest.NewRequest(http.MethodGet, "/apis/berth.dev/v1alpha1/environments/demo/log?follow=true", nil)
	info := &request.RequestInfo{IsResourceRequest: true, Verb: "get", APIGroup: v1alpha1.GroupName,
		Resource: v1alpha1.EnvironmentsResource, Subresource: "log", Name: "demo"}
	if !longRunning(req, info) {
		t.Error("a log request is not long-running: it would be cut at the request timeout and count against in-flight limits")
	}
	info.Subresource = "status"
	if longRunning(req, info) {
		t.Error("a status GET is long-running: it would escape the request timeout")
	}
}
