package session

import (
	"strings"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"berth.dev/berth/apis/v1alpha1"
)

func envWith(gen, observed int64, phase v1alpha1.EnvironmentPhase, ready metav1.ConditionStatus, msg string, svcs ...v1alpha1.ServiceStatus) *v1alpha1.Environment {
	env := &v1alpha1.Environment{ObjectMeta: metav1.ObjectMeta{Name: "demo-x1y2z", Generation: gen}}
	for _, s := range svcs {
		env.Spec.Services = append(env.Spec.Services, v1alpha1.Service{Name: s.Name})
	}
	env.Status = v1alpha1.EnvironmentStatus{Phase: phase, ObservedGeneration: observed, Services: svcs}
	if ready != "" {
		env.Status.Conditions = []metav1.Condition{{Type: v1alpha1.ConditionReady, Status: ready, Message: msg, ObservedGeneration: observed}}
	}
	return env
}

func withReadyReason(env *v1alpha1.Environment, reason string) *v1alpha1.Environment {
	env.Status.Conditions[0].Reason = reason
	return env
}

func TestAssess(t *testing.T) {
	web := v1alpha1.ServiceStatus{Name: "web", State: "running", Ready: true}
	dbWaiting := v1alpha1.ServiceStatus{Name: "db", State: "running", Message: "readiness probe failing"}
	cases := []struct {
		name    string
		env     *v1alpha1.Environment
		outcome Outcome
		line    string
	}{
		{"fresh", envWith(1, 0, "", "", "", web, dbWaiting), Waiting, "Pending, 1/2 services ready; the manager has not observed this spec yet"},
		{"progressing", envWith(1, 1, v1alpha1.PhaseProgressing, "False", "1/2 services ready; db: probe failing", web, dbWaiting), Waiting,
			"Progressing, 1/2 services ready; waiting on db (running: readiness probe failing)"},
		{"ready", envWith(2, 2, v1alpha1.PhaseReady, "True", "2/2 services ready", web, v1alpha1.ServiceStatus{Name: "db", Ready: true}), Ready, "Ready, 2/2 services ready"},
		{"ready but old generation", envWith(3, 2, v1alpha1.PhaseReady, "True", "2/2", web, v1alpha1.ServiceStatus{Name: "db", Ready: true}), Waiting, "Ready, 2/2 services ready; the manager has not observed this spec yet"},
		{"failed", envWith(1, 1, v1alpha1.PhaseFailed, "False", "1/2 services ready; db: failed", web,
			v1alpha1.ServiceStatus{Name: "db", State: "exited", Message: "exited with code 1"}), Failed,
			"Failed, 1/2 services ready; waiting on db (exited: exited with code 1)"},
		{"terminating", envWith(1, 1, v1alpha1.PhaseTerminating, "False", "being deleted", web), Gone, "Terminating, 1/1 services ready; being deleted"},
		{"an op keeps failing", withReadyReason(envWith(1, 1, v1alpha1.PhasePending, "False",
			"0/1 services ready; create network berth_demo failed 3 times in a row, retrying with back-off: no free /24", v1alpha1.ServiceStatus{Name: "web", State: "Pending"}), "NetworkCreateFailed"), Waiting,
			"Pending, 0/1 services ready; NetworkCreateFailed: create network berth_demo failed 3 times in a row, retrying with back-off: no free /24; waiting on web (Pending)"},
		{"a probe failing is no op failure", withReadyReason(envWith(1, 1, v1alpha1.PhaseProgressing, "False", "1/2 services ready; db: probe failing", web, dbWaiting), "ProbeFailing"), Waiting,
			"Progressing, 1/2 services ready; waiting on db (running: readiness probe failing)"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			p, out := Assess(c.env)
			if out != c.outcome {
				t.Errorf("outcome %s, want %s", out, c.outcome)
			}
			if got := p.String(); got != c.line {
				t.Errorf("line\n got %q\nwant %q", got, c.line)
			}
		})
	}
}

func TestAssessServiceMissingFromStatus(t *testing.T) {
	env := envWith(1, 1, v1alpha1.PhasePending, "False", "0/1", v1alpha1.ServiceStatus{Name: "web"})
	env.Status.Services = nil
	p, out := Assess(env)
	if out != Waiting || len(p.Waiting) != 1 || p.Waiting[0].State != "Pending" {
		t.Fatalf("got %v %+v", out, p)
	}
}

func TestAssessReplicas(t *testing.T) {
	env := envWith(1, 1, v1alpha1.PhaseProgressing, "False", "0/1",
		v1alpha1.ServiceStatus{Name: "web", State: "running", Replicas: 3, ReadyReplicas: 1})
	p, _ := Assess(env)
	if !strings.Contains(p.String(), "web (running, 1/3 replicas ready)") {
		t.Fatalf("line %q does not show the replicas", p)
	}
}

// TestAssessQueued: a Queued Environment waits on admission, and the
// progress line says what for.
func TestAssessQueued(t *testing.T) {
	env := envWith(1, 1, v1alpha1.PhaseQueued, "", "", v1alpha1.ServiceStatus{Name: "web"})
	env.Status.Services = nil
	env.Status.Conditions = []metav1.Condition{{Type: v1alpha1.ConditionAdmitted, Status: metav1.ConditionFalse,
		Reason: "InsufficientMemory", Message: "needs 1Gi, free 0 of budget 2Gi, position 1 of 1"}}
	p, out := Assess(env)
	if out != Waiting {
		t.Errorf("outcome %s", out)
	}
	if got, want := p.String(), "Queued, 0/1 services ready; InsufficientMemory: needs 1Gi, free 0 of budget 2Gi, position 1 of 1"; got != want {
		t.Errorf("line\n got %q\nwant %q", got, want)
	}
}
