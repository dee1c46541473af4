package plan

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"

	"berth.dev/berth/apis/v1alpha1"
)

const secretMarker = "MARKER-7f3c-secret-never-shown"

// filesEnv is demo with an init SQL file and a config file from a host
// path mounted into db, a tmpfs and a host path volume on db, and a
// secret mounted into api; host holds what the manager read.
func filesEnv() (*v1alpha1.Environment, HostReads) {
	env := demoEnv()
	env.Spec.Files = []v1alpha1.File{
		{Name: "init-sql", Content: "CREATE TABLE t (id int);"},
		{Name: "conf", Path: "/srv/berth/app.conf"},
	}
	env.Spec.Secrets = []v1alpha1.Secret{{Name: "token", Content: secretMarker}}
	env.Spec.Volumes = append(env.Spec.Volumes,
		v1alpha1.Volume{Name: "scratch", EmptyDir: &v1alpha1.EmptyDirVolumeSource{Medium: v1alpha1.StorageMediumMemory, SizeLimit: ptr(intstr.FromString("64Mi"))}},
		v1alpha1.Volume{Name: "confdir", HostPath: &v1alpha1.HostPathVolumeSource{Path: "/srv/berth/conf.d"}},
	)
	db := service(env, "db")
	db.Files = []v1alpha1.FileMount{
		{Name: "init-sql", MountPath: "/docker-entrypoint-initdb.d/init.sql", Mode: ptr(int32(0o444))},
		{Name: "conf", MountPath: "/etc/app.conf", Mode: ptr(int32(0o440))},
	}
	db.VolumeMounts = append(db.VolumeMounts,
		v1alpha1.VolumeMount{Name: "scratch", MountPath: "/scratch"},
		v1alpha1.VolumeMount{Name: "confdir", MountPath: "/etc/conf.d", ReadOnly: true})
	api := service(env, "api")
	api.User = "1000:2000"
	api.Secrets = []v1alpha1.SecretMount{{Name: "token", MountPath: "/run/secrets/token", Mode: ptr(int32(0o400))}}
	host := HostReads{
		Files:  map[string][]byte{"/srv/berth/app.conf": []byte("level=debug\n")},
		Paths:  map[string]string{"/srv/berth/conf.d": "/srv/berth/real-conf.d"},
		Errors: map[string]string{},
	}
	return env, host
}

func hostConfig(t *testing.T, env *v1alpha1.Environment, name string, host HostReads) ContainerConfig {
	t.Helper()
	cfg, err := BuildContainerConfigHost(env, service(env, name), testOptions(), host)
	if err != nil {
		t.Fatalf("BuildContainerConfigHost(%s): %v", name, err)
	}
	return cfg
}

// hostContainer is a container created for the current spec and host.
func hostContainer(t *testing.T, env *v1alpha1.Environment, name, id string, state ContainerState, host HostReads) ObservedContainer {
	t.Helper()
	c := container(t, env, name, id, state)
	cfg := hostConfig(t, env, name, host)
	c.Labels = cfg.Labels
	return c
}

func filesConverged(t *testing.T, env *v1alpha1.Environment, host HostReads) Observed {
	obs := converged(t, env)
	obs.Volumes = map[string]ObservedVolume{VolumeName(env.Name, "data"): ownedVolumes(env)[VolumeName(env.Name, "data")]}
	obs.Containers = []ObservedContainer{
		hostContainer(t, env, "migrate", "c-migrate", StateExited, host),
		hostContainer(t, env, "db", "c-db", StateRunning, host),
		hostContainer(t, env, "api", "c-api", StateRunning, host),
	}
	obs.Containers[2].Ports = []ObservedPort{{ContainerPort: 8080, Protocol: "tcp", HostIP: "127.0.0.1", HostPort: 49153}}
	obs.Host = host
	return obs
}

func TestBuildContainerConfigMountsAndFiles(t *testing.T) {
	env, host := filesEnv()
	db := hostConfig(t, env, "db", host)
	want := []Mount{
		{Volume: VolumeName("demo", "data"), Target: "/data"},
		{Type: MountBind, Source: "/srv/berth/real-conf.d", Target: "/etc/conf.d", ReadOnly: true},
		{Type: MountTmpfs, Target: "/scratch", SizeBytes: 64 << 20},
	}
	if fmt.Sprint(db.Mounts) != fmt.Sprint(want) {
		t.Errorf("mounts:\n got  %+v\n want %+v", db.Mounts, want)
	}
	if len(db.Files) != 2 {
		t.Fatalf("db files: %v", db.Files)
	}
	init, conf := db.Files[0], db.Files[1]
	if init.Target != "/docker-entrypoint-initdb.d/init.sql" || init.Mode != 0o444 || init.UID != 0 || string(init.Content) != "CREATE TABLE t (id int);" {
		t.Errorf("init file: %v %q", init, init.Content)
	}
	if conf.Target != "/etc/app.conf" || conf.Mode != 0o440 || string(conf.Content) != "level=debug\n" {
		t.Errorf("host file: %v %q", conf, conf.Content)
	}

	api := hostConfig(t, env, "api", host)
	if len(api.Files) != 1 || !api.Files[0].Secret || api.Files[0].UID != 1000 || api.Files[0].GID != 2000 || api.Files[0].Mode != 0o400 {
		t.Errorf("secret owned by the numeric user 1000:2000, mode 0400: %v", api.Files)
	}

	for user, wantUID := range map[string]int{"": 0, "postgres": 0, "999": 999, "70:70": 70} {
		service(env, "api").User = user
		if got := hostConfig(t, env, "api", host).Files[0]; got.UID != wantUID {
			t.Errorf("user %q: secret uid %d, want %d", user, got.UID, wantUID)
		}
	}
	service(env, "api").User = "1000"
	service(env, "api").Secrets[0].UID, service(env, "api").Secrets[0].GID = "70", "71"
	if got := hostConfig(t, env, "api", host).Files[0]; got.UID != 70 || got.GID != 71 {
		t.Errorf("explicit uid/gid must win over user: %v", got)
	}
}

func TestSpecHashFilesOnlyMountingService(t *testing.T) {
	env, host := filesEnv()
	if p := Compute(env, filesConverged(t, env, host), testOptions(), t0); !p.Empty() {
		t.Fatalf("converged env with files must plan nothing, got %v", p.Strings())
	}
	before := map[string]string{}
	for _, s := range []string{"migrate", "db", "api"} {
		before[s] = hostConfig(t, env, s, host).Labels[v1alpha1.LabelSpecHash]
	}
	changed := func(what string, mutate func(env *v1alpha1.Environment, host *HostReads), want string) {
		t.Helper()
		env, host := filesEnv()
		obs := filesConverged(t, env, host)
		mutate(env, &host)
		obs.Host = host
		for _, s := range []string{"migrate", "db", "api"} {
			h := hostConfig(t, env, s, host).Labels[v1alpha1.LabelSpecHash]
			if (h != before[s]) != (s == want) {
				t.Errorf("%s: hash of %s changed=%v, want changed only for %s", what, s, h != before[s], want)
			}
		}
		p := Compute(env, obs, testOptions(), t0)
		for _, op := range p.Ops {
			if op.Service != want {
				t.Errorf("%s: op for %s: %s", what, op.Service, op)
			}
		}
		if _, i := findOp(p, OpRemoveContainer, want); i < 0 {
			t.Errorf("%s: %s not recreated: %v", what, want, p.Strings())
		}
	}
	changed("init SQL", func(env *v1alpha1.Environment, _ *HostReads) { env.Spec.Files[0].Content = "CREATE TABLE u (id int);" }, "db")
	changed("host file", func(_ *v1alpha1.Environment, h *HostReads) { h.Files["/srv/berth/app.conf"] = []byte("level=info\n") }, "db")
	changed("file mode", func(env *v1alpha1.Environment, _ *HostReads) { service(env, "db").Files[0].Mode = ptr(int32(0o440)) }, "db")
	changed("tmpfs size", func(env *v1alpha1.Environment, _ *HostReads) {
		env.Spec.Volumes[1].EmptyDir.SizeLimit = ptr(intstr.FromString("128Mi"))
	}, "db")
	changed("host path target", func(_ *v1alpha1.Environment, h *HostReads) { h.Paths["/srv/berth/conf.d"] = "/srv/berth/other" }, "db")
	changed("secret", func(env *v1alpha1.Environment, _ *HostReads) { env.Spec.Secrets[0].Content = secretMarker + "2" }, "api")
}

func TestSpecHashWithoutFilesUnchanged(t *testing.T) {
	// The golden hashes in hash_test.go pin this for whole configs; here
	// the new fields are checked to be invisible when unset.
	env := demoEnv()
	cfg := mustConfig(t, env, "db")
	if cfg.Files != nil {
		t.Errorf("no files: %v", cfg.Files)
	}
	env.Spec.Files = []v1alpha1.File{{Name: "unused", Content: "x"}}
	if got := mustConfig(t, env, "db").Labels[v1alpha1.LabelSpecHash]; got != cfg.Labels[v1alpha1.LabelSpecHash] {
		t.Errorf("a file no service mounts changed db's hash")
	}
}

func TestPlanCopiesBetweenCreateAndStart(t *testing.T) {
	env, host := filesEnv()
	obs := Observed{Host: host, Images: map[string]ObservedImage{testImage: {Present: true}}}
	p := Compute(env, obs, testOptions(), t0)
	create, ci := findOp(p, OpCreateContainer, "db")
	cp, pi := findOp(p, OpCopyFiles, "db")
	start, si := findOp(p, OpStartContainer, "db")
	if ci < 0 || pi < 0 || si < 0 || !(ci < pi && pi < si) {
		t.Fatalf("want create → copy → start for db, got %v", p.Strings())
	}
	if !containsInt(cp.Needs, ci) || !containsInt(start.Needs, pi) {
		t.Errorf("copy needs create (%v), start needs copy (%v)", cp.Needs, start.Needs)
	}
	if cp.ContainerName != create.Config.Name || len(cp.Files) != 2 {
		t.Errorf("copy op: %+v", cp)
	}
	if _, i := findOp(p, OpCopyFiles, "migrate"); i >= 0 {
		t.Errorf("migrate mounts no file, yet has a copy op")
	}
	for _, op := range p.Ops {
		if op.Kind == OpEnsureVolume && op.Volume != VolumeName(env.Name, "data") {
			t.Errorf("a host path or tmpfs volume is no Docker volume: %s", op)
		}
	}

	// Created but never started (a failure between create and copy):
	// the copy comes again before the start.
	obs = filesConverged(t, env, host)
	obs.Containers[1] = hostContainer(t, env, "db", "c-db", StateCreated, host)
	p = Compute(env, obs, testOptions(), t0)
	cp, pi = findOp(p, OpCopyFiles, "db")
	start, si = findOp(p, OpStartContainer, "db")
	if pi < 0 || si < 0 || cp.ContainerID != "c-db" || !containsInt(start.Needs, pi) {
		t.Errorf("created container: want copy then start by ID, got %v", p.Strings())
	}
}

func containsInt(s []int, v int) bool {
	for _, x := range s {
		if x == v {
			return true
		}
	}
	return false
}

func TestTeardownSkipsHostPathAndTmpfs(t *testing.T) {
	env, host := filesEnv()
	obs := filesConverged(t, env, host)
	env.DeletionTimestamp = &metav1.Time{Time: t0}
	p := Teardown(env, obs, testOptions())
	for _, op := range p.Ops {
		if op.Kind == OpRemoveVolume && op.Volume != VolumeName(env.Name, "data") {
			t.Errorf("teardown removes a volume that is not a Docker volume: %s", op)
		}
	}
}

func TestHostPathUnavailableHoldsService(t *testing.T) {
	env, host := filesEnv()
	obs := filesConverged(t, env, host)
	delete(host.Files, "/srv/berth/app.conf")
	host.Errors["/srv/berth/app.conf"] = "open /srv/berth/app.conf: permission denied"
	obs.Host = host
	p := Compute(env, obs, testOptions(), t0)
	w, ok := p.Waiting["db"]
	if !ok || w.Reason != WaitHostPathUnavailable || !strings.Contains(w.Message, "/srv/berth/app.conf") || !strings.Contains(w.Message, "permission denied") {
		t.Errorf("db must wait naming the path and reason, got %+v", p.Waiting)
	}
	for _, op := range p.Ops {
		if op.Service == "db" {
			t.Errorf("db is held, yet: %s", op)
		}
	}
	st := ComputeStatus(env, obs, testOptions(), p, env.Status, t0)
	found := false
	for _, c := range st.Conditions {
		if c.Type == v1alpha1.ConditionDegraded && c.Reason == string(WaitHostPathUnavailable) {
			found = true
		}
	}
	if !found {
		t.Errorf("Degraded condition with reason HostPathUnavailable missing: %+v", st.Conditions)
	}
	var hp *HostPathError
	_, err := BuildContainerConfigHost(env, service(env, "db"), testOptions(), host)
	if !errors.As(err, &hp) || hp.Path != "/srv/berth/app.conf" {
		t.Errorf("want a HostPathError, got %v", err)
	}
}

// TestSecretNeverRendered: ops, plan strings, events, status and the
// %v/%#v renderings of a plan never carry a secret's content.
func TestSecretNeverRendered(t *testing.T) {
	env, host := filesEnv()
	service(env, "api").DependsOn = nil
	p := Compute(env, Observed{Host: host, Images: map[string]ObservedImage{testImage: {Present: true}}}, testOptions(), t0)
	cp, i := findOp(p, OpCopyFiles, "api")
	if i < 0 {
		t.Fatalf("no copy op for api: %v", p.Strings())
	}
	if string(cp.Files[0].Content) != secretMarker {
		t.Fatalf("the copy must carry the secret to Docker")
	}
	st := ComputeStatus(env, Observed{Host: host}, testOptions(), p, env.Status, t0)
	var seen []string
	seen = append(seen, p.Strings()...)
	for _, op := range p.Ops {
		ev := op.Event(t0)
		seen = append(seen, fmt.Sprintf("%+v", op), fmt.Sprintf("%#v", op), fmt.Sprintf("%v", op), ev.Message, ev.Reason)
		if op.Config != nil {
			seen = append(seen, fmt.Sprintf("%+v", *op.Config), fmt.Sprintf("%#v", *op.Config), fmt.Sprint(op.Config.Labels))
		}
	}
	seen = append(seen, fmt.Sprintf("%+v", st))
	// The content as text, and as fmt renders a []byte with %v and %#v.
	forms := []string{secretMarker, strings.Trim(fmt.Sprint([]byte(secretMarker)), "[]"),
		strings.TrimSuffix(strings.TrimPrefix(fmt.Sprintf("%#v", []byte(secretMarker)), "[]byte{"), "}")}
	for _, s := range seen {
		if slices.ContainsFunc(forms, func(f string) bool { return strings.Contains(s, f) }) {
			t.Errorf("secret content shown in: %.300s", s)
		}
	}
}
