package lease

import (
	"context"
	"fmt"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/util/retry"
	"k8s.io/utils/ptr"

	"berth.dev/berth/apis/v1alpha1"
)

// renew writes one renewal: an update of the record this holder wrote
// last, or a create (or takeover) when there is none. Errors wrapping
// ErrLost are definitive; others are worth retrying.
func (h *Holder) renew(ctx context.Context) error {
	leases := h.client.BerthV1alpha1().EnvironmentLeases()
	now := metav1.NewMicroTime(time.Now())
	h.mu.Lock()
	rec := h.record
	h.mu.Unlock()

	if rec == nil {
		got, err := leases.Get(ctx, h.env, metav1.GetOptions{})
		switch {
		case apierrors.IsNotFound(err):
			return h.create(ctx, now)
		case err != nil:
			return fmt.Errorf("get lease %s: %w", h.env, err)
		}
		if !ownedBy(got, h.envUID) {
			// Left by an earlier Environment of the same name (deleted
			// before its record was): not ours to renew.
			return fmt.Errorf("lease %s: %w: the record belongs to another Environment of that name", h.env, ErrLost)
		}
		// Taking over (spec.lease names this holder) or resuming.
		rec = got
		if rec.Spec.HolderIdentity != h.holder {
			rec.Spec.AcquireTime = &now
		}
	} else if rec.Spec.HolderIdentity != h.holder {
		return fmt.Errorf("lease %s: %w: now held by %q", h.env, ErrLost, rec.Spec.HolderIdentity)
	}
	rec = rec.DeepCopy()
	rec.Spec.HolderIdentity = h.holder
	if rec.Spec.AcquireTime == nil {
		rec.Spec.AcquireTime = &now
	}
	rec.Spec.RenewTime = &now
	updated, err := leases.Update(ctx, rec, metav1.UpdateOptions{})
	switch {
	case err == nil:
		h.remember(updated)
		return nil
	case apierrors.IsConflict(err):
		// Someone else wrote the record: read it again next time; if
		// another holder took it, that read says so.
		h.remember(nil)
		latest, getErr := leases.Get(ctx, h.env, metav1.GetOptions{})
		if getErr == nil && latest.Spec.HolderIdentity != h.holder {
			return fmt.Errorf("lease %s: %w: now held by %q", h.env, ErrLost, latest.Spec.HolderIdentity)
		}
		return fmt.Errorf("renew lease %s: %w", h.env, err)
	case apierrors.IsNotFound(err):
		// The record went: the Environment is being torn down (the
		// controller deletes the record then), or it was removed by
		// hand. checkEnvironment tells which.
		h.remember(nil)
		if lostErr := h.checkEnvironment(ctx); lostErr != nil {
			return lostErr
		}
		return h.create(ctx, now)
	default:
		return fmt.Errorf("renew lease %s: %w", h.env, err)
	}
}

// create writes a fresh record owned by the Environment, after checking
// that the Environment still wants this holder.
func (h *Holder) create(ctx context.Context, now metav1.MicroTime) error {
	if err := h.checkEnvironment(ctx); err != nil {
		return err
	}
	rec := &v1alpha1.EnvironmentLease{
		ObjectMeta: metav1.ObjectMeta{
			Name: h.env,
			// Kubernetes' garbage collector removes the record with its
			// Environment; berth's controller does it on its own server.
			OwnerReferences: []metav1.OwnerReference{{
				APIVersion: v1alpha1.SchemeGroupVersion.String(), Kind: "Environment",
				Name: h.env, UID: h.envUID, Controller: ptr.To(false),
			}},
		},
		Spec: v1alpha1.EnvironmentLeaseSpec{HolderIdentity: h.holder, AcquireTime: &now, RenewTime: &now},
	}
	created, err := h.client.BerthV1alpha1().EnvironmentLeases().Create(ctx, rec, metav1.CreateOptions{})
	if err != nil {
		return fmt.Errorf("create lease %s: %w", h.env, err)
	}
	h.remember(created)
	return nil
}

// checkEnvironment returns an ErrLost error when the Environment no longer
// wants this holder: gone, replaced, being deleted, or bound to another.
func (h *Holder) checkEnvironment(ctx context.Context) error {
	env, err := h.client.BerthV1alpha1().Environments().Get(ctx, h.env, metav1.GetOptions{})
	switch {
	case apierrors.IsNotFound(err):
		return fmt.Errorf("lease %s: %w: the Environment is gone", h.env, ErrLost)
	case err != nil:
		return fmt.Errorf("get environment %s: %w", h.env, err)
	case env.UID != h.envUID:
		return fmt.Errorf("lease %s: %w: the Environment was replaced by another of that name", h.env, ErrLost)
	case env.DeletionTimestamp != nil:
		return fmt.Errorf("lease %s: %w: the Environment is being deleted", h.env, ErrLost)
	case env.Spec.Lease == nil:
		return fmt.Errorf("lease %s: %w: spec.lease was removed", h.env, ErrLost)
	case env.Spec.Lease.HolderIdentity != h.holder:
		return fmt.Errorf("lease %s: %w: now held by %q", h.env, ErrLost, env.Spec.Lease.HolderIdentity)
	}
	return nil
}

func (h *Holder) remember(rec *v1alpha1.EnvironmentLease) {
	h.mu.Lock()
	h.record = rec
	h.mu.Unlock()
}

// ownedBy says whether the record belongs to the Environment with uid (a
// record without owner is adopted).
func ownedBy(rec *v1alpha1.EnvironmentLease, uid types.UID) bool {
	if len(rec.OwnerReferences) == 0 {
		return true
	}
	for _, o := range rec.OwnerReferences {
		if o.Kind == "Environment" && o.UID == uid {
			return true
		}
	}
	return false
}

// release unbinds the Environment (it stays) and deletes the record.
func (h *Holder) release(ctx context.Context) error {
	envs := h.client.BerthV1alpha1().Environments()
	err := retry.RetryOnConflict(retry.DefaultRetry, func() error {
		env, err := envs.Get(ctx, h.env, metav1.GetOptions{})
		if apierrors.IsNotFound(err) {
			return nil
		}
		if err != nil {
			return err
		}
		if env.UID != h.envUID || env.DeletionTimestamp != nil || env.Spec.Lease == nil || env.Spec.Lease.HolderIdentity != h.holder {
			return nil // not ours to unbind, or going anyway
		}
		env.Spec.Lease = nil
		_, err = envs.Update(ctx, env, metav1.UpdateOptions{})
		return err
	})
	if err != nil {
		return fmt.Errorf("release %s: unbind spec.lease: %w", h.env, err)
	}
	leases := h.client.BerthV1alpha1().EnvironmentLeases()
	rec, err := leases.Get(ctx, h.env, metav1.GetOptions{})
	if apierrors.IsNotFound(err) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("release %s: get lease: %w", h.env, err)
	}
	if rec.Spec.HolderIdentity != h.holder || !ownedBy(rec, h.envUID) {
		return nil
	}
	err = leases.Delete(ctx, h.env, metav1.DeleteOptions{Preconditions: &metav1.Preconditions{UID: &rec.UID, ResourceVersion: &rec.ResourceVersion}})
	if err != nil && !apierrors.IsNotFound(err) && !apierrors.IsConflict(err) {
		return fmt.Errorf("release %s: delete lease: %w", h.env, err)
	}
	return nil
}
