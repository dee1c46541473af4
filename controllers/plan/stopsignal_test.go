package plan

import (
	"testing"

	"berth.dev/berth/apis/v1alpha1"
)

// A container must keep its image's STOPSIGNAL (postgres: SIGINT, nginx:
// SIGQUIT) unless the spec names one: berth used to write SIGTERM into
// every container, overriding it.
func TestStopSignalIsTheImagesUnlessSet(t *testing.T) {
	env := demoEnv()
	if got := mustConfig(t, env, "api").StopSignal; got != "" {
		t.Errorf("stopSignal unset: config StopSignal = %q, want \"\" (the image's own)", got)
	}
	service(env, "api").StopSignal = "SIGQUIT"
	if got := mustConfig(t, env, "api").StopSignal; got != "SIGQUIT" {
		t.Errorf("stopSignal SIGQUIT: config StopSignal = %q", got)
	}
}

// Setting stopSignal recreates the container (the signal is part of its
// config); leaving it unset keeps the hash of a config without one.
func TestStopSignalMovesTheHashOnlyWhenSet(t *testing.T) {
	env := demoEnv()
	unset := mustConfig(t, env, "api")
	if h := SpecHash(unset); h != unset.Labels[v1alpha1.LabelSpecHash] {
		t.Fatalf("label %s is not the hash %s", unset.Labels[v1alpha1.LabelSpecHash], h)
	}
	hashes := map[string]string{"": unset.Labels[v1alpha1.LabelSpecHash]}
	for _, s := range []string{"SIGTERM", "SIGINT", "SIGQUIT"} {
		service(env, "api").StopSignal = s
		h := mustConfig(t, env, "api").Labels[v1alpha1.LabelSpecHash]
		for prev, ph := range hashes {
			if ph == h {
				t.Errorf("stopSignal %q and %q hash alike (%s): changing it would not recreate", s, prev, h)
			}
		}
		hashes[s] = h
	}
	// The unset hash is that of a config with no signal field at all.
	cfg := unset
	cfg.StopSignal = ""
	if SpecHash(cfg) != hashes[""] {
		t.Errorf("unset stopSignal hash is not stable")
	}
}
