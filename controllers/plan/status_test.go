package plan

import (
	"strings"
	"testing"
	"time"

	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"berth.dev/berth/apis/v1alpha1"
)

func status(t *testing.T, env *v1alpha1.Environment, obs Observed, now time.Time) v1alpha1.EnvironmentStatus {
	t.Helper()
	p := Compute(env, obs, testOptions(), now)
	return ComputeStatus(env, obs, testOptions(), p, env.Status, now)
}

func cond(t *testing.T, st v1alpha1.EnvironmentStatus, typ string) metav1.Condition {
	t.Helper()
	c := meta.FindStatusCondition(st.Conditions, typ)
	if c == nil {
		t.Fatalf("no %s condition in %+v", typ, st.Conditions)
	}
	return *c
}

func svcStatus(st v1alpha1.EnvironmentStatus, name string) v1alpha1.ServiceStatus {
	for _, s := range st.Services {
		if s.Name == name {
			return s
		}
	}
	return v1alpha1.ServiceStatus{}
}

func TestStatusConverged(t *testing.T) {
	env := demoEnv()
	env.Generation = 4
	st := status(t, env, converged(t, env), t0.Add(500*time.Millisecond))

	if st.Phase != v1alpha1.PhaseReady || st.Ready != "3/3" || st.ObservedGeneration != 4 {
		t.Errorf("phase %s ready %s generation %d", st.Phase, st.Ready, st.ObservedGeneration)
	}
	for typ, want := range map[string]metav1.ConditionStatus{
		v1alpha1.ConditionReady: metav1.ConditionTrue, v1alpha1.ConditionProgressing: metav1.ConditionFalse, v1alpha1.ConditionDegraded: metav1.ConditionFalse,
	} {
		c := cond(t, st, typ)
		if c.Status != want || c.ObservedGeneration != 4 || !c.LastTransitionTime.Time.Equal(t0) {
			t.Errorf("%s: %+v, want %s at generation 4, transition t0 (whole seconds)", typ, c, want)
		}
	}
	if c := cond(t, st, v1alpha1.ConditionReady); c.Reason != ReasonAllServicesReady {
		t.Errorf("Ready reason %s", c.Reason)
	}
	if st.FirstReadyTime == nil || !st.FirstReadyTime.Time.Equal(t0) {
		t.Errorf("FirstReadyTime %v, want t0", st.FirstReadyTime)
	}
	api := svcStatus(st, "api")
	if api.ContainerID != "c-api" || api.State != "running" || !api.Ready || api.StartedAt == nil {
		t.Errorf("api %+v", api)
	}
	if len(api.Ports) != 1 || api.Ports[0] != (v1alpha1.PortStatus{Name: "http", ContainerPort: 8080, Protocol: v1alpha1.ProtocolTCP, HostIP: "127.0.0.1", HostPort: 49153}) {
		t.Errorf("api ports %+v", api.Ports)
	}
	if m := svcStatus(st, "migrate"); !m.Ready || m.LastExitCode == nil || *m.LastExitCode != 0 || m.Message != "completed" {
		t.Errorf("migrate %+v: a completed one-shot counts as ready", m)
	}
	if db := svcStatus(st, "db"); len(db.Ports) != 1 || db.Ports[0].HostPort != 0 {
		t.Errorf("db's unpublished port %+v", db.Ports)
	}
	if types := []string{st.Conditions[0].Type, st.Conditions[1].Type, st.Conditions[2].Type}; strings.Join(types, ",") != "Ready,Progressing,Degraded" {
		t.Errorf("condition order %v", types)
	}
}

func TestStatusConditionsAndPhases(t *testing.T) {
	tests := []struct {
		name        string
		obs         func(t *testing.T, env *v1alpha1.Environment) Observed
		edit        func(env *v1alpha1.Environment)
		phase       v1alpha1.EnvironmentPhase
		ready       string // reason of Ready=False
		progressing metav1.ConditionStatus
		degraded    string // reason if Degraded=True
		svc         string
		svcState    string
	}{
		{
			name:  "nothing yet",
			obs:   func(*testing.T, *v1alpha1.Environment) Observed { return Observed{} },
			phase: v1alpha1.PhasePending, ready: string(WaitingForDependency), progressing: metav1.ConditionTrue,
			svc: "api", svcState: "Waiting",
		},
		{
			name: "containers about to be created",
			obs: func(t *testing.T, env *v1alpha1.Environment) Observed {
				return withoutService(converged(t, env), "api")
			},
			phase: v1alpha1.PhaseProgressing, ready: ReasonProgressing, progressing: metav1.ConditionTrue,
			svc: "api", svcState: "Pending",
		},
		{
			name: "waiting for a probe verdict",
			obs: func(t *testing.T, env *v1alpha1.Environment) Observed {
				obs := converged(t, env)
				delete(obs.Probes, "c-api")
				return obs
			},
			phase: v1alpha1.PhaseProgressing, ready: ReasonWaitingForReadiness, progressing: metav1.ConditionTrue,
			svc: "api", svcState: "running",
		},
		{
			name: "probe never passed",
			obs: func(t *testing.T, env *v1alpha1.Environment) Observed {
				obs := converged(t, env)
				obs.Probes["c-api"] = ProbeResult{Known: true, ConsecutiveFailures: 30, Message: "connection refused"}
				return obs
			},
			phase: v1alpha1.PhaseProgressing, ready: ReasonProbeFailing, progressing: metav1.ConditionFalse,
			svc: "api", svcState: "running",
		},
		{
			name: "probe failing after having passed",
			obs: func(t *testing.T, env *v1alpha1.Environment) Observed {
				obs := converged(t, env)
				obs.Probes["c-api"] = ProbeResult{Known: true, ConsecutiveFailures: 3, HasBeenReady: true}
				return obs
			},
			phase: v1alpha1.PhaseDegraded, ready: ReasonProbeFailing, progressing: metav1.ConditionFalse, degraded: ReasonProbeFailing,
		},
		{
			name: "crash loop",
			obs: func(t *testing.T, env *v1alpha1.Environment) Observed {
				api := container(t, env, "api", "c-api", StateExited)
				api.ExitCode, api.StartedAt, api.FinishedAt = 1, t0.Add(-2*time.Second), t0.Add(-time.Second)
				obs := withContainer(converged(t, env), api)
				// Its second crash in a row: the first restarted at once.
				obs.Memory = map[string]ServiceMemory{"api": {ContainerID: "c-api", StartedAt: api.StartedAt.Truncate(time.Second), RestartCount: 1, RestartStreak: 1}}
				return obs
			},
			phase: v1alpha1.PhaseDegraded, ready: string(WaitCrashLoopBackOff), progressing: metav1.ConditionTrue, degraded: string(WaitCrashLoopBackOff),
			svc: "api", svcState: "exited",
		},
		{
			name: "crash loop, running between crashes",
			obs: func(t *testing.T, env *v1alpha1.Environment) Observed {
				api := container(t, env, "api", "c-api", StateRunning)
				api.StartedAt, api.FinishedAt = t0.Add(-5*time.Second), t0.Add(-25*time.Second)
				obs := withContainer(converged(t, env), api)
				delete(obs.Probes, "c-api")
				obs.Memory = map[string]ServiceMemory{"api": {ContainerID: "c-api", StartedAt: t0.Add(-30 * time.Second), RestartCount: 2, RestartStreak: 2}}
				return obs
			},
			phase: v1alpha1.PhaseDegraded, ready: string(WaitCrashLoopBackOff), progressing: metav1.ConditionTrue, degraded: string(WaitCrashLoopBackOff),
			svc: "api", svcState: "running",
		},
		{
			name: "one-shot failed",
			obs: func(t *testing.T, env *v1alpha1.Environment) Observed {
				m := container(t, env, "migrate", "c-migrate", StateExited)
				m.ExitCode = 1
				return withContainer(withoutService(converged(t, env), "api"), m)
			},
			phase: v1alpha1.PhaseFailed, ready: ReasonContainerFailed, progressing: metav1.ConditionFalse, degraded: ReasonContainerFailed,
			svc: "migrate", svcState: "exited",
		},
		{
			name: "image absent under Never",
			obs: func(t *testing.T, env *v1alpha1.Environment) Observed {
				return Observed{Network: ownedNetwork(env), Volumes: ownedVolumes(env),
					Images: map[string]ObservedImage{testImage: {PullFailures: 1, LastPullFailure: t0, PullError: "not present"}}}
			},
			edit: func(env *v1alpha1.Environment) {
				for i := range env.Spec.Services {
					env.Spec.Services[i].ImagePullPolicy = v1alpha1.PullNever
				}
			},
			phase: v1alpha1.PhaseFailed, ready: string(WaitErrImageNeverPull), progressing: metav1.ConditionFalse, degraded: string(WaitErrImageNeverPull),
			svc: "db", svcState: "Waiting",
		},
		{
			name: "image pull failing",
			obs: func(t *testing.T, env *v1alpha1.Environment) Observed {
				return Observed{Network: ownedNetwork(env), Volumes: ownedVolumes(env), Images: map[string]ObservedImage{
					testImage: {PullFailures: 1, LastPullFailure: t0, PullError: "no such host"}}}
			},
			phase: v1alpha1.PhaseDegraded, ready: string(WaitImagePullFailed), progressing: metav1.ConditionTrue, degraded: string(WaitImagePullFailed),
			svc: "db", svcState: "Waiting",
		},
		{
			name:  "spec changed, recreate pending",
			obs:   func(t *testing.T, env *v1alpha1.Environment) Observed { return converged(t, env) },
			edit:  func(env *v1alpha1.Environment) { service(env, "db").Args = []string{"--other"} },
			phase: v1alpha1.PhaseProgressing, ready: ReasonProgressing, progressing: metav1.ConditionTrue,
			svc: "db", svcState: "running",
		},
		{
			name: "every service ready, a removed service still going",
			obs: func(t *testing.T, env *v1alpha1.Environment) Observed {
				obs := converged(t, env)
				gone := container(t, env, "db", "c-gone", StateRunning)
				gone.Name, gone.Labels = "berth_demo_cache", copyLabels(gone.Labels, v1alpha1.LabelService, "cache")
				obs.Containers = append(obs.Containers, gone)
				return obs
			},
			phase: v1alpha1.PhaseProgressing, ready: ReasonProgressing, progressing: metav1.ConditionTrue,
		},
		{
			name: "name conflict",
			obs: func(t *testing.T, env *v1alpha1.Environment) Observed {
				obs := withoutService(converged(t, env), "api")
				obs.Containers = append(obs.Containers, ObservedContainer{ID: "x", Name: "berth_demo_api", State: StateRunning})
				return obs
			},
			phase: v1alpha1.PhaseDegraded, ready: string(WaitNameConflict), progressing: metav1.ConditionFalse, degraded: string(WaitNameConflict),
			svc: "api", svcState: "Waiting",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			env := demoEnv()
			obs := tt.obs(t, env)
			if tt.edit != nil {
				tt.edit(env) // after observing: the containers have the old spec
			}
			st := status(t, env, obs, t0)
			if st.Phase != tt.phase {
				t.Errorf("phase %s, want %s", st.Phase, tt.phase)
			}
			if c := cond(t, st, v1alpha1.ConditionReady); c.Status != metav1.ConditionFalse || c.Reason != tt.ready {
				t.Errorf("Ready %s/%s (%s), want False/%s", c.Status, c.Reason, c.Message, tt.ready)
			}
			if c := cond(t, st, v1alpha1.ConditionProgressing); c.Status != tt.progressing {
				t.Errorf("Progressing %s/%s (%s), want %s", c.Status, c.Reason, c.Message, tt.progressing)
			}
			c := cond(t, st, v1alpha1.ConditionDegraded)
			if (tt.degraded == "") != (c.Status == metav1.ConditionFalse) || (tt.degraded != "" && c.Reason != tt.degraded) {
				t.Errorf("Degraded %s/%s (%s), want reason %q", c.Status, c.Reason, c.Message, tt.degraded)
			}
			if st.FirstReadyTime != nil {
				t.Error("FirstReadyTime set without ever being Ready")
			}
			if tt.svc != "" {
				if s := svcStatus(st, tt.svc); s.State != tt.svcState || s.Ready || s.Message == "" {
					t.Errorf("%s: %+v, want state %s, not ready, with a message", tt.svc, s, tt.svcState)
				}
			}
		})
	}
}

func TestStatusTerminating(t *testing.T) {
	env := demoEnv()
	env.DeletionTimestamp = &metav1.Time{Time: t0}
	st := status(t, env, converged(t, env), t0)
	if st.Phase != v1alpha1.PhaseTerminating {
		t.Errorf("phase %s", st.Phase)
	}
	if c := cond(t, st, v1alpha1.ConditionReady); c.Status != metav1.ConditionFalse || c.Reason != ReasonTearingDown {
		t.Errorf("Ready %+v", c)
	}
	if c := cond(t, st, v1alpha1.ConditionProgressing); c.Status != metav1.ConditionTrue {
		t.Errorf("Progressing %+v, want True while containers remain", c)
	}
	if len(st.Services) != 3 || svcStatus(st, "api").State != "running" {
		t.Errorf("services %+v: teardown progress shows in the observed services", st.Services)
	}
}

func TestStatusKeepsHistory(t *testing.T) {
	env := demoEnv()
	obs := converged(t, env)
	env.Status.Events = []v1alpha1.EnvironmentEvent{{Type: EventNormal, Reason: "Created", Message: "x"}}

	// Ready at t0; still Ready at t1: transition times stay at t0.
	env.Status = status(t, env, obs, t0)
	env.Status = status(t, env, obs, t0.Add(time.Minute))
	if c := cond(t, env.Status, v1alpha1.ConditionReady); !c.LastTransitionTime.Time.Equal(t0) {
		t.Errorf("Ready transition %s, want t0: it did not change", c.LastTransitionTime)
	}
	// Probe fails at t2: Ready flips, FirstReadyTime stays.
	obs.Probes["c-db"] = ProbeResult{Known: true, HasBeenReady: true}
	t2 := t0.Add(2 * time.Minute)
	env.Status = status(t, env, obs, t2)
	if c := cond(t, env.Status, v1alpha1.ConditionReady); c.Status != metav1.ConditionFalse || !c.LastTransitionTime.Time.Equal(t2) {
		t.Errorf("Ready %+v, want False since t2", c)
	}
	if c := cond(t, env.Status, v1alpha1.ConditionProgressing); !c.LastTransitionTime.Time.Equal(t0) {
		t.Errorf("Progressing moved to %s though it stayed False", c.LastTransitionTime)
	}
	if env.Status.FirstReadyTime == nil || !env.Status.FirstReadyTime.Time.Equal(t0) {
		t.Errorf("FirstReadyTime %v, want t0 kept", env.Status.FirstReadyTime)
	}
	if len(env.Status.Events) != 1 || env.Status.Events[0].Reason != "Created" {
		t.Errorf("events %+v not carried over", env.Status.Events)
	}
}

func TestStatusRestartCount(t *testing.T) {
	env := simpleEnv("s")
	c := container(t, env, "s", "c-s", StateRunning)
	obs := Observed{Network: ownedNetwork(env), Containers: []ObservedContainer{c}}
	env.Status = status(t, env, obs, t0)
	if got := env.Status.Services[0].RestartCount; got != 0 {
		t.Fatalf("restartCount %d at first sight", got)
	}
	// The same container, started again.
	obs.Containers[0].StartedAt = t0.Add(time.Minute)
	obs.Containers[0].FinishedAt = t0.Add(50 * time.Second)
	env.Status = status(t, env, obs, t0.Add(time.Minute))
	env.Status = status(t, env, obs, t0.Add(2*time.Minute)) // counted once
	s := env.Status.Services[0]
	if s.RestartCount != 1 {
		t.Errorf("restartCount %d, want 1", s.RestartCount)
	}
	if s.RestartStreak != 1 || s.LastCrashTime == nil || !s.LastCrashTime.Time.Equal(t0.Add(50*time.Second)) {
		t.Errorf("restartStreak %d, lastCrashTime %v: want 1 at the previous run's end", s.RestartStreak, s.LastCrashTime)
	}
	// After ten minutes of running the streak is forgotten.
	env.Status = status(t, env, obs, t0.Add(12*time.Minute))
	if s := env.Status.Services[0]; s.RestartCount != 1 || s.RestartStreak != 0 {
		t.Errorf("after a healthy run: %+v", s)
	}
	// A new container is a new history.
	obs.Containers[0] = container(t, env, "s", "c-new", StateRunning)
	env.Status = status(t, env, obs, t0.Add(13*time.Minute))
	if s := env.Status.Services[0]; s.RestartCount != 0 || s.ContainerID != "c-new" {
		t.Errorf("new container: %+v", s)
	}
}

func TestComputeStatusNilEnvironment(t *testing.T) {
	prev := v1alpha1.EnvironmentStatus{Phase: v1alpha1.PhaseReady}
	st := ComputeStatus(nil, Observed{}, testOptions(), Plan{}, prev, t0)
	if st.Phase != "" || st.Services != nil {
		t.Errorf("status %+v", st)
	}
}
