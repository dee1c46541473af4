package session

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strconv"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/watch"
	"k8s.io/client-go/tools/cache"
	watchtools "k8s.io/client-go/tools/watch"

	"berth.dev/berth/apis/v1alpha1"
)

// CreateOptions say how Create names the Environment.
type CreateOptions struct {
	// Name is the Environment's name. "" gives a unique one: the spec's
	// metadata.name (or NameBase) plus a random suffix the server picks,
	// so parallel runs of one file never share an Environment.
	Name string
	// NameBase is used for the unique name when the spec has no
	// metadata.name (a file's name, say).
	NameBase string
	// Labels are added to the Environment's own.
	Labels map[string]string
}

// Env is one Environment created by this session.
type Env struct {
	client *Client
	// Name is the Environment's name, as created.
	Name string
	// Last is the latest copy seen (after Create, or during WaitReady).
	Last *v1alpha1.Environment
}

// Create creates env (a copy of it) and returns a handle. It never updates
// an existing Environment: a name that is taken is an error, so a run can
// never tear down something it did not create.
func (c *Client) Create(ctx context.Context, env *v1alpha1.Environment, o CreateOptions) (*Env, error) {
	obj := env.DeepCopy()
	obj.ResourceVersion, obj.UID, obj.Generation = "", "", 0
	obj.CreationTimestamp, obj.DeletionTimestamp = metav1.Time{}, nil
	obj.Status = v1alpha1.EnvironmentStatus{}
	if obj.APIVersion == "" {
		obj.APIVersion, obj.Kind = v1alpha1.SchemeGroupVersion.String(), "Environment"
	}
	if o.Name != "" {
		obj.Name, obj.GenerateName = o.Name, ""
	} else {
		base := obj.Name
		if base == "" {
			base = obj.GenerateName
		}
		if base == "" {
			base = o.NameBase
		}
		obj.Name, obj.GenerateName = "", NamePrefix(base)
	}
	if len(o.Labels) > 0 {
		if obj.Labels == nil {
			obj.Labels = map[string]string{}
		}
		for k, v := range o.Labels {
			obj.Labels[k] = v
		}
	}
	got, err := c.Clientset.BerthV1alpha1().Environments().Create(ctx, obj, metav1.CreateOptions{FieldManager: "berth-run"})
	if err != nil {
		if apierrors.IsAlreadyExists(err) {
			return nil, fmt.Errorf("create Environment %s: it already exists (pick another --name, or leave the name out for a unique one): %w", obj.Name, err)
		}
		name := obj.Name
		if name == "" {
			name = obj.GenerateName + "…"
		}
		return nil, fmt.Errorf("create Environment %s: %w", name, err)
	}
	return &Env{client: c, Name: got.Name, Last: got}, nil
}

// Attach returns a handle on an existing Environment (for logs, endpoints
// and teardown), without creating anything.
func (c *Client) Attach(ctx context.Context, name string) (*Env, error) {
	got, err := c.Clientset.BerthV1alpha1().Environments().Get(ctx, name, metav1.GetOptions{})
	if err != nil {
		return nil, fmt.Errorf("get Environment %s: %w", name, err)
	}
	return &Env{client: c, Name: name, Last: got}, nil
}

// Client is the connection the Environment was created through.
func (e *Env) Client() *Client { return e.client }

// WaitError is why WaitReady gave up: the last progress seen says what it
// was waiting on.
type WaitError struct {
	Name     string
	Outcome  Outcome
	Progress Progress
	// Err is the context's error on a timeout or cancel, nil otherwise.
	Err error
}

func (e *WaitError) Error() string {
	switch {
	case e.Outcome == Failed:
		return fmt.Sprintf("Environment %s failed: %s", e.Name, e.Progress)
	case e.Outcome == Gone:
		return fmt.Sprintf("Environment %s was deleted while waiting for it to become Ready", e.Name)
	case errors.Is(e.Err, context.DeadlineExceeded):
		return fmt.Sprintf("Environment %s not Ready in time: %s", e.Name, e.Progress)
	default:
		return fmt.Sprintf("stopped waiting for Environment %s: %s", e.Name, e.Progress)
	}
}

func (e *WaitError) Unwrap() error { return e.Err }

// WaitReady watches the Environment until it is Ready, Failed or gone, or
// ctx ends, calling progress (when not nil) with every change seen. It
// returns the Ready Environment, or a *WaitError carrying what it waited
// on. Callers bound the wait with a context deadline.
func (e *Env) WaitReady(ctx context.Context, progress func(Progress)) (*v1alpha1.Environment, error) {
	var last Progress
	var lastOutcome Outcome
	if e.Last != nil {
		last, lastOutcome = Assess(e.Last)
	}
	check := func(env *v1alpha1.Environment) (bool, error) {
		e.Last = env
		p, out := Assess(env)
		last, lastOutcome = p, out
		if progress != nil {
			progress(p)
		}
		switch out {
		case Ready:
			return true, nil
		case Failed, Gone:
			return false, &WaitError{Name: e.Name, Outcome: out, Progress: p}
		}
		return false, nil
	}
	pre := func(store cache.Store) (bool, error) {
		item, ok, err := store.GetByKey(e.Name)
		if err != nil {
			return false, err
		}
		if !ok {
			return false, &WaitError{Name: e.Name, Outcome: Gone, Progress: last}
		}
		return check(item.(*v1alpha1.Environment))
	}
	cond := func(ev watch.Event) (bool, error) {
		switch ev.Type {
		case watch.Deleted:
			return false, &WaitError{Name: e.Name, Outcome: Gone, Progress: last}
		case watch.Added, watch.Modified:
			env, ok := ev.Object.(*v1alpha1.Environment)
			if !ok {
				return false, nil
			}
			return check(env)
		}
		return false, nil
	}
	_, err := watchtools.UntilWithSync(ctx, e.listWatch(), &v1alpha1.Environment{}, pre, cond)
	if err == nil {
		return e.Last, nil
	}
	var we *WaitError
	if errors.As(err, &we) {
		return nil, we
	}
	if ctx.Err() != nil {
		return nil, &WaitError{Name: e.Name, Outcome: lastOutcome, Progress: last, Err: ctx.Err()}
	}
	return nil, fmt.Errorf("watch Environment %s: %w", e.Name, err)
}

// listWatch lists and watches this one Environment.
func (e *Env) listWatch() cache.ListerWatcher {
	sel := fields.OneTermEqualSelector("metadata.name", e.Name).String()
	envs := e.client.Clientset.BerthV1alpha1().Environments()
	return &cache.ListWatch{
		ListWithContextFunc: func(ctx context.Context, o metav1.ListOptions) (runtime.Object, error) {
			o.FieldSelector = sel
			return envs.List(ctx, o)
		},
		WatchFuncWithContext: func(ctx context.Context, o metav1.ListOptions) (watch.Interface, error) {
			o.FieldSelector = sel
			return envs.Watch(ctx, o)
		},
	}
}

// Refresh reads the Environment again.
func (e *Env) Refresh(ctx context.Context) (*v1alpha1.Environment, error) {
	got, err := e.client.Clientset.BerthV1alpha1().Environments().Get(ctx, e.Name, metav1.GetOptions{})
	if err != nil {
		return nil, fmt.Errorf("get Environment %s: %w", e.Name, err)
	}
	e.Last = got
	return got, nil
}

// Endpoints are the published ports of the last copy seen.
func (e *Env) Endpoints() []Endpoint {
	if e.Last == nil {
		return nil
	}
	return Endpoints(e.Last)
}

// Endpoint is "127.0.0.1:PORT" of service's port (name, or container port
// number) on its first replica.
func (e *Env) Endpoint(service, port string) (string, error) {
	ep, err := FindEndpoint(e.Endpoints(), service, port)
	if err != nil {
		return "", fmt.Errorf("Environment %s: %w", e.Name, err)
	}
	return ep.Address(), nil
}

// MaxTailLines is the manager's cap on a log request's tailLines.
const MaxTailLines = 10000

// Logs streams the last tail lines of service's container output (stdout
// and stderr interleaved) into w, through the manager's environments/log
// subresource. service may be "" when the Environment has one service.
func (e *Env) Logs(ctx context.Context, service string, tail int, w io.Writer) error {
	if tail < 0 || tail > MaxTailLines {
		return fmt.Errorf("logs of %s/%s: tail %d must be from 0 to %d", e.Name, service, tail, MaxTailLines)
	}
	req := e.client.Clientset.BerthV1alpha1().RESTClient().Get().
		Resource("environments").Name(e.Name).SubResource("log").
		Param("tailLines", strconv.Itoa(tail))
	if service != "" {
		req = req.Param("service", service)
	}
	body, err := req.Stream(ctx)
	if err != nil {
		return fmt.Errorf("logs of %s/%s: %w", e.Name, service, err)
	}
	defer body.Close()
	if _, err := io.Copy(w, body); err != nil {
		return fmt.Errorf("reading the logs of %s/%s: %w", e.Name, service, err)
	}
	return nil
}

// Teardown deletes the Environment and waits until it is gone: the
// manager stops every container gracefully (each service's grace period)
// before the finalizer lets the object go. An Environment already gone is
// no error.
func (e *Env) Teardown(ctx context.Context) error {
	err := e.client.Clientset.BerthV1alpha1().Environments().Delete(ctx, e.Name, metav1.DeleteOptions{})
	if err != nil && !apierrors.IsNotFound(err) {
		return fmt.Errorf("delete Environment %s: %w", e.Name, err)
	}
	return e.WaitGone(ctx)
}

// WaitGone waits until the Environment no longer exists.
func (e *Env) WaitGone(ctx context.Context) error {
	pre := func(store cache.Store) (bool, error) {
		_, ok, err := store.GetByKey(e.Name)
		return !ok, err
	}
	cond := func(ev watch.Event) (bool, error) { return ev.Type == watch.Deleted, nil }
	if _, err := watchtools.UntilWithSync(ctx, e.listWatch(), &v1alpha1.Environment{}, pre, cond); err != nil {
		if ctx.Err() != nil {
			return fmt.Errorf("Environment %s still being torn down: %w", e.Name, ctx.Err())
		}
		return fmt.Errorf("wait for Environment %s to be gone: %w", e.Name, err)
	}
	return nil
}

// pollInterval paces the manager discovery loop.
const pollInterval = 200 * time.Millisecond
