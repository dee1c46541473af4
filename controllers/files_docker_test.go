package controllers

import (
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/intstr"

	"berth.dev/berth/apis/v1alpha1"
)

// TestFilesSecretsTmpfsHostPathReachDocker runs the controller's own steps
// for a service with files, a secret, a tmpfs and a host path (host reads
// → plan config → create → copy → start) and lets the container report,
// from its command at start, what it finds: the files with their mode and
// owner, the secret at /run/secrets/NAME as 0400 of the service's user,
// the tmpfs with its size, the bind mount read-only. `docker inspect`
// confirms the mounts as the daemon stored them.
func TestFilesSecretsTmpfsHostPathReachDocker(t *testing.T) {
	if testing.Short() {
		t.Skip("Docker-backed")
	}
	cli, cfg, run := dockerTestClient(t, "berth-files-")
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()

	root := t.TempDir()
	if err := os.Chmod(root, 0o755); err != nil {
		t.Fatal(err)
	}
	hostFile := filepath.Join(root, "host.conf")
	hostDir := filepath.Join(root, "shared")
	if err := os.WriteFile(hostFile, []byte("from-the-host\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Mkdir(hostDir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(hostDir, "hello"), []byte("bind-mounted\n"), 0o644); err != nil {
		t.Fatal(err)
	}

	const secret = "MARKER-9d1e-token"
	script := strings.Join([]string{
		"stat -c 'STAT %n %a %u:%g' /etc/app/init.sql /etc/host.conf /run/secrets/token",
		"echo INIT $(cat /etc/app/init.sql)",
		"echo HOST $(cat /etc/host.conf)",
		"echo SECRET $(cat /run/secrets/token)",
		"echo BIND $(cat /shared/hello)",
		"touch /shared/x 2>/dev/null && echo BIND-WRITABLE || echo BIND-READONLY",
		"echo ID $(id -u)",
		"grep ' /scratch ' /proc/mounts | sed 's/^/MOUNT /'",
		"set -- $(df -k /scratch | tail -1); echo DF $1 $2",
	}, "; ")
	env := &v1alpha1.Environment{ObjectMeta: metav1.ObjectMeta{Name: "files" + run, UID: types.UID("uid-files" + run)}}
	env.Spec.Files = []v1alpha1.File{
		{Name: "init-sql", Content: "SELECT 1;"},
		{Name: "host-conf", Path: hostFile},
	}
	env.Spec.Secrets = []v1alpha1.Secret{{Name: "token", Content: secret}}
	env.Spec.Volumes = []v1alpha1.Volume{
		{Name: "scratch", EmptyDir: &v1alpha1.EmptyDirVolumeSource{Medium: v1alpha1.StorageMediumMemory, SizeLimit: ptrTo(intstr.FromString("16Mi"))}},
		{Name: "shared", HostPath: &v1alpha1.HostPathVolumeSource{Path: hostDir}},
	}
	env.Spec.Services = []v1alpha1.Service{{
		Name: "app", Image: "berth-postgres:dev", Command: []string{"sh", "-c", script},
		RestartPolicy: v1alpha1.RestartNever,
		User:          "1000:1000",
		Files: []v1alpha1.FileMount{
			{Name: "init-sql", MountPath: "/etc/app/init.sql"},
			{Name: "host-conf", MountPath: "/etc/host.conf", Mode: ptrTo(int32(0o644))},
		},
		Secrets: []v1alpha1.SecretMount{{Name: "token"}},
		VolumeMounts: []v1alpha1.VolumeMount{
			{Name: "scratch", MountPath: "/scratch"},
			{Name: "shared", MountPath: "/shared", ReadOnly: true},
		},
	}}
	v1alpha1.SetDefaults(env)
	if errs := v1alpha1.ValidateEnvironment(env); len(errs) != 0 {
		t.Fatalf("test spec invalid: %v", errs.ToAggregate())
	}
	if errs := v1alpha1.ValidatePolicy(&env.Spec, v1alpha1.Policy{AllowedHostPaths: []string{root}}); len(errs) != 0 {
		t.Fatalf("policy: %v", errs.ToAggregate())
	}
	host := readHost(env, []string{root})
	if len(host.Errors) != 0 {
		t.Fatalf("host reads: %v", host.Errors)
	}
	svc := &env.Spec.Services[0]
	created, pc := createLikeControllerHost(ctx, t, cli, cfg, env, svc, host)
	if err := cli.CopyFiles(ctx, created.ID, fileSpecs(pc.Files)); err != nil {
		t.Fatal(err)
	}
	if err := cli.StartContainer(ctx, created.ID); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.CommandContext(ctx, "docker", "wait", created.ID).CombinedOutput(); err != nil || strings.TrimSpace(string(out)) != "0" {
		t.Errorf("docker wait: %v %s", err, out)
	}
	out, err := exec.CommandContext(ctx, "docker", "logs", created.ID).CombinedOutput()
	if err != nil {
		t.Fatalf("docker logs: %v %s", err, out)
	}
	logs := string(out)
	for _, want := range []string{
		"STAT /etc/app/init.sql 444 0:0",
		"STAT /etc/host.conf 644 0:0",
		"STAT /run/secrets/token 400 1000:1000",
		"INIT SELECT 1;",
		"HOST from-the-host",
		"SECRET " + secret,
		"BIND bind-mounted",
		"BIND-READONLY",
		"ID 1000",
		"MOUNT tmpfs /scratch tmpfs",
		"size=16384k",
		"DF tmpfs 16384",
	} {
		if !strings.Contains(logs, want) {
			t.Errorf("container output lacks %q", want)
		}
	}

	inspect, err := exec.CommandContext(ctx, "docker", "inspect", created.ID).Output()
	if err != nil {
		t.Fatalf("docker inspect: %v", err)
	}
	var got []struct {
		HostConfig struct {
			Mounts []struct {
				Type, Source, Target string
				ReadOnly             bool
				TmpfsOptions         *struct{ SizeBytes int64 }
			}
		}
	}
	if err := json.Unmarshal(inspect, &got); err != nil || len(got) != 1 {
		t.Fatalf("decode inspect (%v)", err)
	}
	resolvedDir, _ := filepath.EvalSymlinks(hostDir)
	var tmpfs, bind bool
	for _, m := range got[0].HostConfig.Mounts {
		switch m.Type {
		case "tmpfs":
			tmpfs = m.Target == "/scratch" && m.TmpfsOptions != nil && m.TmpfsOptions.SizeBytes == 16<<20
		case "bind":
			bind = m.Target == "/shared" && m.Source == resolvedDir && m.ReadOnly
		case "volume":
			t.Errorf("no Docker volume was asked for: %+v", m)
		}
	}
	if !tmpfs || !bind {
		t.Errorf("mounts: tmpfs ok %v, bind ok %v: %+v", tmpfs, bind, got[0].HostConfig.Mounts)
	}
	if t.Failed() {
		t.Logf("container output:\n%s", logs)
	}
}
