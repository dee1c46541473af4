package apiserver

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/validation/field"
	genericregistry "k8s.io/apiserver/pkg/registry/generic/registry"
	"k8s.io/apiserver/pkg/registry/rest"

	"berth.dev/berth/apis/v1alpha1"
)

// LogSource reads the output of the container behind a service. The API
// server has no Docker client of its own: the manager hands it one.
type LogSource interface {
	// Logs copies the output (stdout and stderr, interleaved) of the
	// service's current container to w until the log ends or, with Follow,
	// until ctx ends, which is a normal end. It returns ErrNoContainer,
	// before writing anything, when the service has no container.
	Logs(ctx context.Context, env, service string, opts LogOptions, w io.Writer) error
}

// LogOptions select the part of a log a LogSource streams.
type LogOptions struct {
	Follow bool
	// TailLines is how many lines from the end to start with, 0 to
	// MaxTailLines; 0 means none (only new lines, with Follow).
	TailLines int64
	// Since drops older lines (zero: no limit).
	Since      time.Time
	Timestamps bool
}

// MaxTailLines is the most lines from the end a log request may start
// with, and what it gets when it does not say.
const MaxTailLines = 10000

// ErrNoContainer is what a LogSource returns for a service that has no
// container (not created yet, or being replaced).
var ErrNoContainer = errors.New("no container")

// logREST serves environments/NAME/log: it checks the Environment and the
// service exist, then streams the container's output as text/plain.
type logREST struct {
	store  *genericregistry.Store
	source LogSource
	// lifetime ends when the server shuts down, so open follow streams end
	// and the HTTP server can drain instead of waiting out its timeout.
	lifetime context.Context
}

var (
	_ rest.GetterWithOptions = &logREST{}
	_ rest.StorageMetadata   = &logREST{}
)

func (r *logREST) New() runtime.Object { return &v1alpha1.Environment{} }

// Destroy is a no-op: the main resource's store owns the shared storage.
func (r *logREST) Destroy() {}

func (r *logREST) NewGetOptions() (runtime.Object, bool, string) {
	return &EnvironmentLogOptions{}, false, ""
}

// ProducesMIMETypes and ProducesObject tell the OpenAPI document that the
// answer is plain text, not an Environment.
func (r *logREST) ProducesMIMETypes(string) []string { return []string{"text/plain"} }

func (r *logREST) ProducesObject(string) interface{} { return "" }

// Get resolves everything that can fail with a clear status before any byte
// is sent, and returns a stream for the generic handler to copy.
func (r *logREST) Get(ctx context.Context, name string, options runtime.Object) (runtime.Object, error) {
	opts, ok := options.(*EnvironmentLogOptions)
	if !ok {
		return nil, apierrors.NewBadRequest(fmt.Sprintf("invalid options object: %T", options))
	}
	if errs := validateLogOptions(opts); len(errs) > 0 {
		return nil, apierrors.NewBadRequest(errs.ToAggregate().Error())
	}
	obj, err := r.store.Get(ctx, name, &metav1.GetOptions{})
	if err != nil {
		return nil, err
	}
	env, ok := obj.(*v1alpha1.Environment)
	if !ok {
		return nil, apierrors.NewInternalError(fmt.Errorf("storage returned %T for environment %q", obj, name))
	}
	if env, err = followBinding(ctx, r.store, env); err != nil {
		return nil, err
	}
	service, err := pickService(env, opts.Service)
	if err != nil {
		return nil, err
	}
	return &logStream{
		env:      env,
		service:  service,
		opts:     sourceOptions(opts, time.Now()),
		source:   r.source,
		lifetime: r.lifetime,
	}, nil
}

func validateLogOptions(opts *EnvironmentLogOptions) field.ErrorList {
	var errs field.ErrorList
	if opts.TailLines != nil && (*opts.TailLines < 0 || *opts.TailLines > MaxTailLines) {
		errs = append(errs, field.Invalid(field.NewPath("tailLines"), *opts.TailLines, fmt.Sprintf("must be from 0 to %d", MaxTailLines)))
	}
	if opts.SinceSeconds != nil && *opts.SinceSeconds < 1 {
		errs = append(errs, field.Invalid(field.NewPath("sinceSeconds"), *opts.SinceSeconds, "must be 1 or more"))
	}
	return errs
}

// pickService checks the service is in the spec; an empty name picks the
// only service, as kubectl logs picks a pod's only container.
func pickService(env *v1alpha1.Environment, name string) (string, error) {
	var names []string
	for _, s := range env.Spec.Services {
		names = append(names, s.Name)
	}
	if name == "" {
		if len(names) == 1 {
			return names[0], nil
		}
		return "", apierrors.NewBadRequest(fmt.Sprintf("environment %s has %d services (%s): name the one to read",
			env.Name, len(names), strings.Join(names, ", ")))
	}
	if !slices.Contains(names, name) {
		return "", notFound(fmt.Sprintf("environment %s has no service %s (services: %s)",
			env.Name, name, strings.Join(names, ", ")))
	}
	return name, nil
}

// notFound is a 404 with berth's own message; apierrors.NewNotFound would
// word it as a missing API object.
func notFound(msg string) error {
	return &apierrors.StatusError{ErrStatus: metav1.Status{
		Status:  metav1.StatusFailure,
		Code:    http.StatusNotFound,
		Reason:  metav1.StatusReasonNotFound,
		Message: msg,
	}}
}

func sourceOptions(opts *EnvironmentLogOptions, now time.Time) LogOptions {
	o := LogOptions{Follow: opts.Follow, TailLines: MaxTailLines, Timestamps: opts.Timestamps}
	if opts.TailLines != nil {
		o.TailLines = *opts.TailLines
	}
	if opts.SinceSeconds != nil {
		o.Since = now.Add(-time.Duration(*opts.SinceSeconds) * time.Second)
	}
	return o
}
