package lease

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/go-logr/logr"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/util/retry"

	"berth.dev/berth/apis/v1alpha1"
	"berth.dev/berth/client/clientset/versioned"
)

// DefaultDuration is the lease `berth run` and the Go test package hold:
// a dead holder's Environment goes about half a minute after its last
// renewal.
const DefaultDuration = 30 * time.Second

// ErrLost is wrapped by Err once the lease is lost for good: the
// Environment is gone or being deleted, or another holder took it.
var ErrLost = errors.New("lease lost")

// DefaultHolder names this process: program/host/pid.
func DefaultHolder() string {
	host, err := os.Hostname()
	if err != nil || host == "" {
		host = "unknown-host"
	}
	return fmt.Sprintf("%s/%s/%d", filepath.Base(os.Args[0]), host, os.Getpid())
}

// Bind sets env's spec.lease, for an Environment about to be created: the
// binding is then in the very write that creates it, so a holder killed
// right after the create still leaves an Environment that expires.
func Bind(env *v1alpha1.Environment, holder string, d time.Duration) {
	env.Spec.Lease = &v1alpha1.LeaseBinding{HolderIdentity: holder, DurationSeconds: int32(durationSeconds(d))}
}

// Holder renews one Environment's lease in the background.
type Holder struct {
	client versioned.Interface
	env    string
	holder string
	d      time.Duration
	log    logr.Logger

	cancel  context.CancelFunc
	done    chan struct{} // closed when the renewal loop has returned
	expired chan struct{} // closed when the lease is lost for good

	mu       sync.Mutex
	err      error
	envUID   types.UID
	record   *v1alpha1.EnvironmentLease // the last version written
	stopOnce sync.Once
	stopErr  error
}

// Hold binds the Environment named env to holder for d (setting its
// spec.lease when unset, once; refusing one held by another holder),
// takes its EnvironmentLease and renews it every d/3 (jittered) until Stop
// or ctx ends. Renewal failures are logged (logr from ctx) and retried;
// only a definitive loss (Environment gone or deleting, another holder)
// closes Expired. Ending ctx stops renewing without releasing, as if the
// process had died: the manager then deletes the Environment after d.
func Hold(ctx context.Context, c versioned.Interface, env, holder string, d time.Duration) (*Holder, error) {
	if holder == "" {
		return nil, fmt.Errorf("hold %s: holder identity is required", env)
	}
	if secs := durationSeconds(d); secs < v1alpha1.MinLeaseDurationSeconds || secs > v1alpha1.MaxLeaseDurationSeconds {
		return nil, fmt.Errorf("hold %s: duration %s: must be between %ds and %ds", env, d,
			v1alpha1.MinLeaseDurationSeconds, v1alpha1.MaxLeaseDurationSeconds)
	}
	h := &Holder{
		client: c, env: env, holder: holder, d: time.Duration(durationSeconds(d)) * time.Second,
		log:     logr.FromContextOrDiscard(ctx).WithValues("environment", env, "holder", holder),
		done:    make(chan struct{}),
		expired: make(chan struct{}),
	}
	if err := h.bind(ctx); err != nil {
		return nil, err
	}
	if err := h.renew(ctx); err != nil {
		return nil, fmt.Errorf("hold %s: first renewal: %w", env, err)
	}
	loopCtx, cancel := context.WithCancel(ctx)
	h.cancel = cancel
	go h.loop(loopCtx)
	return h, nil
}

// Expired is closed when the lease is lost for good; Err says why.
func (h *Holder) Expired() <-chan struct{} { return h.expired }

// Err is why the lease was lost, nil while it is held.
func (h *Holder) Err() error {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.err
}

// Environment is the name of the held Environment.
func (h *Holder) Environment() string { return h.env }

// Stop stops renewing and releases the lease: spec.lease is removed from
// the Environment (which stays: `berth run --keep`) and the
// EnvironmentLease is deleted. An Environment already gone or being
// deleted needs no release. Stop may be called more than once.
func (h *Holder) Stop() error {
	h.stopOnce.Do(func() {
		h.cancel()
		<-h.done
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		h.stopErr = h.release(ctx)
	})
	return h.stopErr
}

// bind sets spec.lease on the Environment unless it already names this
// holder with this duration.
func (h *Holder) bind(ctx context.Context) error {
	envs := h.client.BerthV1alpha1().Environments()
	secs := int32(h.d / time.Second)
	return retry.RetryOnConflict(retry.DefaultRetry, func() error {
		env, err := envs.Get(ctx, h.env, metav1.GetOptions{})
		if err != nil {
			return fmt.Errorf("hold %s: %w", h.env, err)
		}
		if env.DeletionTimestamp != nil {
			return fmt.Errorf("hold %s: %w: the Environment is being deleted", h.env, ErrLost)
		}
		h.envUID = env.UID
		if l := env.Spec.Lease; l != nil {
			if l.HolderIdentity != h.holder {
				return fmt.Errorf("hold %s: held by %q", h.env, l.HolderIdentity)
			}
			if l.DurationSeconds == secs {
				return nil
			}
		}
		env.Spec.Lease = &v1alpha1.LeaseBinding{HolderIdentity: h.holder, DurationSeconds: secs}
		if _, err := envs.Update(ctx, env, metav1.UpdateOptions{}); err != nil {
			return fmt.Errorf("hold %s: bind spec.lease: %w", h.env, err)
		}
		return nil
	})
}

func (h *Holder) loop(ctx context.Context) {
	defer close(h.done)
	failures := 0
	wait := renewInterval(h.d, rand.Float64())
	timer := time.NewTimer(wait)
	defer timer.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-timer.C:
		}
		err := h.renew(ctx)
		switch {
		case err == nil:
			failures = 0
			wait = renewInterval(h.d, rand.Float64())
		case errors.Is(err, ErrLost):
			h.lose(err)
			return
		case ctx.Err() != nil:
			return
		default:
			failures++
			wait = retryDelay(failures, h.d)
			h.log.Error(err, "lease renewal failed; retrying", "failures", failures, "retryIn", wait.String())
		}
		timer.Reset(wait)
	}
}

func (h *Holder) lose(err error) {
	h.mu.Lock()
	h.err = err
	h.mu.Unlock()
	h.log.Info("lease lost", "reason", err.Error())
	close(h.expired)
}
