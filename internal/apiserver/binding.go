package apiserver

import (
	"context"
	"fmt"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	genericregistry "k8s.io/apiserver/pkg/registry/generic/registry"

	"berth.dev/berth/apis/v1alpha1"
)

// followBinding resolves a pool claimant to the standby it is bound to:
// the claimant's containers are the standby's (their Docker names and
// labels stay the standby's), so logs, exec and copies go there. Any
// other Environment is returned as it is. A claimant that is not bound
// (yet) is returned too: it has no containers, and the caller says so.
func followBinding(ctx context.Context, store *genericregistry.Store, env *v1alpha1.Environment) (*v1alpha1.Environment, error) {
	ref := env.Spec.PoolRef
	if ref == nil || ref.Standby == "" || len(env.Spec.Services) > 0 {
		return env, nil
	}
	obj, err := store.Get(ctx, ref.Standby, &metav1.GetOptions{})
	if apierrors.IsNotFound(err) {
		return env, nil
	}
	if err != nil {
		return nil, err
	}
	sb, ok := obj.(*v1alpha1.Environment)
	if !ok {
		return nil, apierrors.NewInternalError(fmt.Errorf("storage returned %T for environment %q", obj, ref.Standby))
	}
	if !v1alpha1.IsBound(env, sb) {
		return env, nil // not bound both ways
	}
	return sb, nil
}
