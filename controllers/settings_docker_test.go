package controllers

import (
	"context"
	"encoding/json"
	"os/exec"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/intstr"

	"berth.dev/berth/apis/v1alpha1"
)

// TestContainerSettingsReachDocker creates and starts a container the way
// the controller does (spec → plan config → Docker spec → create) with every
// container setting, and reads them back with `docker inspect`, so what the
// daemon stored is checked, not what berth meant to send.
func TestContainerSettingsReachDocker(t *testing.T) {
	if testing.Short() {
		t.Skip("Docker-backed")
	}
	cli, cfg, run := dockerTestClient(t, "berth-settings-")
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()

	env := &v1alpha1.Environment{ObjectMeta: metav1.ObjectMeta{Name: "set" + run, UID: types.UID("uid-set" + run)}}
	grace := int64(5)
	env.Spec.Services = []v1alpha1.Service{{
		Name: "app", Image: "berth-testapp:dev", Args: []string{"--http-port=8080"},
		TerminationGracePeriodSeconds: &grace,
		User:                          "1000:1000",
		WorkingDir:                    "/",
		Labels:                        map[string]string{"com.example.team": "payments"},
		ReadOnlyRootFilesystem:        true,
		Init:                          true,
		ShmSize:                       ptrTo(intstr.FromString("128Mi")),
		CapAdd:                        []string{"net_admin"},
		CapDrop:                       []string{"ALL"},
		Ulimits:                       []v1alpha1.Ulimit{{Name: "nofile", Soft: 1024, Hard: 2048}},
		ExtraHosts: []v1alpha1.ExtraHost{
			{Hostname: "host.docker.internal", IP: v1alpha1.HostGateway},
			{Hostname: "db.local", IP: "10.1.2.3"},
		},
		Sysctls: map[string]string{"net.core.somaxconn": "1024"},
	}}
	v1alpha1.SetDefaults(env)
	if errs := v1alpha1.ValidateEnvironment(env); len(errs) != 0 {
		t.Fatalf("test spec invalid: %v", errs.ToAggregate())
	}
	svc := &env.Spec.Services[0]
	created := createLikeController(ctx, t, cli, cfg, env, svc)
	// Starting proves the daemon accepts the settings together (a sysctl
	// or capability it refuses fails here, not at create).
	if err := cli.StartContainer(ctx, created.ID); err != nil {
		t.Fatal(err)
	}

	out, err := exec.CommandContext(ctx, "docker", "inspect", created.ID).Output()
	if err != nil {
		t.Fatalf("docker inspect: %v", err)
	}
	var got []struct {
		State  struct{ Running bool }
		Config struct {
			User, WorkingDir string
			Labels           map[string]string
		}
		HostConfig struct {
			ReadonlyRootfs  bool
			Init            *bool
			ShmSize         int64
			CapAdd, CapDrop []string
			Ulimits         []struct {
				Name       string
				Soft, Hard int64
			}
			ExtraHosts []string
			Sysctls    map[string]string
			Privileged bool
		}
	}
	if err := json.Unmarshal(out, &got); err != nil || len(got) != 1 {
		t.Fatalf("decode inspect (%v): %s", err, out)
	}
	c, h := got[0].Config, got[0].HostConfig
	if !got[0].State.Running {
		t.Errorf("container not running with the settings")
	}
	if c.User != "1000:1000" || c.WorkingDir != "/" {
		t.Errorf("User %q WorkingDir %q, want 1000:1000 and /", c.User, c.WorkingDir)
	}
	if c.Labels["com.example.team"] != "payments" || c.Labels[v1alpha1.LabelManagedBy] != cfg.ManagerID ||
		c.Labels[v1alpha1.LabelService] != "app" || c.Labels[v1alpha1.LabelSpecHash] == "" {
		t.Errorf("labels: want the user's next to berth's, got %v", c.Labels)
	}
	if !h.ReadonlyRootfs || h.Init == nil || !*h.Init || h.ShmSize != 128<<20 || h.Privileged {
		t.Errorf("ReadonlyRootfs %v Init %v ShmSize %d Privileged %v, want true, true, %d, false",
			h.ReadonlyRootfs, h.Init != nil && *h.Init, h.ShmSize, h.Privileged, 128<<20)
	}
	if !slices.Equal(h.CapAdd, []string{"CAP_NET_ADMIN"}) || !slices.Equal(h.CapDrop, []string{"ALL"}) {
		t.Errorf("CapAdd %v CapDrop %v", h.CapAdd, h.CapDrop)
	}
	if len(h.Ulimits) != 1 || h.Ulimits[0].Name != "nofile" || h.Ulimits[0].Soft != 1024 || h.Ulimits[0].Hard != 2048 {
		t.Errorf("Ulimits %+v", h.Ulimits)
	}
	if !slices.Equal(h.ExtraHosts, []string{"host.docker.internal:host-gateway", "db.local:10.1.2.3"}) {
		t.Errorf("ExtraHosts %v", h.ExtraHosts)
	}
	if !reflect.DeepEqual(h.Sysctls, map[string]string{"net.core.somaxconn": "1024"}) {
		t.Errorf("Sysctls %v", h.Sysctls)
	}
	if t.Failed() {
		t.Logf("inspect: %s", strings.TrimSpace(string(out)))
	}
}

func ptrTo[T any](v T) *T { return &v }
