package controllers

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/go-logr/logr/testr"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"

	"berth.dev/berth/apis/v1alpha1"
	"berth.dev/berth/controllers/plan"
	"berth.dev/berth/internal/buildctx"
	"berth.dev/berth/internal/docker"
	"berth.dev/berth/internal/informer"
)

// buildController is the part of the controller builds use, on a real
// Docker layer of its own identity, with an empty (unsynced) cache.
func buildController(t *testing.T, budget int64) (*Controller, *docker.Client) {
	t.Helper()
	cli, _, _ := dockerTestClient(t, "berth-build-test-")
	return &Controller{
		opts:      Options{BuildCacheMax: budget, Plan: plan.Options{ManagerID: cli.ManagerID()}, AllowedHostPaths: []string{os.TempDir()}},
		log:       testr.New(t),
		docker:    cli,
		cache:     informer.New(cli),
		builds:    newBuildBook(),
		buildLogs: buildctx.NewLogStore(0),
	}, cli
}

func buildContext(t *testing.T, content string) string {
	t.Helper()
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "Dockerfile"), []byte("FROM scratch\nCOPY payload /payload\n"), 0o644)
	os.WriteFile(filepath.Join(dir, "payload"), []byte(content), 0o644)
	return dir
}

func buildingEnv(name, service, dir string) *v1alpha1.Environment {
	return &v1alpha1.Environment{
		ObjectMeta: metav1.ObjectMeta{Name: name, UID: types.UID("uid-" + name), Generation: 1},
		Spec: v1alpha1.EnvironmentSpec{Services: []v1alpha1.Service{
			{Name: service, Build: &v1alpha1.Build{Context: dir}},
		}},
	}
}

// buildNow resolves env's builds and runs the BuildImage op the plan
// would, returning the tag.
func buildNow(ctx context.Context, t *testing.T, c *Controller, env *v1alpha1.Environment) string {
	t.Helper()
	_, builds, warnings := c.resolveBuilds(env, time.Now())
	if len(warnings) > 0 {
		t.Fatalf("warnings: %+v", warnings)
	}
	svc := env.Spec.Services[0].Name
	ref := builds[svc].Ref
	if _, err := c.runBuild(ctx, env, plan.Op{Kind: plan.OpBuildImage, Environment: env.Name, Service: svc, Image: ref}); err != nil {
		t.Fatal(err)
	}
	return ref
}

func imageExists(ctx context.Context, t *testing.T, cli *docker.Client, ref string) bool {
	t.Helper()
	ok, err := cli.ImagePresent(ctx, ref)
	if err != nil {
		t.Fatal(err)
	}
	return ok
}

func TestBuiltImageSharedByEnvironmentsIsRemovedWithTheLastOne(t *testing.T) {
	c, cli := buildController(t, 0)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	dir := buildContext(t, "shared")
	a, b := buildingEnv("a", "web", dir), buildingEnv("b", "web", dir)
	t.Cleanup(func() { _ = cli.RemoveBuiltImage(context.Background(), plan.BuildTag("web", mustHash(t, dir))) })

	refA := buildNow(ctx, t, c, a)
	refB := buildNow(ctx, t, c, b)
	if refA != refB {
		t.Fatalf("same context, two tags: %s %s", refA, refB)
	}
	if n := cli.Stats().ByOp["image_build"].Calls; n != 1 {
		t.Fatalf("image_build calls = %d, want 1 (the second Environment shares the image)", n)
	}
	if log, ok := c.buildLogs.Get("a", "web"); !ok || !strings.Contains(string(log), "COPY payload") {
		t.Errorf("build log of a/web: %q", log)
	}

	if err := c.removeBuiltImages(ctx, a); err != nil {
		t.Fatal(err)
	}
	c.builds.forget("a")
	if !imageExists(ctx, t, cli, refA) {
		t.Fatal("image removed while Environment b uses it")
	}
	if err := c.removeBuiltImages(ctx, b); err != nil {
		t.Fatal(err)
	}
	if imageExists(ctx, t, cli, refA) {
		t.Fatal("image kept after its last Environment")
	}
}

func TestBuildCacheBudgetPrunesTheLeastRecentlyUsed(t *testing.T) {
	const size = 200 << 10
	// Room for two of the three images.
	c, cli := buildController(t, 2*size+size/2)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	// The run's own content: another run of this test on the same daemon
	// (another worktree) would otherwise build the same tags and move them.
	_, _, run := dockerTestClient(t, "berth-build-nonce-")
	var refs []string
	for i, name := range []string{"old", "mid", "new"} {
		env := buildingEnv(name, "svc", buildContext(t, run+strings.Repeat(string(rune('a'+i)), size)))
		ref := buildNow(ctx, t, c, env)
		refs = append(refs, ref)
		t.Cleanup(func() { _ = cli.RemoveBuiltImage(context.Background(), ref) })
		if name != "new" {
			// Deleted Environments: their images are no longer needed,
			// only remembered by last use.
			c.builds.forget(name)
		}
	}
	if imageExists(ctx, t, cli, refs[0]) {
		t.Error("the least recently used image survived the budget")
	}
	for _, ref := range refs[1:] {
		if !imageExists(ctx, t, cli, ref) {
			t.Errorf("%s pruned although the rest fits the budget", ref)
		}
	}
}

// An image whose tag moved to another image (another manager built the
// same tag, or a service's image name was reused) is listed untagged
// ("<none>:<none>" on older daemons): the budget removes it by its ID and
// leaves the image that now holds the tag alone.
func TestBuildCacheBudgetPrunesAnImageWhoseTagMoved(t *testing.T) {
	const size = 200 << 10
	c, cli := buildController(t, 2*size+size/2)
	other, _, run := dockerTestClient(t, "berth-build-other-")
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()

	old := buildingEnv("old", "svc", buildContext(t, run+strings.Repeat("a", size)))
	oldRef := buildNow(ctx, t, c, old)
	t.Cleanup(func() { _ = other.RemoveBuiltImage(context.Background(), oldRef) })
	c.builds.forget("old")
	oldID := builtImageID(ctx, t, cli, oldRef)

	// Another manager's build takes the tag: ours is now dangling.
	dir := buildContext(t, run+"other")
	h := mustHash(t, dir)
	otherTag := plan.BuildTag("other", h)
	built, err := other.BuildImage(ctx, docker.BuildSpec{Context: buildctx.Spec{Dir: dir}, Tag: otherTag, Also: []string{oldRef}, Hash: h}, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = other.RemoveBuiltImageID(context.Background(), built.ImageID) })
	if builtImageID(ctx, t, other, oldRef) != built.ImageID {
		t.Fatalf("tag %s did not move", oldRef)
	}

	for i, name := range []string{"mid", "new"} {
		ref := buildNow(ctx, t, c, buildingEnv(name, "svc", buildContext(t, run+strings.Repeat(string(rune('b'+i)), size))))
		t.Cleanup(func() { _ = cli.RemoveBuiltImage(context.Background(), ref) })
		if !imageExists(ctx, t, cli, ref) {
			t.Errorf("%s pruned although the rest fits the budget", ref)
		}
	}
	if imageExists(ctx, t, cli, oldID) {
		t.Errorf("the dangling image %s survived the budget", oldID)
	}
	if !imageExists(ctx, t, cli, built.ImageID) || builtImageID(ctx, t, other, oldRef) != built.ImageID {
		t.Error("the other manager's image (now holding the moved tag) was touched")
	}
}

func builtImageID(ctx context.Context, t *testing.T, cli *docker.Client, ref string) string {
	t.Helper()
	ims, err := cli.BuiltImages(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, im := range ims {
		if slices.Contains(im.Tags, ref) {
			return im.ID
		}
	}
	t.Fatalf("no image of this manager is tagged %s", ref)
	return ""
}

func TestUnreadableBuildContextIsAWarningNamingThePath(t *testing.T) {
	root := t.TempDir()
	c := &Controller{builds: newBuildBook(), opts: Options{Plan: plan.Options{}, AllowedHostPaths: []string{root}}}
	missing := filepath.Join(root, "nope")
	env := buildingEnv("x", "web", missing)
	now := time.Now()
	_, builds, warnings := c.resolveBuilds(env, now)
	if len(warnings) != 1 || warnings[0].Type != plan.EventWarning || !strings.Contains(warnings[0].Message, missing) || !strings.Contains(warnings[0].Message, "no such file") {
		t.Fatalf("warnings %+v", warnings)
	}
	if b := builds["web"]; b.Ref != "" || !strings.Contains(b.ContextError, missing) || b.Failures != 1 {
		t.Fatalf("build %+v", b)
	}
	// The same failure again: no second warning, no hot loop (the plan
	// waits out the back-off from the first failure).
	if _, _, w := c.resolveBuilds(env, now.Add(time.Millisecond)); len(w) != 0 {
		t.Errorf("repeated warning: %+v", w)
	}
}

func mustHash(t *testing.T, dir string) string {
	t.Helper()
	h, err := buildctx.Hash(buildctx.Spec{Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	return h
}
