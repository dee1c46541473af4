package compose

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/sirupsen/logrus"
	logtest "github.com/sirupsen/logrus/hooks/test"

	"berth.dev/berth/apis/v1alpha1"
)

// loadText loads one compose file with content data, and returns the
// Environment and the warnings logged while loading it, the file's path
// written $FILE.
func loadText(t *testing.T, data string) (env *v1alpha1.Environment, warnings []string, err error) {
	t.Helper()
	f := filepath.Join(t.TempDir(), "docker-compose.yml")
	if err := os.WriteFile(f, []byte(data), 0o644); err != nil {
		t.Fatal(err)
	}
	hook := logtest.NewGlobal()
	defer logrus.StandardLogger().ReplaceHooks(logrus.LevelHooks{})
	env, err = Load(context.Background(), Options{Files: []string{f}, Environ: []string{}})
	for _, e := range hook.AllEntries() {
		if e.Level == logrus.WarnLevel {
			warnings = append(warnings, strings.ReplaceAll(e.Message, f, "$FILE"))
		}
	}
	return env, warnings, err
}

// TestContainerNameIsAnAlias: berth keeps naming the container, the
// container_name becomes an alias on every network of the service (the
// default one too, which is then written out), and Load warns.
func TestContainerNameIsAnAlias(t *testing.T) {
	env, warnings, err := loadText(t, "name: cn\nservices:\n  db:\n    image: berth-testapp:dev\n    container_name: legacy-db\n  web:\n    image: berth-testapp:dev\n    container_name: web\n")
	if err != nil {
		t.Fatal(err)
	}
	wantNets := []v1alpha1.ServiceNetwork{{Name: "default", Aliases: []string{"legacy-db"}}}
	if d := cmp.Diff(wantNets, env.Spec.Services[0].Networks); d != "" {
		t.Errorf("db networks (-want +got):\n%s", d)
	}
	// A container_name equal to the service name adds no alias.
	if d := cmp.Diff([]v1alpha1.ServiceNetwork{{Name: "default"}}, env.Spec.Services[1].Networks); d != "" {
		t.Errorf("web networks (-want +got):\n%s", d)
	}
	if d := cmp.Diff([]v1alpha1.Network{{Name: "default"}}, env.Spec.Networks); d != "" {
		t.Errorf("spec.networks (-want +got):\n%s", d)
	}
	wantWarn := []string{`$FILE: services.db.container_name: berth names the container itself (berth_<env>_db); "legacy-db" is a network alias of the service on every network it joins`}
	if d := cmp.Diff(wantWarn, warnings); d != "" {
		t.Errorf("warnings (-want +got):\n%s", d)
	}
}

func TestContainerNameRefused(t *testing.T) {
	_, _, err := loadText(t, "name: cn\nservices:\n  db:\n    image: berth-testapp:dev\n    container_name: Legacy_DB\n")
	want := `services.db.container_name: not supported: "Legacy_DB" becomes a network alias of the service, and aliases are DNS-1123 subdomains`
	if err == nil || !strings.Contains(err.Error(), want) {
		t.Errorf("Load = %v, want %q", err, want)
	}
	// compose-go refuses a container_name shared by replicas, as compose does.
	_, _, err = loadText(t, "name: cn\nservices:\n  db:\n    image: berth-testapp:dev\n    container_name: legacy\n    scale: 2\n")
	if err == nil || !strings.Contains(err.Error(), "can't set container_name and") {
		t.Errorf("Load with scale 2 = %v", err)
	}
}

// TestAnonymousVolumeAndUnsizedTmpfs: an anonymous volume becomes a
// derived Docker volume; a tmpfs without a size is bounded by the
// service's memory limit, else by 512Mi.
func TestAnonymousVolumeAndUnsizedTmpfs(t *testing.T) {
	env, _, err := loadText(t, `name: av
services:
  api:
    image: berth-testapp:dev
    mem_limit: 96m
    volumes:
      - /usr/src/app/node_modules
      - type: tmpfs
        target: /cache
    tmpfs: [/tmp]
  job:
    image: berth-testapp:dev
    tmpfs: ["/tmp:mode=1777"]
`)
	if err != nil {
		t.Fatal(err)
	}
	mem := func(n string) *v1alpha1.EmptyDirVolumeSource {
		q := bytesQuantity(0)
		q.StrVal = n
		return &v1alpha1.EmptyDirVolumeSource{Medium: v1alpha1.StorageMediumMemory, SizeLimit: &q}
	}
	wantVols := []v1alpha1.Volume{
		{Name: "anon-api-node-modules-10b79cef"},
		{Name: "tmpfs-api-cache-85810a09", EmptyDir: mem("96Mi")},
		{Name: "tmpfs-api-tmp-18f1aa77", EmptyDir: mem("96Mi")},
		{Name: "tmpfs-job-tmp-9eb36ea5", EmptyDir: mem("512Mi")},
	}
	if d := cmp.Diff(wantVols, env.Spec.Volumes); d != "" {
		t.Errorf("volumes (-want +got):\n%s", d)
	}
	wantMounts := []v1alpha1.VolumeMount{
		{Name: "anon-api-node-modules-10b79cef", MountPath: "/usr/src/app/node_modules"},
		{Name: "tmpfs-api-cache-85810a09", MountPath: "/cache"},
		{Name: "tmpfs-api-tmp-18f1aa77", MountPath: "/tmp"},
	}
	if d := cmp.Diff(wantMounts, env.Spec.Services[0].VolumeMounts); d != "" {
		t.Errorf("api volumeMounts (-want +got):\n%s", d)
	}
}

func TestWorkingDirTrailingSlash(t *testing.T) {
	env, _, err := loadText(t, "name: wd\nservices:\n  app:\n    image: berth-testapp:dev\n    working_dir: /var/www/\n  root:\n    image: berth-testapp:dev\n    working_dir: /\n")
	if err != nil {
		t.Fatal(err)
	}
	if got := env.Spec.Services[0].WorkingDir; got != "/var/www" {
		t.Errorf("app workingDir = %q, want /var/www", got)
	}
	if got := env.Spec.Services[1].WorkingDir; got != "/" {
		t.Errorf("root workingDir = %q, want /", got)
	}
}
