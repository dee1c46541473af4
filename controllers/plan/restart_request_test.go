package plan

import (
	"strings"
	"testing"
	"time"

	"berth.dev/berth/apis/v1alpha1"
)

// TestRestartAnnotationRecreatesOnlyThatService is the dashboard's "restart
// service": an annotation with the request time replaces that one service's
// container through the graceful remove, and nothing else moves.
func TestRestartAnnotationRecreatesOnlyThatService(t *testing.T) {
	env := demoEnv()
	obs := converged(t, env)
	before := mustConfig(t, env, "db")
	if _, ok := before.Labels[v1alpha1.LabelRestartedAt]; ok {
		t.Fatalf("labels %v: no restarted-at label without a request", before.Labels)
	}

	const at = "2026-03-04T10:00:00Z"
	env.Annotations = map[string]string{v1alpha1.RestartAnnotation("db"): at}
	after := mustConfig(t, env, "db")
	if after.Labels[v1alpha1.LabelRestartedAt] != at || after.RestartedAt != at {
		t.Errorf("config RestartedAt %q, label %q: want %q on both", after.RestartedAt, after.Labels[v1alpha1.LabelRestartedAt], at)
	}
	if after.Labels[v1alpha1.LabelSpecHash] == before.Labels[v1alpha1.LabelSpecHash] {
		t.Fatalf("spec hash unchanged by a restart request")
	}
	if got, want := mustConfig(t, env, "api").Labels[v1alpha1.LabelSpecHash], mustConfig(t, demoEnv(), "api").Labels[v1alpha1.LabelSpecHash]; got != want {
		t.Errorf("api's hash moved (%s → %s) on a restart of db", want, got)
	}

	p := Compute(env, obs, testOptions(), t0)
	assertStrings(t, "ops", p.Strings(), []string{
		"RemoveContainer db c-db",
		"CreateContainer db",
		"StartContainer db ",
	})
	rm, _ := findOp(p, OpRemoveContainer, "db")
	if rm.Grace != 2*time.Second {
		t.Errorf("remove grace %s, want the service's 2s", rm.Grace)
	}
	if !strings.Contains(rm.Reason, "restart db: requested at "+at) {
		t.Errorf("reason %q: want it to name the restart request", rm.Reason)
	}

	// Once the new container carries the request, nothing more happens;
	// the same request is not acted on twice.
	obs = withContainer(obs, container(t, env, "db", "c-db2", StateRunning))
	obs.Probes["c-db2"] = ProbeResult{Known: true, Ready: true, HasBeenReady: true}
	if p := Compute(env, obs, testOptions(), t0); !p.Empty() {
		t.Errorf("after the restart: %v, want nothing", p.Strings())
	}
	// A later request restarts it again.
	env.Annotations[v1alpha1.RestartAnnotation("db")] = "2026-03-04T10:05:00Z"
	if _, i := findOp(Compute(env, obs, testOptions(), t0), OpRemoveContainer, "db"); i < 0 {
		t.Errorf("a second restart request did not recreate db")
	}
}

// TestRestartAnnotationKeepsOldHashes pins that adding the field left the
// hash of containers without a request alone (else an upgrade would
// recreate every container in the field).
func TestRestartAnnotationKeepsOldHashes(t *testing.T) {
	cfg := mustConfig(t, demoEnv(), "api")
	if cfg.RestartedAt != "" {
		t.Fatalf("RestartedAt %q without annotation", cfg.RestartedAt)
	}
	withOther := demoEnv()
	withOther.Annotations = map[string]string{"example.com/note": "x", v1alpha1.RestartAnnotation("nope"): "2026-01-01T00:00:00Z"}
	if got := mustConfig(t, withOther, "api").Labels[v1alpha1.LabelSpecHash]; got != cfg.Labels[v1alpha1.LabelSpecHash] {
		t.Errorf("unrelated annotations moved the hash: %s → %s", cfg.Labels[v1alpha1.LabelSpecHash], got)
	}
}
