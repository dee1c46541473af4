package apiserver

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	genericregistry "k8s.io/apiserver/pkg/registry/generic/registry"
	"k8s.io/apiserver/pkg/registry/rest"
	"k8s.io/cri-streaming/pkg/streaming/remotecommand"
	utilexec "k8s.io/utils/exec"

	"berth.dev/berth/apis/v1alpha1"
)

// Exec sessions: an idle one (no byte either way) ends after execIdle, as
// the kubelet's streaming server does; the client must open its streams
// within execStreamCreation of the upgrade.
const (
	execIdle           = 4 * time.Hour
	execStreamCreation = remotecommand.DefaultStreamCreationTimeout
)

// execREST serves environments/NAME/exec: the Kubernetes remotecommand
// protocol (SPDY, channel.k8s.io v1 to v4, and its websocket form), so
// client-go's remotecommand executors and kubectl's exec code work against
// it unchanged. The protocol is the kubelet's own implementation
// (k8s.io/cri-streaming); berth supplies the executor.
type execREST struct {
	store    *genericregistry.Store
	source   ContainerSource
	lifetime context.Context
}

var _ rest.Connecter = &execREST{}

func (r *execREST) New() runtime.Object { return &v1alpha1.Environment{} }

// Destroy is a no-op: the main resource's store owns the shared storage.
func (r *execREST) Destroy() {}

func (r *execREST) NewConnectOptions() (runtime.Object, bool, string) {
	return &EnvironmentExecOptions{}, false, ""
}

// ConnectMethods: client-go's executors POST; GET is what a browser's
// websocket sends.
func (r *execREST) ConnectMethods() []string { return []string{http.MethodGet, http.MethodPost} }

// Connect checks everything that can fail with a plain HTTP status (the
// options, the Environment, the service) before the connection is
// upgraded; what fails after (no container, not owned) reaches the client
// on the protocol's error stream.
func (r *execREST) Connect(ctx context.Context, name string, options runtime.Object, _ rest.Responder) (http.Handler, error) {
	opts, ok := options.(*EnvironmentExecOptions)
	if !ok {
		return nil, apierrors.NewBadRequest(fmt.Sprintf("invalid options object: %T", options))
	}
	if errs := validateExecOptions(opts); len(errs) > 0 {
		return nil, apierrors.NewInvalid(v1alpha1.SchemeGroupVersion.WithKind("EnvironmentExecOptions").GroupKind(), name, errs)
	}
	if r.source == nil {
		return nil, apierrors.NewServiceUnavailable("this server has no container source (no Docker layer)")
	}
	env, target, err := resolveTarget(ctx, r.store, name, opts.Service, opts.Replica)
	if err != nil {
		return nil, err
	}
	streamOpts := &remotecommand.Options{Stdin: opts.Stdin, Stdout: opts.Stdout, Stderr: opts.Stderr, TTY: opts.TTY}
	exec := &executor{source: r.source, target: target, env: env}
	return http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		// The session ends with the server too: a hijacked connection is
		// not something http.Server's shutdown waits for or closes.
		ctx, cancel := context.WithCancel(req.Context())
		defer cancel()
		if r.lifetime != nil {
			defer context.AfterFunc(r.lifetime, cancel)()
		}
		remotecommand.ServeExec(&hangupWriter{ResponseWriter: w, hangup: cancel}, req.WithContext(ctx), exec, name, "", target.Service, opts.Command, streamOpts,
			execIdle, execStreamCreation, remotecommand.SupportedStreamingProtocols)
	}), nil
}

// executor adapts ContainerSource to the protocol library's Executor.
type executor struct {
	source ContainerSource
	target Target
	env    *v1alpha1.Environment
}

func (e *executor) ExecInContainer(ctx context.Context, _, _, _ string, cmd []string, in io.Reader, out, errw io.WriteCloser, tty bool, resize <-chan remotecommand.TerminalSize, _ time.Duration) error {
	req := ExecRequest{Command: cmd, TTY: tty}
	// Typed nils would look attached: set only the streams that are.
	if in != nil {
		req.Stdin = in
	}
	if out != nil {
		req.Stdout = out
	}
	if errw != nil {
		req.Stderr = errw
	}
	if resize != nil {
		sizes := make(chan TerminalSize)
		req.Resize = sizes
		go func() {
			defer close(sizes)
			for {
				select {
				case <-ctx.Done():
					return
				case sz, ok := <-resize:
					if !ok {
						return
					}
					select {
					case sizes <- TerminalSize{Width: sz.Width, Height: sz.Height}:
					case <-ctx.Done():
						return
					}
				}
			}
		}()
	}
	code, err := e.source.Exec(ctx, e.target, req)
	if ctx.Err() != nil {
		// The client hung up or the server is stopping: there is no one
		// to tell, and it is not an error worth logging.
		return nil
	}
	if err != nil {
		return errors.New(describeSourceError(e.env, e.target.Service, err))
	}
	if code != 0 {
		// The library reports an exited command's code to the client as
		// the protocol's NonZeroExitCode status.
		return utilexec.CodeExitError{Err: fmt.Errorf("command exited with code %d", code), Code: code}
	}
	return nil
}

// describeSourceError words a source error once the connection is
// upgraded, where only a message can travel.
func describeSourceError(env *v1alpha1.Environment, service string, err error) string {
	var st apierrors.APIStatus
	if errors.As(err, &st) {
		return st.Status().Message
	}
	return sourceStatus(env, service, err).(apierrors.APIStatus).Status().Message
}

// sourceStatus is the HTTP status for a source error: the source's own
// when it chose one, a 400 naming the service's state for no container, a
// 500 otherwise.
func sourceStatus(env *v1alpha1.Environment, service string, err error) error {
	var st apierrors.APIStatus
	if errors.As(err, &st) {
		return err
	}
	if errors.Is(err, ErrNoContainer) {
		msg := fmt.Sprintf("service %s of environment %s has no container yet", service, env.Name)
		for _, st := range env.Status.Services {
			if st.Name == service && st.State != "" {
				msg += " (state " + st.State
				if st.Message != "" {
					msg += ": " + st.Message
				}
				msg += ")"
			}
		}
		return &apierrors.StatusError{ErrStatus: metav1.Status{
			Status: metav1.StatusFailure, Code: http.StatusBadRequest, Reason: metav1.StatusReasonBadRequest, Message: msg,
		}}
	}
	return apierrors.NewInternalError(fmt.Errorf("service %s of environment %s: %w", service, env.Name, err))
}

// resolveTarget reads the Environment and checks the service, and the
// replica against the service's replica count.
func resolveTarget(ctx context.Context, store *genericregistry.Store, name, service string, replica *int32) (*v1alpha1.Environment, Target, error) {
	obj, err := store.Get(ctx, name, &metav1.GetOptions{})
	if err != nil {
		return nil, Target{}, err
	}
	env, ok := obj.(*v1alpha1.Environment)
	if !ok {
		return nil, Target{}, apierrors.NewInternalError(fmt.Errorf("storage returned %T for environment %q", obj, name))
	}
	if env, err = followBinding(ctx, store, env); err != nil {
		return nil, Target{}, err
	}
	svc, err := pickService(env, service)
	if err != nil {
		return nil, Target{}, err
	}
	if replica != nil {
		for _, s := range env.Spec.Services {
			if s.Name != svc {
				continue
			}
			n := int32(1)
			if s.Replicas != nil {
				n = *s.Replicas
			}
			if *replica >= n {
				return nil, Target{}, apierrors.NewBadRequest(fmt.Sprintf("replica: Invalid value: %d: service %s of environment %s has %d replica(s), numbered from 0",
					*replica, svc, env.Name, n))
			}
		}
	}
	return env, Target{Environment: env.Name, Service: svc, Replica: replica}, nil
}
