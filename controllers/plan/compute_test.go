package plan

import (
	"fmt"
	"math/rand/v2"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"berth.dev/berth/apis/v1alpha1"
)

func TestComputeFreshEnvironment(t *testing.T) {
	env := demoEnv()
	p := Compute(env, Observed{}, testOptions(), t0)

	assertStrings(t, "ops", p.Strings(), []string{
		"EnsureNetwork berth_demo",
		"EnsureVolume berth_demo_data",
		"PullImage " + testImage,
		"CreateContainer migrate",
		"StartContainer migrate ",
		"CreateContainer db",
		"StartContainer db ",
	})
	wantNeeds := [][]int{nil, nil, nil, {0, 2}, {0, 3}, {0, 1, 2}, {0, 5}}
	for i, o := range p.Ops {
		if !slices.Equal(o.Needs, wantNeeds[i]) {
			t.Errorf("op %d %s needs %v, want %v", i, o, o.Needs, wantNeeds[i])
		}
		if o.Environment != "demo" || o.Reason == "" {
			t.Errorf("op %d %s: environment %q reason %q; every op names both", i, o, o.Environment, o.Reason)
		}
	}
	create, _ := findOp(p, OpCreateContainer, "db")
	if create.Config == nil || create.Config.Name != "berth_demo_db" || create.ContainerName != "berth_demo_db" {
		t.Errorf("create db carries config %+v", create.Config)
	}
	if p.Ops[0].Labels[v1alpha1.LabelManagedBy] != testManager || p.Ops[1].Labels[v1alpha1.LabelVolume] != "data" {
		t.Errorf("network/volume labels: %v / %v", p.Ops[0].Labels, p.Ops[1].Labels)
	}
	w := p.Waiting["api"]
	if w.Reason != WaitingForDependency || w.Dependency != "migrate" || w.Condition != v1alpha1.DependencyCompleted {
		t.Errorf("api waiting %+v, want WaitingForDependency on migrate Completed", w)
	}
	if len(p.Waiting) != 1 {
		t.Errorf("waiting %v: only api waits", p.Waiting)
	}
	if p.RequeueAfter != DefaultWaitPoll {
		t.Errorf("RequeueAfter %s, want the dependency poll %s", p.RequeueAfter, DefaultWaitPoll)
	}
}

func TestComputeConvergedIsEmpty(t *testing.T) {
	env := demoEnv()
	p := Compute(env, converged(t, env), testOptions(), t0)
	if !p.Empty() || len(p.Waiting) != 0 || p.RequeueAfter != 0 || p.TTLExpired {
		t.Fatalf("converged plan %v waiting %v requeue %s, want nothing", p.Strings(), p.Waiting, p.RequeueAfter)
	}
}

func TestComputeIsDeterministic(t *testing.T) {
	env := demoEnv()
	obs := converged(t, env)
	service(env, "api").Env[0].Value = "changed"
	obs.Containers = append(obs.Containers, container(t, env, "db", "c-db-dup", StateRunning))
	extra := container(t, simpleEnv("x"), "x", "c-x", StateRunning)
	extra.Labels = copyLabels(extra.Labels, v1alpha1.LabelEnvironment, "demo", v1alpha1.LabelEnvironmentUID, "uid-1")
	obs.Containers = append(obs.Containers, extra)

	first := Compute(env, obs, testOptions(), t0)
	r := rand.New(rand.NewPCG(1, 2))
	for range 20 {
		shuffled := obs
		shuffled.Containers = slices.Clone(obs.Containers)
		r.Shuffle(len(shuffled.Containers), func(i, j int) {
			shuffled.Containers[i], shuffled.Containers[j] = shuffled.Containers[j], shuffled.Containers[i]
		})
		if again := Compute(env, shuffled, testOptions(), t0); !reflect.DeepEqual(again, first) {
			t.Fatalf("plan depends on observation order:\n%v\n%v", first.Strings(), again.Strings())
		}
	}
}

func copyLabels(l map[string]string, kv ...string) map[string]string {
	out := map[string]string{}
	for k, v := range l {
		out[k] = v
	}
	for i := 0; i < len(kv); i += 2 {
		out[kv[i]] = kv[i+1]
	}
	return out
}

func TestComputeSpecChangeRecreatesOnlyThatService(t *testing.T) {
	env := demoEnv()
	obs := converged(t, env)
	old := mustConfig(t, env, "api").Labels[v1alpha1.LabelSpecHash]
	service(env, "api").Env[1].Value = "db:6543"
	p := Compute(env, obs, testOptions(), t0)

	assertStrings(t, "ops", p.Strings(), []string{
		"RemoveContainer api c-api",
		"CreateContainer api",
		"StartContainer api ",
	})
	rm := p.Ops[0]
	if rm.Grace != 2*time.Second || rm.RemoveReason != RemoveSpecChanged {
		t.Errorf("remove grace %s reason %s, want 2s SpecChanged", rm.Grace, rm.RemoveReason)
	}
	newHash := mustConfig(t, env, "api").Labels[v1alpha1.LabelSpecHash]
	if want := "recreate api: spec changed (hash " + old[:8] + " → " + newHash[:8] + ")"; rm.Reason != want {
		t.Errorf("reason %q, want %q", rm.Reason, want)
	}
	if !slices.Equal(p.Ops[1].Needs, []int{0}) || !slices.Equal(p.Ops[2].Needs, []int{1}) {
		t.Errorf("needs %v %v: create after remove, start after create", p.Ops[1].Needs, p.Ops[2].Needs)
	}
}

func TestComputeServiceRemovedAndAdded(t *testing.T) {
	env := simpleEnv("a", "b")
	obs := Observed{Network: ownedNetwork(env), Images: map[string]ObservedImage{testImage: {Present: true}}}
	for _, n := range []string{"a", "b"} {
		obs.Containers = append(obs.Containers, container(t, env, n, "c-"+n, StateRunning))
	}
	gone := obs.Containers[1]
	gone.StopTimeout = 7 * time.Second

	// b leaves the spec, c joins it.
	env.Spec.Services = env.Spec.Services[:1]
	env.Spec.Services = append(env.Spec.Services, simpleEnv("c").Spec.Services[0])
	obs.Containers[1] = gone
	p := Compute(env, obs, testOptions(), t0)

	assertStrings(t, "ops", p.Strings(), []string{"RemoveContainer b c-b", "CreateContainer c", "StartContainer c "})
	if rm := p.Ops[0]; rm.Grace != 7*time.Second || rm.RemoveReason != RemoveServiceRemoved || !strings.Contains(rm.Reason, "no longer in the spec") {
		t.Errorf("removal %+v: want the container's own 7s stop timeout, ServiceRemoved", rm)
	}
	if p.Ops[1].Needs != nil {
		t.Errorf("create c needs %v: an unrelated removal must not delay it", p.Ops[1].Needs)
	}
}

func TestComputeFixedHostPortWaitsForRemovedService(t *testing.T) {
	env := simpleEnv("new")
	service(env, "new").Ports = []v1alpha1.ServicePort{{Name: "http", ContainerPort: 80, HostPort: ptr(int32(8080)), HostIP: "127.0.0.1"}}
	old := container(t, simpleEnv("old"), "old", "c-old", StateRunning)
	obs := Observed{Network: ownedNetwork(env), Images: map[string]ObservedImage{testImage: {Present: true}}, Containers: []ObservedContainer{old}}
	p := Compute(env, obs, testOptions(), t0)
	assertStrings(t, "ops", p.Strings(), []string{"RemoveContainer old c-old", "CreateContainer new", "StartContainer new "})
	if !slices.Equal(p.Ops[2].Needs, []int{0, 1}) {
		t.Errorf("start needs %v: a fixed host port must wait for the removed service to let go of it", p.Ops[2].Needs)
	}
}

func TestComputeDependencies(t *testing.T) {
	tests := []struct {
		name     string
		obs      func(t *testing.T, env *v1alpha1.Environment) Observed
		wantOps  []string
		wantWait *Waiting // of api
	}{
		{
			name: "migrate still running",
			obs: func(t *testing.T, env *v1alpha1.Environment) Observed {
				return withContainer(withoutService(converged(t, env), "api"), container(t, env, "migrate", "c-migrate", StateRunning))
			},
			wantWait: &Waiting{Reason: WaitingForDependency, Dependency: "migrate", Condition: v1alpha1.DependencyCompleted},
		},
		{
			name: "migrate failed for good",
			obs: func(t *testing.T, env *v1alpha1.Environment) Observed {
				m := container(t, env, "migrate", "c-migrate", StateExited)
				m.ExitCode = 3
				return withContainer(withoutService(converged(t, env), "api"), m)
			},
			wantWait: &Waiting{Reason: WaitingForDependency, Dependency: "migrate", Condition: v1alpha1.DependencyCompleted},
		},
		{
			name: "db probe has no verdict yet",
			obs: func(t *testing.T, env *v1alpha1.Environment) Observed {
				obs := withoutService(converged(t, env), "api")
				delete(obs.Probes, "c-db")
				return obs
			},
			wantWait: &Waiting{Reason: WaitingForDependency, Dependency: "db", Condition: v1alpha1.DependencyReady},
		},
		{
			name: "db probe failing",
			obs: func(t *testing.T, env *v1alpha1.Environment) Observed {
				obs := withoutService(converged(t, env), "api")
				obs.Probes = map[string]ProbeResult{"c-db": {Known: true, ConsecutiveFailures: 4}}
				return obs
			},
			wantWait: &Waiting{Reason: WaitingForDependency, Dependency: "db", Condition: v1alpha1.DependencyReady},
		},
		{
			name: "both hold",
			obs: func(t *testing.T, env *v1alpha1.Environment) Observed {
				return withoutService(converged(t, env), "api")
			},
			wantOps: []string{"CreateContainer api", "StartContainer api "},
		},
		{
			name: "created api starts once both hold",
			obs: func(t *testing.T, env *v1alpha1.Environment) Observed {
				return withContainer(converged(t, env), container(t, env, "api", "c-api", StateCreated))
			},
			wantOps: []string{"StartContainer api c-api"},
		},
		{
			name: "created api does not start while db is not ready",
			obs: func(t *testing.T, env *v1alpha1.Environment) Observed {
				obs := withContainer(converged(t, env), container(t, env, "api", "c-api", StateCreated))
				delete(obs.Probes, "c-db")
				return obs
			},
			wantWait: &Waiting{Reason: WaitingForDependency, Dependency: "db", Condition: v1alpha1.DependencyReady},
		},
		{
			name: "completed migrate of an older spec does not count",
			obs: func(t *testing.T, env *v1alpha1.Environment) Observed {
				obs := withoutService(converged(t, env), "api")
				m := container(t, env, "migrate", "c-migrate", StateExited)
				m.Labels = copyLabels(m.Labels, v1alpha1.LabelSpecHash, "0ld")
				return withContainer(obs, m)
			},
			wantOps:  []string{"RemoveContainer migrate c-migrate", "CreateContainer migrate", "StartContainer migrate "},
			wantWait: &Waiting{Reason: WaitingForDependency, Dependency: "migrate", Condition: v1alpha1.DependencyCompleted},
		},
		{
			name: "a recreate waits for dependencies and keeps the old container meanwhile",
			obs: func(t *testing.T, env *v1alpha1.Environment) Observed {
				obs := converged(t, env)
				api := container(t, env, "api", "c-api", StateRunning)
				api.Labels = copyLabels(api.Labels, v1alpha1.LabelSpecHash, "0ld")
				obs = withContainer(obs, api)
				delete(obs.Probes, "c-db")
				return obs
			},
			wantWait: &Waiting{Reason: WaitingForDependency, Dependency: "db", Condition: v1alpha1.DependencyReady},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			env := demoEnv()
			p := Compute(env, tt.obs(t, env), testOptions(), t0)
			assertStrings(t, "ops", p.Strings(), tt.wantOps)
			w, ok := p.Waiting["api"]
			switch {
			case tt.wantWait == nil && ok:
				t.Errorf("api waits %+v, want it to proceed", w)
			case tt.wantWait != nil && (w.Reason != tt.wantWait.Reason || w.Dependency != tt.wantWait.Dependency || w.Condition != tt.wantWait.Condition):
				t.Errorf("api waiting %+v, want %+v", w, *tt.wantWait)
			case tt.wantWait != nil && p.RequeueAfter != DefaultWaitPoll:
				t.Errorf("RequeueAfter %s while waiting, want %s", p.RequeueAfter, DefaultWaitPoll)
			}
		})
	}
}

func TestComputeStartedDependencyChainsWithinOnePlan(t *testing.T) {
	env := simpleEnv("db", "app")
	service(env, "app").DependsOn = []v1alpha1.Dependency{{Service: "db", Condition: v1alpha1.DependencyStarted}}
	obs := Observed{Network: ownedNetwork(env), Images: map[string]ObservedImage{testImage: {Present: true}}}

	p := Compute(env, obs, testOptions(), t0)
	assertStrings(t, "ops", p.Strings(), []string{"CreateContainer db", "StartContainer db ", "CreateContainer app", "StartContainer app "})
	if !slices.Equal(p.Ops[3].Needs, []int{1, 2}) {
		t.Errorf("start app needs %v, want db's start (1) and its own create (2)", p.Ops[3].Needs)
	}

	// A dependency that is crash-looping has not Started.
	db := container(t, env, "db", "c-db", StateExited)
	db.ExitCode, db.StartedAt, db.FinishedAt = 1, t0.Add(-2*time.Second), t0.Add(-time.Second)
	obs.Containers = []ObservedContainer{db}
	obs.Memory = map[string]ServiceMemory{"db": {ContainerID: "c-db", StartedAt: db.StartedAt.Truncate(time.Second), RestartCount: 1, RestartStreak: 1}}
	p = Compute(env, obs, testOptions(), t0)
	if w := p.Waiting["app"]; w.Reason != WaitingForDependency || w.Dependency != "db" {
		t.Errorf("app waiting %+v, want WaitingForDependency on db", w)
	}
	if p.Waiting["db"].Reason != WaitCrashLoopBackOff {
		t.Errorf("db waiting %+v, want CrashLoopBackOff", p.Waiting["db"])
	}
}

func TestComputeRestartPolicy(t *testing.T) {
	tests := []struct {
		policy  v1alpha1.RestartPolicy
		code    int32
		restart bool
	}{
		{v1alpha1.RestartAlways, 0, true},
		{v1alpha1.RestartAlways, 1, true},
		{v1alpha1.RestartAlways, 137, true},
		{v1alpha1.RestartOnFailure, 0, false},
		{v1alpha1.RestartOnFailure, 2, true},
		{v1alpha1.RestartNever, 0, false},
		{v1alpha1.RestartNever, 1, false},
	}
	for _, tt := range tests {
		env := simpleEnv("s")
		service(env, "s").RestartPolicy = tt.policy
		c := container(t, env, "s", "c-s", StateExited)
		c.ExitCode = tt.code
		obs := Observed{Network: ownedNetwork(env), Containers: []ObservedContainer{c}}
		// Long after the exit, so no back-off is left.
		p := Compute(env, obs, testOptions(), t0)
		var want []string
		if tt.restart {
			want = []string{"StartContainer s c-s"}
		}
		assertStrings(t, fmt.Sprintf("%s exit %d", tt.policy, tt.code), p.Strings(), want)
		if tt.restart && (!p.Ops[0].Restart || !strings.Contains(p.Ops[0].Reason, "after exit code")) {
			t.Errorf("%s: restart op %+v must be marked Restart with the exit code", tt.policy, p.Ops[0])
		}
		if !tt.restart && (len(p.Waiting) != 0 || p.RequeueAfter != 0) {
			t.Errorf("%s exit %d: left alone, want no waiting and no requeue, got %v %s", tt.policy, tt.code, p.Waiting, p.RequeueAfter)
		}
	}
}

func TestComputeCrashLoopBackOffTiming(t *testing.T) {
	env := simpleEnv("s")
	c := container(t, env, "s", "c-s", StateExited)
	c.ExitCode, c.StartedAt, c.FinishedAt = 1, t0.Add(-3*time.Second), t0
	obs := Observed{Network: ownedNetwork(env), Containers: []ObservedContainer{c},
		// Three quick restarts already happened in this loop (the first at
		// once, then 10s, 20s): the next waits 40s.
		Memory: map[string]ServiceMemory{"s": {ContainerID: "c-s", StartedAt: c.StartedAt.Truncate(time.Second), RestartCount: 5, RestartStreak: 3}}}

	p := Compute(env, obs, testOptions(), t0.Add(15*time.Second))
	if !p.Empty() {
		t.Fatalf("restart planned before its back-off ended: %v", p.Strings())
	}
	w := p.Waiting["s"]
	if w.Reason != WaitCrashLoopBackOff || !w.Until.Equal(t0.Add(40*time.Second)) {
		t.Errorf("waiting %+v, want CrashLoopBackOff until t0+40s", w)
	}
	if p.RequeueAfter != 25*time.Second {
		t.Errorf("RequeueAfter %s, want 25s (the back-off's end)", p.RequeueAfter)
	}

	p = Compute(env, obs, testOptions(), t0.Add(40*time.Second))
	assertStrings(t, "ops", p.Strings(), []string{"StartContainer s c-s"})
	if want := "restart s after exit code 1 (restart 6, backoff 40s)"; len(p.Ops) == 1 && p.Ops[0].Reason != want {
		t.Errorf("reason %q, want %q", p.Ops[0].Reason, want)
	}
}

func TestComputeImages(t *testing.T) {
	tests := []struct {
		name     string
		policy   v1alpha1.PullPolicy
		img      ObservedImage
		now      time.Time
		wantOps  []string
		wantWait WaitReason
		requeue  time.Duration
	}{
		{name: "IfNotPresent, present", policy: v1alpha1.PullIfNotPresent, img: ObservedImage{Present: true},
			wantOps: []string{"CreateContainer s", "StartContainer s "}},
		{name: "IfNotPresent, absent", policy: v1alpha1.PullIfNotPresent,
			wantOps: []string{"PullImage " + testImage, "CreateContainer s", "StartContainer s "}},
		{name: "Always, not pulled for this generation", policy: v1alpha1.PullAlways, img: ObservedImage{Present: true, PulledGeneration: 1},
			wantOps: []string{"PullImage " + testImage, "CreateContainer s", "StartContainer s "}},
		{name: "Always, pulled for this generation", policy: v1alpha1.PullAlways, img: ObservedImage{Present: true, PulledGeneration: 2},
			wantOps: []string{"CreateContainer s", "StartContainer s "}},
		{name: "Never, present", policy: v1alpha1.PullNever, img: ObservedImage{Present: true},
			wantOps: []string{"CreateContainer s", "StartContainer s "}},
		{name: "Never, not checked yet", policy: v1alpha1.PullNever,
			wantOps: []string{"PullImage " + testImage, "CreateContainer s", "StartContainer s "}},
		{name: "Never, absent when checked", policy: v1alpha1.PullNever,
			img: ObservedImage{PullFailures: 1, LastPullFailure: t0, PullError: "not present"}, now: t0.Add(5 * time.Second),
			wantWait: WaitErrImageNeverPull, requeue: 5 * time.Second},
		{name: "pull failed twice, in back-off", policy: v1alpha1.PullIfNotPresent,
			img: ObservedImage{PullFailures: 2, LastPullFailure: t0, PullError: "manifest unknown"}, now: t0.Add(5 * time.Second),
			wantWait: WaitImagePullFailed, requeue: 15 * time.Second},
		{name: "pull failed twice, back-off over", policy: v1alpha1.PullIfNotPresent,
			img: ObservedImage{PullFailures: 2, LastPullFailure: t0}, now: t0.Add(20 * time.Second),
			wantOps: []string{"PullImage " + testImage, "CreateContainer s", "StartContainer s "}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			env := simpleEnv("s")
			env.Generation = 2
			service(env, "s").ImagePullPolicy = tt.policy
			now := tt.now
			if now.IsZero() {
				now = t0
			}
			obs := Observed{Network: ownedNetwork(env), Images: map[string]ObservedImage{testImage: tt.img}}
			p := Compute(env, obs, testOptions(), now)
			assertStrings(t, "ops", p.Strings(), tt.wantOps)
			if got := p.Waiting["s"].Reason; got != tt.wantWait {
				t.Errorf("waiting %q, want %q", got, tt.wantWait)
			}
			if p.RequeueAfter != tt.requeue {
				t.Errorf("RequeueAfter %s, want %s", p.RequeueAfter, tt.requeue)
			}
			if pull, i := findOp(p, OpPullImage, ""); i >= 0 {
				if pull.PullPolicy != tt.policy {
					t.Errorf("pull policy %s, want %s", pull.PullPolicy, tt.policy)
				}
				if create, _ := findOp(p, OpCreateContainer, "s"); !slices.Contains(create.Needs, i) {
					t.Errorf("create needs %v, want the pull %d", create.Needs, i)
				}
			}
		})
	}
}

func TestComputePullsEachImageOnceAndAheadOfDependencies(t *testing.T) {
	env := demoEnv()
	service(env, "api").Image = "api:1"
	p := Compute(env, Observed{Network: ownedNetwork(env), Volumes: ownedVolumes(env)}, testOptions(), t0)
	var pulls []string
	for _, o := range p.Ops {
		if o.Kind == OpPullImage {
			pulls = append(pulls, o.Image)
		}
	}
	// api waits for migrate, but its image downloads meanwhile.
	assertStrings(t, "pulls", pulls, []string{testImage, "api:1"})
}

func TestComputeOwnershipAndConflicts(t *testing.T) {
	t.Run("container of an earlier incarnation is replaced", func(t *testing.T) {
		env := simpleEnv("s")
		old := container(t, env, "s", "c-old", StateRunning)
		old.Labels = copyLabels(old.Labels, v1alpha1.LabelEnvironmentUID, "uid-previous")
		p := Compute(env, Observed{Network: ownedNetwork(env), Containers: []ObservedContainer{old},
			Images: map[string]ObservedImage{testImage: {Present: true}}}, testOptions(), t0)
		assertStrings(t, "ops", p.Strings(), []string{"RemoveContainer s c-old", "CreateContainer s", "StartContainer s "})
		if p.Ops[0].RemoveReason != RemoveStaleIncarnation || !slices.Equal(p.Ops[1].Needs, []int{0}) {
			t.Errorf("removal %s, create needs %v", p.Ops[0].RemoveReason, p.Ops[1].Needs)
		}
	})
	t.Run("duplicates are removed, the named one kept", func(t *testing.T) {
		env := simpleEnv("s")
		keep := container(t, env, "s", "c-b", StateRunning)
		dup := container(t, env, "s", "c-a", StateRunning)
		dup.Name = "berth_web_s-copy"
		p := Compute(env, Observed{Network: ownedNetwork(env), Containers: []ObservedContainer{dup, keep}}, testOptions(), t0)
		assertStrings(t, "ops", p.Strings(), []string{"RemoveContainer s c-a"})
		if p.Ops[0].RemoveReason != RemoveDuplicate || p.Ops[0].Grace != 10*time.Second {
			t.Errorf("removal %+v", p.Ops[0])
		}
	})
	t.Run("a foreign container holding the name is never touched", func(t *testing.T) {
		env := simpleEnv("s")
		decoy := ObservedContainer{ID: "decoy", Name: "/berth_web_s", State: StateRunning, Labels: map[string]string{"app": "mine"}}
		other := container(t, env, "s", "other-mgr", StateRunning)
		other.Labels = copyLabels(other.Labels, v1alpha1.LabelManagedBy, "someone-else")
		for _, c := range []ObservedContainer{decoy, other} {
			p := Compute(env, Observed{Network: ownedNetwork(env), Containers: []ObservedContainer{c}}, testOptions(), t0)
			if !p.Empty() {
				t.Errorf("ops %v touch or collide with a container berth does not own", p.Strings())
			}
			if w := p.Waiting["s"]; w.Reason != WaitNameConflict || !strings.Contains(w.Message, "berth_web_s") {
				t.Errorf("waiting %+v, want NameConflict naming the container", w)
			}
		}
	})
	t.Run("a foreign network blocks creation", func(t *testing.T) {
		env := simpleEnv("s")
		obs := Observed{Network: &ObservedNetwork{Name: "berth_web", ID: "n"}}
		p := Compute(env, obs, testOptions(), t0)
		if !p.Empty() || p.Waiting["s"].Reason != WaitNameConflict {
			t.Errorf("ops %v waiting %v, want nothing but a NameConflict", p.Strings(), p.Waiting)
		}
	})
	t.Run("a foreign volume blocks the services that mount it", func(t *testing.T) {
		env := demoEnv()
		obs := Observed{Network: ownedNetwork(env), Images: map[string]ObservedImage{testImage: {Present: true}},
			Volumes: map[string]ObservedVolume{"berth_demo_data": {Name: "berth_demo_data"}}}
		p := Compute(env, obs, testOptions(), t0)
		assertStrings(t, "ops", p.Strings(), []string{"CreateContainer migrate", "StartContainer migrate "})
		if p.Waiting["db"].Reason != WaitNameConflict {
			t.Errorf("db waiting %+v, want NameConflict", p.Waiting["db"])
		}
	})
	t.Run("without a manager identity nothing is owned", func(t *testing.T) {
		if IsOwned(map[string]string{v1alpha1.LabelManagedBy: ""}, "") {
			t.Error("an empty identity must own nothing")
		}
	})
}

func TestComputeContainerStates(t *testing.T) {
	tests := []struct {
		state    ContainerState
		wantOps  []string
		wantWait WaitReason
	}{
		{StateRunning, nil, ""},
		{StatePaused, nil, ""},
		{StateRestarting, nil, ""},
		{StateCreated, []string{"StartContainer s c-s"}, ""},
		{StateDead, []string{"RemoveContainer s c-s", "CreateContainer s", "StartContainer s "}, ""},
		{StateRemoving, nil, WaitContainerRemoving},
	}
	for _, tt := range tests {
		env := simpleEnv("s")
		obs := Observed{Network: ownedNetwork(env), Images: map[string]ObservedImage{testImage: {Present: true}},
			Containers: []ObservedContainer{container(t, env, "s", "c-s", tt.state)}}
		p := Compute(env, obs, testOptions(), t0)
		assertStrings(t, string(tt.state), p.Strings(), tt.wantOps)
		if got := p.Waiting["s"].Reason; got != tt.wantWait {
			t.Errorf("%s: waiting %q, want %q", tt.state, got, tt.wantWait)
		}
	}
}

func TestComputeContainerGoneFromOutside(t *testing.T) {
	env := simpleEnv("s")
	obs := Observed{Network: ownedNetwork(env), Images: map[string]ObservedImage{testImage: {Present: true}},
		Memory: map[string]ServiceMemory{"s": {ContainerID: "0123456789abcdef"}}}
	p := Compute(env, obs, testOptions(), t0)
	assertStrings(t, "ops", p.Strings(), []string{"CreateContainer s", "StartContainer s "})
	if want := "create s: container 0123456789ab is gone"; p.Ops[0].Reason != want {
		t.Errorf("reason %q, want %q", p.Ops[0].Reason, want)
	}
}

func TestComputeTTL(t *testing.T) {
	env := demoEnv()
	env.Spec.TTLSecondsAfterReady = ptr(int64(60))
	env.Status.FirstReadyTime = &metav1.Time{Time: t0}
	obs := converged(t, env)

	p := Compute(env, obs, testOptions(), t0.Add(20*time.Second))
	if p.TTLExpired || p.RequeueAfter != 40*time.Second {
		t.Errorf("before expiry: expired %v requeue %s, want false 40s", p.TTLExpired, p.RequeueAfter)
	}
	p = Compute(env, obs, testOptions(), t0.Add(60*time.Second))
	if !p.TTLExpired {
		t.Error("TTL not expired at FirstReadyTime + ttl")
	}
	env.Status.FirstReadyTime = nil
	if p = Compute(env, obs, testOptions(), t0.Add(time.Hour)); p.TTLExpired || p.RequeueAfter != 0 {
		t.Error("the TTL counts from the first Ready only")
	}
}

func TestComputeDeletingGivesTeardown(t *testing.T) {
	env := demoEnv()
	env.DeletionTimestamp = &metav1.Time{Time: t0}
	p := Compute(env, converged(t, env), testOptions(), t0)
	if !p.Teardown || len(p.Ops) == 0 || p.Ops[0].Kind != OpRemoveContainer {
		t.Errorf("plan %v: want the teardown plan", p.Strings())
	}
	if Compute(nil, Observed{}, testOptions(), t0).Teardown || !Compute(nil, Observed{}, testOptions(), t0).Empty() {
		t.Error("a nil Environment must give an empty plan")
	}
}
