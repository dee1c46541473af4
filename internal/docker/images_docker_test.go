package docker

import (
	"context"
	"net/http"
	"os/exec"
	"path/filepath"
	"runtime"
	"sync/atomic"
	"testing"
	"time"

	"github.com/moby/moby/client"

	"berth.dev/berth/internal/governor"
)

const localRegistry = "127.0.0.1:5000"

// ensureRegistry makes sure the local registry (hack/ensure-registry.sh)
// answers; no test here ever reaches a registry off this machine.
func ensureRegistry(t *testing.T) {
	t.Helper()
	hc := http.Client{Timeout: 2 * time.Second}
	if resp, err := hc.Get("http://" + localRegistry + "/v2/"); err == nil {
		resp.Body.Close()
		return
	}
	runEnsureRegistry(t)
}

// runEnsureRegistry runs hack/ensure-registry.sh, which starts both local
// registries (open on 5000, htpasswd on 5001) when they do not answer.
func runEnsureRegistry(t *testing.T) {
	t.Helper()
	_, file, _, _ := runtime.Caller(0)
	script := filepath.Join(filepath.Dir(file), "..", "..", "hack", "ensure-registry.sh")
	if out, err := exec.Command(script).CombinedOutput(); err != nil {
		t.Fatalf("%s: %v\n%s", script, err, out)
	}
}

// tagTestImage tags the test image as ref and returns the untag, which
// also runs when the test ends (a second call is harmless).
func tagTestImage(ctx context.Context, t *testing.T, ref string) (untag func()) {
	t.Helper()
	if _, err := raw.ImageTag(ctx, client.ImageTagOptions{Source: testImage, Target: ref}); err != nil {
		t.Fatal(err)
	}
	untag = func() {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		if _, err := raw.ImageRemove(ctx, ref, client.ImageRemoveOptions{}); err != nil && !isNotFoundErr(err) {
			t.Errorf("untag %s: %v", ref, err)
		}
	}
	t.Cleanup(untag)
	return untag
}

func TestEnsureImagePolicies(t *testing.T) {
	needDocker(t)
	ensureRegistry(t)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	ref := localRegistry + "/berth-test/" + testPrefix + ":dev"
	untag := tagTestImage(ctx, t, ref)
	push, err := raw.ImagePush(ctx, ref, client.ImagePushOptions{RegistryAuth: "e30="})
	if err != nil {
		t.Fatal(err)
	}
	for msg, err := range push.JSONMessages(ctx) {
		if err != nil {
			t.Fatal(err)
		}
		if msg.Error != nil {
			t.Fatalf("push %s: %s", ref, msg.Error.Message)
		}
	}
	untag()

	c := newTestClient(t, dockerHost, governor.ProfileCI, func(cfg *Config) {
		cfg.RetryBackoff = []time.Duration{100 * time.Millisecond}
	})
	if err := c.EnsureImage(ctx, ref, PullNever, nil); !IsImageNotPresent(err) {
		t.Fatalf("Never with the image missing = %v, want ImageNotPresent", err)
	} else {
		t.Logf("Never: %v", err)
	}
	var progress atomic.Int32
	if err := c.EnsureImage(ctx, ref, PullIfNotPresent, func(PullProgress) { progress.Add(1) }); err != nil {
		t.Fatal(err)
	}
	if progress.Load() == 0 {
		t.Fatal("no progress reported while pulling")
	}
	if ok, err := c.ImagePresent(ctx, ref); !ok || err != nil {
		t.Fatalf("image not present after pull: %v", err)
	}
	pulls := c.Stats().ByOp["image_pull"].Calls
	if err := c.EnsureImage(ctx, ref, PullIfNotPresent, nil); err != nil {
		t.Fatal(err)
	}
	if err := c.EnsureImage(ctx, ref, PullNever, nil); err != nil {
		t.Fatal(err)
	}
	if got := c.Stats().ByOp["image_pull"].Calls; got != pulls {
		t.Fatalf("IfNotPresent/Never pulled a present image (%d pulls, want %d)", got, pulls)
	}
	if err := c.EnsureImage(ctx, ref, PullAlways, nil); err != nil {
		t.Fatal(err)
	}
	if got := c.Stats().ByOp["image_pull"].Calls; got != pulls+1 {
		t.Fatalf("Always did not pull (%d pulls, want %d)", got, pulls+1)
	}

	err = c.EnsureImage(ctx, "127.0.0.1:5999/berth-test/nothing:dev", PullIfNotPresent, nil)
	if !IsRegistryUnreachable(err) {
		t.Fatalf("pull from a registry nobody serves = %v, want RegistryUnreachable", err)
	}
	t.Logf("unreachable: %v", err)
	err = c.EnsureImage(ctx, localRegistry+"/berth-test/"+testPrefix+"-missing:dev", PullIfNotPresent, nil)
	if !IsRegistryUnreachable(err) {
		t.Fatalf("pull of a tag the registry lacks = %v, want RegistryUnreachable", err)
	}
	t.Logf("missing: %v", err)
	if err := c.EnsureImage(ctx, ref, "Sometimes", nil); !IsInvalid(err) {
		t.Fatalf("unknown policy = %v, want Invalid", err)
	}
}
