package plan

import (
	"strings"
	"testing"

	"berth.dev/berth/apis/v1alpha1"
)

// builtEnv is simpleEnv whose "web" service builds its image; the
// controller has already put the build tag in image.
func builtEnv(tag string) *v1alpha1.Environment {
	env := simpleEnv("web")
	s := service(env, "web")
	s.Image = tag
	s.Build = &v1alpha1.Build{Context: "/src/web"}
	return env
}

func TestComputeBuildsBeforeCreating(t *testing.T) {
	tag := BuildTag("web", "0123456789abcdef0123")
	env := builtEnv(tag)
	p := Compute(env, Observed{Builds: map[string]ObservedBuild{"web": {Ref: tag}}}, testOptions(), t0)
	build, bi := findOp(p, OpBuildImage, "web")
	if bi < 0 || build.Image != tag || !strings.Contains(build.Reason, "/src/web") {
		t.Fatalf("ops %v: want a build of %s", p.Strings(), tag)
	}
	if _, pi := findOp(p, OpPullImage, ""); pi >= 0 {
		t.Errorf("a built image is pulled: %v", p.Strings())
	}
	create, _ := findOp(p, OpCreateContainer, "web")
	if create.Config == nil || create.Config.Image != tag {
		t.Fatalf("create %+v does not use the build tag", create)
	}
	needs := false
	for _, n := range create.Needs {
		needs = needs || n == bi
	}
	if !needs {
		t.Errorf("create needs %v, not the build %d", create.Needs, bi)
	}

	// Present: nothing to build; converged: nothing at all.
	obs := Observed{
		Network:    ownedNetwork(env),
		Containers: []ObservedContainer{container(t, env, "web", "c-web", StateRunning)},
		Builds:     map[string]ObservedBuild{"web": {Ref: tag, Present: true}},
	}
	if p := Compute(env, obs, testOptions(), t0); !p.Empty() {
		t.Errorf("converged with a present build: %v", p.Strings())
	}
}

func TestComputeUnreadableContextHoldsWithBackoff(t *testing.T) {
	env := builtEnv("")
	obs := Observed{Builds: map[string]ObservedBuild{"web": {ContextError: "build context /src/web: does not exist", Failures: 3, LastFailure: t0}}}
	p := Compute(env, obs, testOptions(), t0)
	if _, i := findOp(p, OpCreateContainer, "web"); i >= 0 {
		t.Fatalf("created without an image: %v", p.Strings())
	}
	if _, i := findOp(p, OpBuildImage, "web"); i >= 0 {
		t.Fatalf("built an unreadable context: %v", p.Strings())
	}
	w := p.Waiting["web"]
	if w.Reason != WaitBuildContext || !strings.Contains(w.Message, "/src/web") {
		t.Errorf("waiting %+v", w)
	}
	if want := testOptions().withDefaults().Backoff.Delay(3); p.RequeueAfter != want {
		t.Errorf("requeue after %s, want the back-off %s", p.RequeueAfter, want)
	}
}

func TestComputeFailedBuildRetriesAfterBackoff(t *testing.T) {
	tag := BuildTag("web", "feedfacefeedface")
	env := builtEnv(tag)
	ob := ObservedBuild{Ref: tag, Failures: 1, LastFailure: t0, Error: "COPY failed"}
	p := Compute(env, Observed{Builds: map[string]ObservedBuild{"web": ob}}, testOptions(), t0)
	if _, i := findOp(p, OpBuildImage, "web"); i >= 0 || p.Waiting["web"].Reason != WaitBuildFailed {
		t.Fatalf("inside the back-off: ops %v waiting %+v", p.Strings(), p.Waiting)
	}
	later := t0.Add(testOptions().withDefaults().Backoff.Delay(1))
	if _, i := findOp(Compute(env, Observed{Builds: map[string]ObservedBuild{"web": ob}}, testOptions(), later), OpBuildImage, "web"); i < 0 {
		t.Error("no retry after the back-off")
	}
}

func TestBuildTagChangesTheSpecHash(t *testing.T) {
	a, b := builtEnv(BuildTag("web", "aaaaaaaaaaaaaaaa")), builtEnv(BuildTag("web", "bbbbbbbbbbbbbbbb"))
	if SpecHash(mustConfig(t, a, "web")) == SpecHash(mustConfig(t, b, "web")) {
		t.Error("a new build tag keeps the container")
	}
}
