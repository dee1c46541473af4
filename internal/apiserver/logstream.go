package apiserver

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"sync"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apiserver/pkg/registry/rest"

	"berth.dev/berth/apis/v1alpha1"
)

// logStream is what logREST.Get returns: the generic handler sees a
// rest.ResourceStreamer and copies InputStream to the client, flushing
// every write so lines arrive as the container prints them.
type logStream struct {
	env      *v1alpha1.Environment
	service  string
	opts     LogOptions
	source   LogSource
	lifetime context.Context
}

var _ rest.ResourceStreamer = &logStream{}

// GetObjectKind: a stream has no kind; it is never encoded.
func (s *logStream) GetObjectKind() schema.ObjectKind { return schema.EmptyObjectKind }

// DeepCopyObject copies the request, not a stream: nothing has started
// before InputStream.
func (s *logStream) DeepCopyObject() runtime.Object {
	c := *s
	c.env = s.env.DeepCopy()
	return &c
}

// InputStream starts the source writing into a pipe and returns once the
// first bytes are written or the source has ended. Waiting for one of the
// two lets an error that happens before any output (the container is gone,
// Docker does not answer) reach the client as a status rather than as an
// empty 200; a silent follow stream just sends its headers with its first
// line.
func (s *logStream) InputStream(ctx context.Context, _, _ string) (io.ReadCloser, bool, string, error) {
	if s.source == nil {
		return nil, false, "", apierrors.NewServiceUnavailable("this server has no log source (no Docker layer)")
	}
	ctx, cancelCtx := context.WithCancel(ctx)
	cancel := cancelCtx
	if s.lifetime != nil {
		stop := context.AfterFunc(s.lifetime, cancelCtx)
		cancel = func() { stop(); cancelCtx() }
	}
	pr, pw := io.Pipe()
	w := &firstWrite{w: pw, started: make(chan struct{})}
	ended := make(chan error, 1)
	go func() {
		// The source ends when ctx does (the client left, the server stops)
		// or when the reader is closed (its next write fails).
		err := s.source.Logs(ctx, s.env.Name, s.service, s.opts, w)
		pw.CloseWithError(err)
		cancel()
		ended <- err
	}()
	select {
	case <-w.started:
	case err := <-ended:
		if err != nil && !w.hasStarted() {
			pr.Close()
			return nil, false, "", s.statusFor(err)
		}
	}
	return &cancelOnClose{ReadCloser: pr, cancel: cancel}, true, "text/plain; charset=utf-8", nil
}

// statusFor words a source error for the client. A source that already
// chose a status (too many streams, a container berth does not own) keeps
// it.
func (s *logStream) statusFor(err error) error {
	var st apierrors.APIStatus
	if errors.As(err, &st) {
		return err
	}
	if errors.Is(err, ErrNoContainer) {
		msg := fmt.Sprintf("service %s of environment %s has no container yet", s.service, s.env.Name)
		for _, st := range s.env.Status.Services {
			if st.Name == s.service && st.State != "" {
				msg += " (state " + st.State
				if st.Message != "" {
					msg += ": " + st.Message
				}
				msg += ")"
			}
		}
		return &apierrors.StatusError{ErrStatus: metav1.Status{
			Status:  metav1.StatusFailure,
			Code:    http.StatusBadRequest,
			Reason:  metav1.StatusReasonBadRequest,
			Message: msg,
		}}
	}
	return apierrors.NewInternalError(fmt.Errorf("logs of service %s of environment %s: %w", s.service, s.env.Name, err))
}

// firstWrite passes writes through and marks the first one.
type firstWrite struct {
	w       io.Writer
	once    sync.Once
	started chan struct{}
}

func (f *firstWrite) Write(p []byte) (int, error) {
	if len(p) > 0 {
		f.once.Do(func() { close(f.started) })
	}
	return f.w.Write(p)
}

func (f *firstWrite) hasStarted() bool {
	select {
	case <-f.started:
		return true
	default:
		return false
	}
}

// cancelOnClose stops the source when the handler is done with the stream,
// whatever ended it.
type cancelOnClose struct {
	io.ReadCloser
	cancel func()
}

func (c *cancelOnClose) Close() error {
	c.cancel()
	return c.ReadCloser.Close()
}
