package plan

import (
	"fmt"
	"maps"
	"slices"
	"testing"
	"time"

	"berth.dev/berth/apis/v1alpha1"
)

// sim executes ops against an Observed the way Docker and the informer
// would, so the tests can check what Compute does next.
type sim struct {
	env   *v1alpha1.Environment
	obs   Observed
	next  int
	clock time.Time
}

func newSim(env *v1alpha1.Environment, obs Observed) *sim {
	s := &sim{env: env, obs: cloneObserved(obs), clock: t0}
	if s.obs.Images == nil {
		s.obs.Images = map[string]ObservedImage{}
	}
	if s.obs.Volumes == nil {
		s.obs.Volumes = map[string]ObservedVolume{}
	}
	if s.obs.Probes == nil {
		s.obs.Probes = map[string]ProbeResult{}
	}
	return s
}

func cloneObserved(o Observed) Observed {
	out := o
	if o.Network != nil {
		n := *o.Network
		out.Network = &n
	}
	out.Volumes = maps.Clone(o.Volumes)
	out.Containers = slices.Clone(o.Containers)
	out.Images = maps.Clone(o.Images)
	out.Probes = maps.Clone(o.Probes)
	out.Memory = maps.Clone(o.Memory)
	return out
}

func (s *sim) find(op Op) int {
	for i, c := range s.obs.Containers {
		if (op.ContainerID != "" && c.ID == op.ContainerID) || (op.ContainerID == "" && c.name() == op.ContainerName) {
			return i
		}
	}
	return -1
}

func (s *sim) apply(t *testing.T, op Op) {
	t.Helper()
	switch op.Kind {
	case OpEnsureNetwork:
		s.obs.Network = &ObservedNetwork{Name: op.Network, ID: "net-new", Labels: op.Labels}
	case OpEnsureVolume:
		s.obs.Volumes[op.Volume] = ObservedVolume{Name: op.Volume, Labels: op.Labels}
	case OpPullImage:
		s.obs.Images[op.Image] = ObservedImage{Present: true, PulledGeneration: s.env.Generation}
	case OpCreateContainer:
		s.next++
		s.obs.Containers = append(s.obs.Containers, ObservedContainer{
			ID: fmt.Sprintf("new-%s-%d", op.Service, s.next), Name: op.Config.Name, Labels: op.Config.Labels,
			State: StateCreated, StopTimeout: op.Config.StopTimeout,
		})
	case OpStartContainer:
		i := s.find(op)
		if i < 0 {
			t.Fatalf("start of a container that does not exist: %s", op)
		}
		s.obs.Containers[i].State = StateRunning
		s.obs.Containers[i].StartedAt = s.clock
	case OpRemoveContainer:
		i := s.find(op)
		if i < 0 {
			t.Fatalf("removal of a container that does not exist: %s", op)
		}
		s.obs.Containers = slices.Delete(s.obs.Containers, i, i+1)
	case OpRemoveNetwork:
		s.obs.Network = nil
	case OpRemoveVolume:
		delete(s.obs.Volumes, op.Volume)
	}
}

// shape is an op without the IDs of containers the plan itself creates,
// which a later Compute knows and the first one could not.
func shape(p Plan) []string {
	out := make([]string, len(p.Ops))
	for i, o := range p.Ops {
		out[i] = fmt.Sprintf("%s %s%s%s%s restart=%v", o.Kind, o.Service, o.Network, o.Volume, o.Image, o.Restart)
	}
	return out
}

func TestComputeRestOfPlanAfterAnyPrefix(t *testing.T) {
	scenarios := map[string]func(t *testing.T) (*v1alpha1.Environment, Observed){
		"fresh, Started chain": func(t *testing.T) (*v1alpha1.Environment, Observed) {
			env := simpleEnv("db", "cache", "app")
			service(env, "app").DependsOn = []v1alpha1.Dependency{{Service: "db", Condition: v1alpha1.DependencyStarted}, {Service: "cache", Condition: v1alpha1.DependencyStarted}}
			env.Spec.Volumes = []v1alpha1.Volume{{Name: "v"}}
			service(env, "db").VolumeMounts = []v1alpha1.VolumeMount{{Name: "v", MountPath: "/v"}}
			return env, Observed{}
		},
		"demo fresh": func(t *testing.T) (*v1alpha1.Environment, Observed) { return demoEnv(), Observed{} },
		"mixed drift": func(t *testing.T) (*v1alpha1.Environment, Observed) {
			env := demoEnv()
			obs := converged(t, env)
			obs.Network = nil
			old := container(t, simpleEnv("gone"), "gone", "c-gone", StateRunning)
			old.Labels = copyLabels(old.Labels, v1alpha1.LabelEnvironment, "demo", v1alpha1.LabelEnvironmentUID, "uid-1")
			obs.Containers = append(obs.Containers, old)
			service(env, "api").Args = []string{"--new"}
			db := container(t, env, "db", "c-db", StateExited)
			db.ExitCode = 2
			obs = withContainer(obs, db)
			obs.Probes = map[string]ProbeResult{"c-api": {Known: true, Ready: true}}
			return env, obs
		},
	}
	for name, build := range scenarios {
		t.Run(name, func(t *testing.T) {
			env, obs := build(t)
			full := Compute(env, obs, testOptions(), t0)
			if full.Empty() {
				t.Fatal("scenario has nothing to do")
			}
			want := shape(full)
			for k := 0; k <= len(full.Ops); k++ {
				s := newSim(env, obs)
				for _, op := range full.Ops[:k] {
					s.apply(t, op)
				}
				rest := Compute(env, s.obs, testOptions(), t0)
				assertStrings(t, fmt.Sprintf("after %d ops", k), shape(rest), want[k:])
			}
		})
	}
}

// TestComputeConvergesDemo drives demo from nothing to an empty plan, with
// migrate finishing and probes passing in between, as they would.
func TestComputeConvergesDemo(t *testing.T) {
	env := demoEnv()
	s := newSim(env, Observed{})
	var log []string
	for round := 0; ; round++ {
		if round > 10 {
			t.Fatalf("no convergence after 10 rounds: %v", log)
		}
		p := Compute(env, s.obs, testOptions(), s.clock)
		if p.Empty() && len(p.Waiting) == 0 {
			break
		}
		for _, op := range p.Ops {
			s.apply(t, op)
			log = append(log, op.String())
		}
		// Time passes: migrate finishes, probes pass.
		s.clock = s.clock.Add(2 * time.Second)
		for i, c := range s.obs.Containers {
			if c.State != StateRunning {
				continue
			}
			if c.service() == "migrate" {
				s.obs.Containers[i].State, s.obs.Containers[i].FinishedAt = StateExited, s.clock
			} else {
				s.obs.Probes[c.ID] = ProbeResult{Known: true, Ready: true, HasBeenReady: true}
			}
		}
	}
	want := []string{
		"EnsureNetwork berth_demo", "EnsureVolume berth_demo_data", "PullImage " + testImage,
		"CreateContainer migrate", "StartContainer migrate ", "CreateContainer db", "StartContainer db ",
		"CreateContainer api", "StartContainer api ",
	}
	assertStrings(t, "ops over all rounds", log, want)
	if len(s.obs.Containers) != 3 {
		t.Errorf("%d containers, want exactly 3 (no duplicates)", len(s.obs.Containers))
	}
}
