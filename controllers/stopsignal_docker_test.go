package controllers

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"

	"berth.dev/berth/apis/v1alpha1"
	"berth.dev/berth/controllers/plan"
	"berth.dev/berth/internal/docker"
	"berth.dev/berth/internal/informer"
)

// stopSignalImage builds a FROM scratch image of this tree's testapp whose
// STOPSIGNAL is SIGUSR1 and which ignores SIGTERM: a stop that sends
// Docker's default instead of the image's signal waits out the grace period
// and ends in SIGKILL. The tag is the test's own; the image is removed after.
func stopSignalImage(t *testing.T, tag string) {
	t.Helper()
	dir := t.TempDir()
	build := exec.Command("go", "build", "-trimpath", "-o", filepath.Join(dir, "testapp"), "../hack/testapp")
	build.Env = append(os.Environ(), "CGO_ENABLED=0", "GOOS=linux")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build testapp: %v\n%s", err, out)
	}
	dockerfile := "FROM scratch\nCOPY testapp /testapp\nSTOPSIGNAL SIGUSR1\n" +
		`ENTRYPOINT ["/testapp", "--http-port=0", "--stop-signals=SIGUSR1,SIGINT"]` + "\n"
	if err := os.WriteFile(filepath.Join(dir, "Dockerfile"), []byte(dockerfile), 0o644); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command("docker", "build", "--quiet", "--tag", tag, dir)
	// The classic builder handles FROM scratch + COPY and needs no buildx.
	cmd.Env = append(os.Environ(), "DOCKER_BUILDKIT=0")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("docker build %s: %v\n%s", tag, err, out)
	}
	t.Cleanup(func() {
		if out, err := exec.Command("docker", "rmi", tag).CombinedOutput(); err != nil {
			t.Logf("docker rmi %s: %v %s", tag, err, out)
		}
	})
}

type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// TestTeardownStopsWithTheImagesStopSignal creates containers the way the
// controller does (plan config → Docker spec), then tears them down with
// the Docker layer's StopAndRemove: the image's STOPSIGNAL reaches the
// process unless the spec's stopSignal overrides it, and the process exits
// by itself (code 0, before the grace period) instead of being killed.
func TestTeardownStopsWithTheImagesStopSignal(t *testing.T) {
	if testing.Short() {
		t.Skip("Docker-backed")
	}
	cli, cfg, run := dockerTestClient(t, "berth-stopsig-")
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	image := "berth-stopsig-test:" + run
	stopSignalImage(t, image)

	inf := informer.New(cli)
	dies := make(chan informer.Event, 16)
	inf.AddHandler(func(_ string, ev informer.Event) {
		if ev.Kind == informer.KindContainer && ev.Action == "die" {
			dies <- ev
		}
	})
	go func() { _ = inf.Run(ctx) }()
	if err := inf.WaitForSync(ctx); err != nil {
		t.Fatal(err)
	}

	for _, tc := range []struct {
		name, env, stopSignal, want, notWant string
	}{
		{"image STOPSIGNAL", "ss" + run + "a", "", "received SIGUSR1, exiting with code 0", "received SIGTERM"},
		{"spec stopSignal", "ss" + run + "b", "SIGINT", "received SIGINT, exiting with code 0", "received SIGUSR1"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			env := &v1alpha1.Environment{ObjectMeta: metav1.ObjectMeta{Name: tc.env, UID: types.UID("uid-" + tc.env)}}
			grace := int64(20)
			env.Spec.Services = []v1alpha1.Service{{
				Name: "app", Image: image, StopSignal: tc.stopSignal, TerminationGracePeriodSeconds: &grace,
			}}
			svc := &env.Spec.Services[0]
			created := createLikeController(ctx, t, cli, cfg, env, svc)
			if err := cli.StartContainer(ctx, created.ID); err != nil {
				t.Fatal(err)
			}
			var logs lockedBuffer
			logsDone := make(chan error, 1)
			go func() {
				logsDone <- cli.Logs(ctx, created.ID, docker.LogOptions{Follow: true, Tail: docker.MaxLogTail}, &logs, &logs)
			}()
			deadline := time.Now().Add(time.Minute)
			for !strings.Contains(logs.String(), "testapp: ready") {
				if time.Now().After(deadline) {
					t.Fatalf("testapp not ready:\n%s", logs.String())
				}
				time.Sleep(50 * time.Millisecond)
			}

			t0 := time.Now()
			if err := cli.StopAndRemove(ctx, created.ID, plan.GracePeriod(svc)); err != nil {
				t.Fatal(err)
			}
			took := time.Since(t0)
			<-logsDone
			out := logs.String()
			if !strings.Contains(out, tc.want) {
				t.Errorf("the process did not log %q:\n%s", tc.want, out)
			}
			if strings.Contains(out, tc.notWant) {
				t.Errorf("the process got the wrong signal (%q):\n%s", tc.notWant, out)
			}
			select {
			case ev := <-dies:
				if ev.ID != created.ID || ev.Container == nil {
					t.Fatalf("die event of %s, want %s", ev.ID, created.ID)
				}
				if code := ev.Container.ExitCode; code != 0 {
					t.Errorf("exit code %d, want 0 (137 is Docker's SIGKILL after the grace period)", code)
				}
			case <-time.After(30 * time.Second):
				t.Error("no die event")
			}
			t.Logf("stop took %s (grace %s)", took.Round(time.Millisecond), plan.GracePeriod(svc))
		})
	}
}
