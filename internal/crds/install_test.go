package crds

import (
	"slices"
	"testing"
)

func TestManifestsEmbedEveryCRD(t *testing.T) {
	objs, err := Manifests()
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, o := range objs {
		names = append(names, o.GetName())
		if o.GetAPIVersion() != "apiextensions.k8s.io/v1" {
			t.Errorf("%s: apiVersion %s", o.GetName(), o.GetAPIVersion())
		}
	}
	want := []string{"environmentleases.berth.dev", "environmentpools.berth.dev", "environments.berth.dev"}
	if !slices.Equal(names, want) {
		t.Errorf("embedded CRDs = %v, want %v", names, want)
	}
}
