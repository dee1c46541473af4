package v1alpha1

import (
	"strings"
	"testing"

	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/apimachinery/pkg/util/validation/field"
)

// withFiles gives the db service an init SQL file, a config file read from
// a host path, a secret, a tmpfs and a host path mount, defaulted.
func withFiles(e *Environment) *Service {
	e.Spec.Files = []File{
		{Name: "init-sql", Content: "CREATE TABLE t (id int);"},
		{Name: "conf", Path: "/srv/berth/app.conf"},
	}
	e.Spec.Secrets = []Secret{{Name: "db-password", Content: "s3cret"}, {Name: "api-key", Path: "/srv/berth/key"}}
	e.Spec.Volumes = append(e.Spec.Volumes,
		Volume{Name: "pgtmp", EmptyDir: &EmptyDirVolumeSource{Medium: StorageMediumMemory, SizeLimit: ptr(qty("256Mi"))}},
		Volume{Name: "confdir", HostPath: &HostPathVolumeSource{Path: "/srv/berth/conf.d"}},
	)
	s := &e.Spec.Services[1]
	s.Files = []FileMount{{Name: "init-sql", MountPath: "/docker-entrypoint-initdb.d/init.sql"}, {Name: "conf", MountPath: "/etc/app.conf", Mode: ptr(int32(0o440))}}
	s.Secrets = []SecretMount{{Name: "db-password"}, {Name: "api-key", MountPath: "/etc/key", UID: "999", GID: "999", Mode: ptr(int32(0o440))}}
	s.VolumeMounts = append(s.VolumeMounts,
		VolumeMount{Name: "pgtmp", MountPath: "/tmp/pg"},
		VolumeMount{Name: "confdir", MountPath: "/etc/conf.d", ReadOnly: true})
	SetDefaults(e)
	return s
}

func TestFileDefaults(t *testing.T) {
	env := validEnv()
	s := withFiles(env)
	if got := *s.Files[0].Mode; got != 0o444 {
		t.Errorf("file mode %#o, want 0444", got)
	}
	if got := *s.Files[1].Mode; got != 0o440 {
		t.Errorf("set file mode %#o changed by defaulting", got)
	}
	if got := *s.Secrets[0].Mode; got != 0o400 {
		t.Errorf("secret mode %#o, want 0400", got)
	}
	if got := s.Secrets[0].MountPath; got != "/run/secrets/db-password" {
		t.Errorf("secret mountPath %q, want /run/secrets/db-password", got)
	}
	if s.Secrets[0].UID != "" || s.Secrets[0].GID != "" {
		t.Errorf("uid/gid are resolved at plan time from user, not stored: %q %q", s.Secrets[0].UID, s.Secrets[0].GID)
	}
	if s.Secrets[1].MountPath != "/etc/key" {
		t.Errorf("a set mountPath changed: %q", s.Secrets[1].MountPath)
	}
}

func TestValidateFilesAccepts(t *testing.T) {
	for _, tc := range []struct {
		name   string
		mutate func(e *Environment, s *Service)
	}{
		{"all kinds", func(*Environment, *Service) {}},
		{"tmpfs size as integer", func(e *Environment, _ *Service) {
			e.Spec.Volumes[1].EmptyDir.SizeLimit = ptr(intstr.FromInt32(1 << 20))
		}},
		{"file at the largest size", func(e *Environment, _ *Service) { e.Spec.Files[0].Content = strings.Repeat("x", MaxFileBytes) }},
		{"mode 0", func(_ *Environment, s *Service) { s.Files[0].Mode = ptr(int32(0)) }},
		{"mode 0777", func(_ *Environment, s *Service) { s.Files[0].Mode = ptr(int32(0o777)) }},
		{"uid at the top", func(_ *Environment, s *Service) { s.Secrets[1].UID = "4294967294" }},
		{"volume under a volume", func(e *Environment, s *Service) {
			s.VolumeMounts[1].MountPath = "/var/lib/postgresql/data/tmp"
		}},
		{"file next to a volume", func(_ *Environment, s *Service) { s.Files[1].MountPath = "/tmp/pg2" }},
		{"same file twice", func(_ *Environment, s *Service) {
			s.Files = append(s.Files, FileMount{Name: "init-sql", MountPath: "/srv/init.sql", Mode: ptr(int32(0o444))})
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			env := validEnv()
			s := withFiles(env)
			tc.mutate(env, s)
			if errs := ValidateEnvironment(env); len(errs) != 0 {
				t.Errorf("unexpected errors:\n%s", dump(errs))
			}
		})
	}
}

func TestValidateFilesRejects(t *testing.T) {
	const (
		required     = field.ErrorTypeRequired
		invalid      = field.ErrorTypeInvalid
		duplicate    = field.ErrorTypeDuplicate
		notFound     = field.ErrorTypeNotFound
		notSupported = field.ErrorTypeNotSupported
		forbidden    = field.ErrorTypeForbidden
		tooLong      = field.ErrorTypeTooLong
		tooMany      = field.ErrorTypeTooMany
	)
	db := "spec.services[1]"
	cases := []struct {
		name   string
		mutate func(e *Environment, s *Service)
		path   string
		typ    field.ErrorType
		detail string
	}{
		{"file without name", func(e *Environment, s *Service) { e.Spec.Files[1].Name = ""; s.Files = s.Files[:1] }, "spec.files[1].name", required, ""},
		{"file name not a DNS label", func(e *Environment, s *Service) { e.Spec.Files[1].Name = "App_Conf"; s.Files = s.Files[:1] }, "spec.files[1].name", invalid, "RFC 1123"},
		{"duplicate file", func(e *Environment, s *Service) { e.Spec.Files[1].Name = "init-sql"; s.Files = s.Files[:1] }, "spec.files[1].name", duplicate, ""},
		{"file with neither", func(e *Environment, _ *Service) { e.Spec.Files[0].Content = "" }, "spec.files[0]", required, "exactly one of content and path"},
		{"file with both", func(e *Environment, _ *Service) { e.Spec.Files[0].Path = "/srv/x" }, "spec.files[0].path", forbidden, "exactly one of content and path"},
		{"file too large", func(e *Environment, _ *Service) { e.Spec.Files[0].Content = strings.Repeat("x", MaxFileBytes+1) }, "spec.files[0].content", tooLong, "host path or the image"},
		{"relative file path", func(e *Environment, _ *Service) { e.Spec.Files[1].Path = "conf/app.conf" }, "spec.files[1].path", invalid, "`berth apply -f` resolves a relative path"},
		{"unclean file path", func(e *Environment, _ *Service) { e.Spec.Files[1].Path = "/srv/berth/../../etc/passwd" }, "spec.files[1].path", invalid, "clean path (/etc/passwd)"},
		{"too many files", func(e *Environment, _ *Service) {
			for i := 0; i <= MaxFiles; i++ {
				e.Spec.Files = append(e.Spec.Files, File{Name: "f" + strings.Repeat("x", i%30) + string(rune('a'+i%26)), Content: "x"})
			}
		}, "spec.files", tooMany, ""},
		{"secret with neither", func(e *Environment, _ *Service) { e.Spec.Secrets[0].Content = "" }, "spec.secrets[0]", required, ""},
		{"duplicate secret", func(e *Environment, s *Service) { e.Spec.Secrets[1].Name = "db-password"; s.Secrets = s.Secrets[:1] }, "spec.secrets[1].name", duplicate, ""},
		{"secret too large", func(e *Environment, _ *Service) { e.Spec.Secrets[0].Content = strings.Repeat("x", MaxFileBytes+1) }, "spec.secrets[0].content", tooLong, ""},
		{"relative secret path", func(e *Environment, _ *Service) { e.Spec.Secrets[1].Path = "./key" }, "spec.secrets[1].path", invalid, "`berth apply -f`"},
		{"volume both kinds", func(e *Environment, _ *Service) { e.Spec.Volumes[2].EmptyDir = e.Spec.Volumes[1].EmptyDir }, "spec.volumes[2].emptyDir", forbidden, "a volume is one of"},
		{"hostPath without path", func(e *Environment, _ *Service) { e.Spec.Volumes[2].HostPath.Path = "" }, "spec.volumes[2].hostPath.path", required, ""},
		{"relative hostPath", func(e *Environment, _ *Service) { e.Spec.Volumes[2].HostPath.Path = "conf.d" }, "spec.volumes[2].hostPath.path", invalid, "`berth apply -f`"},
		{"unclean hostPath", func(e *Environment, _ *Service) { e.Spec.Volumes[2].HostPath.Path = "/srv/berth/" }, "spec.volumes[2].hostPath.path", invalid, "clean path"},
		{"emptyDir without medium", func(e *Environment, _ *Service) { e.Spec.Volumes[1].EmptyDir.Medium = "" }, "spec.volumes[1].emptyDir.medium", required, "Memory"},
		{"emptyDir on disk", func(e *Environment, _ *Service) { e.Spec.Volumes[1].EmptyDir.Medium = "Disk" }, "spec.volumes[1].emptyDir.medium", notSupported, "a disk-backed scratch directory is a named volume"},
		{"emptyDir without size", func(e *Environment, _ *Service) { e.Spec.Volumes[1].EmptyDir.SizeLimit = nil }, "spec.volumes[1].emptyDir.sizeLimit", required, "size limit"},
		{"emptyDir bad size", func(e *Environment, _ *Service) { e.Spec.Volumes[1].EmptyDir.SizeLimit = ptr(qty("big")) }, "spec.volumes[1].emptyDir.sizeLimit", invalid, "quantity"},
		{"emptyDir zero size", func(e *Environment, _ *Service) { e.Spec.Volumes[1].EmptyDir.SizeLimit = ptr(qty("0")) }, "spec.volumes[1].emptyDir.sizeLimit", invalid, "greater than zero"},
		{"emptyDir negative size", func(e *Environment, _ *Service) { e.Spec.Volumes[1].EmptyDir.SizeLimit = ptr(qty("-1Mi")) }, "spec.volumes[1].emptyDir.sizeLimit", invalid, "greater than zero"},
		{"file mount without name", func(_ *Environment, s *Service) { s.Files[0].Name = "" }, db + ".files[0].name", required, ""},
		{"file mount of undeclared", func(_ *Environment, s *Service) { s.Files[0].Name = "nope" }, db + ".files[0].name", notFound, "spec.files"},
		{"secret as a file", func(_ *Environment, s *Service) { s.Files[0].Name = "db-password" }, db + ".files[0].name", notFound, "spec.files"},
		{"file mount without path", func(_ *Environment, s *Service) { s.Files[0].MountPath = "" }, db + ".files[0].mountPath", required, ""},
		{"file mount relative", func(_ *Environment, s *Service) { s.Files[0].MountPath = "init.sql" }, db + ".files[0].mountPath", invalid, "absolute"},
		{"file mount unclean", func(_ *Environment, s *Service) { s.Files[0].MountPath = "/a//b" }, db + ".files[0].mountPath", invalid, "clean path (/a/b)"},
		{"file mount at root", func(_ *Environment, s *Service) { s.Files[0].MountPath = "/" }, db + ".files[0].mountPath", invalid, "root"},
		{"file mode negative", func(_ *Environment, s *Service) { s.Files[0].Mode = ptr(int32(-1)) }, db + ".files[0].mode", invalid, "between 0 and 0777"},
		{"file mode setuid", func(_ *Environment, s *Service) { s.Files[0].Mode = ptr(int32(0o4755)) }, db + ".files[0].mode", invalid, "permission bits only"},
		{"secret mount of undeclared", func(_ *Environment, s *Service) { s.Secrets[0].Name = "init-sql" }, db + ".secrets[0].name", notFound, "spec.secrets"},
		{"secret mount relative", func(_ *Environment, s *Service) { s.Secrets[1].MountPath = "key" }, db + ".secrets[1].mountPath", invalid, "absolute"},
		{"secret uid a name", func(_ *Environment, s *Service) { s.Secrets[1].UID = "postgres" }, db + ".secrets[1].uid", invalid, "cannot look a name up"},
		{"secret gid too large", func(_ *Environment, s *Service) { s.Secrets[1].GID = "4294967295" }, db + ".secrets[1].gid", invalid, "between 0 and 4294967294"},
		{"secret mode too large", func(_ *Environment, s *Service) { s.Secrets[1].Mode = ptr(int32(0o1000)) }, db + ".secrets[1].mode", invalid, "0777"},
		{"two files at one path", func(_ *Environment, s *Service) { s.Files[1].MountPath = s.Files[0].MountPath }, db + ".files[1].mountPath", duplicate, ""},
		{"secret at a file's path", func(_ *Environment, s *Service) { s.Secrets[1].MountPath = "/etc/app.conf" }, db + ".secrets[1].mountPath", duplicate, ""},
		{"file at a volume's path", func(_ *Environment, s *Service) { s.Files[1].MountPath = "/tmp/pg" }, db + ".files[1].mountPath", duplicate, ""},
		{"file under a tmpfs", func(_ *Environment, s *Service) { s.Files[1].MountPath = "/tmp/pg/app.conf" }, db + ".files[1].mountPath", invalid, "mounts a volume, which would hide the file"},
		{"file under a named volume", func(_ *Environment, s *Service) { s.Secrets[1].MountPath = "/var/lib/postgresql/data/key" }, db + ".secrets[1].mountPath", invalid, "mounts a volume"},
		{"file under a file", func(_ *Environment, s *Service) { s.Secrets[1].MountPath = "/etc/app.conf/key" }, db + ".secrets[1].mountPath", invalid, "mounts a file"},
		{"volume over a secret", func(_ *Environment, s *Service) { s.VolumeMounts[2].MountPath = "/run" }, db + ".secrets[0].mountPath", invalid, "is under /run, where spec.services[1].volumeMounts[2].mountPath mounts a volume"},
		{"files with a read-only root", func(_ *Environment, s *Service) { s.ReadOnlyRootFilesystem = true }, db + ".readOnlyRootFilesystem", forbidden, "read-only root filesystem"},
		{"too many file mounts", func(_ *Environment, s *Service) {
			for i := 0; i <= MaxFileMountsPerService; i++ {
				s.Files = append(s.Files, FileMount{Name: "init-sql", MountPath: "/f/" + strings.Repeat("x", i+1)})
			}
		}, db + ".files", tooMany, ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			env := validEnv()
			s := withFiles(env)
			tc.mutate(env, s)
			expectError(t, ValidateEnvironment(env), 1, tc.path, tc.typ, tc.detail)
		})
	}
}

// TestValidateSecretNeverQuoted: a secret too large is reported without
// its content.
func TestValidateSecretNeverQuoted(t *testing.T) {
	env := validEnv()
	withFiles(env)
	env.Spec.Secrets[0].Content = "MARKER-" + strings.Repeat("z", MaxFileBytes)
	for _, e := range ValidateEnvironment(env) {
		if strings.Contains(e.Error(), "MARKER") {
			t.Errorf("error quotes the secret: %.200s", e.Error())
		}
	}
}

func TestValidatePolicyHostPaths(t *testing.T) {
	env := validEnv()
	withFiles(env)
	if errs := ValidateEnvironment(env); len(errs) != 0 {
		t.Fatalf("host paths are a valid spec; only the policy refuses them:\n%s", dump(errs))
	}
	errs := ValidatePolicy(&env.Spec, Policy{})
	if len(errs) != 3 {
		t.Fatalf("want 3 refusals (hostPath, file path, secret path), got:\n%s", dump(errs))
	}
	expectError(t, errs[:1], 1, "spec.volumes[2].hostPath.path", field.ErrorTypeForbidden, "the manager permits none (start it with --allow-host-path DIR")
	expectError(t, errs[1:2], 1, "spec.files[1].path", field.ErrorTypeForbidden, "permits none")
	expectError(t, errs[2:], 1, "spec.secrets[1].path", field.ErrorTypeForbidden, "permits none")

	errs = ValidatePolicy(&env.Spec, Policy{AllowedHostPaths: []string{"/srv/other", "/opt"}})
	expectError(t, errs[:1], 1, "spec.volumes[2].hostPath.path", field.ErrorTypeForbidden,
		"/srv/berth/conf.d is not under a directory the manager allows (--allow-host-path: /srv/other, /opt)")
	if errs := ValidatePolicy(&env.Spec, Policy{AllowedHostPaths: []string{"/srv/berth"}}); len(errs) != 0 {
		t.Errorf("paths under the root must be admitted:\n%s", dump(errs))
	}
	if errs := ValidatePolicy(&validEnv().Spec, Policy{}); len(errs) != 0 {
		t.Errorf("a spec without host paths needs no policy:\n%s", dump(errs))
	}
}

func TestHostPathAllowed(t *testing.T) {
	p := Policy{AllowedHostPaths: []string{"/data", "/srv/app"}}
	for path, ok := range map[string]bool{
		"/data":              true,
		"/data/x/y":          true,
		"/srv/app/conf":      true,
		"/data2":             false,
		"/dat":               false,
		"/srv":               false,
		"/etc/passwd":        false,
		"/data/../etc":       false,
		"/data/x/../../etc":  false,
		"/data/x/../y":       true,
		"data/x":             false,
		"/srv/app/../app/ok": true,
	} {
		err := p.HostPathAllowed(path)
		if (err == nil) != ok {
			t.Errorf("HostPathAllowed(%q) = %v, want allowed=%v", path, err, ok)
		}
	}
	if err := (Policy{}).HostPathAllowed("/data"); err == nil || !strings.Contains(err.Error(), "--allow-host-path DIR") {
		t.Errorf("no roots: %v", err)
	}
	if err := (Policy{AllowedHostPaths: []string{"/"}}).HostPathAllowed("/anything/at/all"); err != nil {
		t.Errorf("root / allows everything: %v", err)
	}
	if err := p.HostPathAllowed("rel"); err == nil || !strings.Contains(err.Error(), "berth apply -f") {
		t.Errorf("relative path: %v", err)
	}
}

func TestRedactSecrets(t *testing.T) {
	env := validEnv()
	withFiles(env)
	out := RedactSecrets(env.Spec)
	if out.Secrets[0].Content != RedactedSecret || out.Secrets[1].Path != "/srv/berth/key" || out.Secrets[1].Content != "" {
		t.Errorf("redacted secrets: %+v", out.Secrets)
	}
	if env.Spec.Secrets[0].Content != "s3cret" {
		t.Errorf("RedactSecrets changed its input")
	}
}
