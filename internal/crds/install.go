// Package crds installs berth's CustomResourceDefinitions (config/crd,
// embedded) into a Kubernetes API and waits until they serve. It is what
// `berth install` and the Kubernetes test clusters run; it talks to the API
// through client-go's dynamic client only, so berth needs no
// apiextensions client of its own.
package crds

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"sort"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/util/retry"
	"sigs.k8s.io/yaml"

	"berth.dev/berth/config/crd"
)

// FieldManager is the name berth install's writes carry in managedFields.
const FieldManager = "berth-install"

var crdResource = schema.GroupVersionResource{Group: "apiextensions.k8s.io", Version: "v1", Resource: "customresourcedefinitions"}

// Manifests returns the embedded CRDs, sorted by file name.
func Manifests() ([]*unstructured.Unstructured, error) {
	names, err := fs.Glob(crd.Files, "*.yaml")
	if err != nil {
		return nil, fmt.Errorf("list embedded CRDs: %w", err)
	}
	sort.Strings(names)
	var out []*unstructured.Unstructured
	for _, name := range names {
		b, err := crd.Files.ReadFile(name)
		if err != nil {
			return nil, fmt.Errorf("read embedded CRD %s: %w", name, err)
		}
		obj := &unstructured.Unstructured{}
		if err := yaml.Unmarshal(b, &obj.Object); err != nil {
			return nil, fmt.Errorf("decode embedded CRD %s: %w", name, err)
		}
		if obj.GetKind() != "CustomResourceDefinition" || obj.GetName() == "" {
			return nil, fmt.Errorf("embedded file %s is not a named CustomResourceDefinition", name)
		}
		out = append(out, obj)
	}
	if len(out) == 0 {
		return nil, errors.New("no CRD embedded in this binary")
	}
	return out, nil
}

// Install creates every embedded CRD, or replaces the stored one (so
// re-running it after an upgrade updates them in place), and waits until
// each is Established, or ctx ends. It returns the CRDs' names.
func Install(ctx context.Context, cfg *rest.Config) ([]string, error) {
	objs, err := Manifests()
	if err != nil {
		return nil, err
	}
	client, err := dynamic.NewForConfig(cfg)
	if err != nil {
		return nil, fmt.Errorf("dynamic client: %w", err)
	}
	crds := client.Resource(crdResource)
	var names []string
	for _, obj := range objs {
		if err := put(ctx, crds, obj); err != nil {
			return names, fmt.Errorf("install CRD %s: %w", obj.GetName(), err)
		}
		names = append(names, obj.GetName())
	}
	for _, name := range names {
		if err := waitEstablished(ctx, crds, name); err != nil {
			return names, err
		}
	}
	return names, nil
}

// put creates the CRD, or replaces the stored one with it: the binary's
// CRD is the truth, whoever wrote the stored one (kubectl apply, an older
// berth install). A conflicting concurrent write is retried.
func put(ctx context.Context, crds dynamic.ResourceInterface, obj *unstructured.Unstructured) error {
	return retry.RetryOnConflict(retry.DefaultRetry, func() error {
		current, err := crds.Get(ctx, obj.GetName(), metav1.GetOptions{})
		if apierrors.IsNotFound(err) {
			_, err = crds.Create(ctx, obj, metav1.CreateOptions{FieldManager: FieldManager})
			return err
		}
		if err != nil {
			return err
		}
		desired := obj.DeepCopy()
		desired.SetResourceVersion(current.GetResourceVersion())
		_, err = crds.Update(ctx, desired, metav1.UpdateOptions{FieldManager: FieldManager})
		return err
	})
}

// waitEstablished polls the CRD until its Established condition is True
// (the API serves the resource from then on).
func waitEstablished(ctx context.Context, crds dynamic.ResourceInterface, name string) error {
	tick := time.NewTicker(100 * time.Millisecond)
	defer tick.Stop()
	for {
		obj, err := crds.Get(ctx, name, metav1.GetOptions{})
		switch {
		case err == nil:
			if established(obj) {
				return nil
			}
		case !apierrors.IsNotFound(err):
			return fmt.Errorf("CRD %s: %w", name, err)
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("CRD %s not Established: %w", name, ctx.Err())
		case <-tick.C:
		}
	}
}

func established(obj *unstructured.Unstructured) bool {
	conds, _, _ := unstructured.NestedSlice(obj.Object, "status", "conditions")
	for _, c := range conds {
		m, ok := c.(map[string]any)
		if ok && m["type"] == "Established" && m["status"] == "True" {
			return true
		}
	}
	return false
}
