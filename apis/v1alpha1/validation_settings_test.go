package v1alpha1

import (
	"strings"
	"testing"

	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/apimachinery/pkg/util/validation/field"
)

// withSettings sets every container setting on the api service, the way a
// compose file for a real image would.
func withSettings(e *Environment) *Service {
	s := &e.Spec.Services[2]
	s.User = "1000:1000"
	s.WorkingDir = "/srv/app"
	s.Labels = map[string]string{"com.example.team": "payments", "traefik.enable": "true"}
	s.ReadOnlyRootFilesystem = true
	s.Init = true
	s.ShmSize = ptr(qty("256Mi"))
	s.CapAdd = []string{"NET_ADMIN", "cap_sys_ptrace"}
	s.CapDrop = []string{"ALL"}
	s.Ulimits = []Ulimit{{Name: "nofile", Soft: 1024, Hard: 65536}, {Name: "memlock", Soft: -1, Hard: -1}}
	s.ExtraHosts = []ExtraHost{{Hostname: "host.docker.internal", IP: HostGateway}, {Hostname: "db.local", IP: "10.0.0.5"}, {Hostname: "v6", IP: "::1"}}
	s.Sysctls = map[string]string{"net.core.somaxconn": "1024", "kernel.shmmax": "68719476736", "fs.mqueue.msg_max": "100", "kernel.sem": "250 32000 100 128"}
	return s
}

func TestValidateSettingsAccepts(t *testing.T) {
	for _, tc := range []struct {
		name   string
		mutate func(s *Service)
	}{
		{"all settings", func(*Service) {}},
		{"user name", func(s *Service) { s.User = "postgres" }},
		{"user and group names", func(s *Service) { s.User = "www-data:www-data" }},
		{"numeric uid", func(s *Service) { s.User = "65534" }},
		{"machine account", func(s *Service) { s.User = "host$" }},
		{"shm as integer bytes", func(s *Service) { s.ShmSize = ptr(intstr.FromInt32(67108864)) }},
		{"shm in decimal units", func(s *Service) { s.ShmSize = ptr(qty("1G")) }},
		{"capDrop with prefix", func(s *Service) { s.CapDrop = []string{"CAP_NET_RAW", "mknod"} }},
		{"unlimited hard only", func(s *Service) { s.Ulimits = []Ulimit{{Name: "core", Soft: 0, Hard: -1}} }},
		{"soft equal to hard", func(s *Service) { s.Ulimits = []Ulimit{{Name: "nproc", Soft: 10, Hard: 10}} }},
		{"upper-case hostname", func(s *Service) { s.ExtraHosts = []ExtraHost{{Hostname: "MyHost", IP: "127.0.0.1"}} }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			env := validEnv()
			tc.mutate(withSettings(env))
			if errs := ValidateEnvironment(env); len(errs) != 0 {
				t.Errorf("unexpected errors:\n%s", dump(errs))
			}
		})
	}
}

func TestValidateSettingsRejects(t *testing.T) {
	const (
		required     = field.ErrorTypeRequired
		invalid      = field.ErrorTypeInvalid
		duplicate    = field.ErrorTypeDuplicate
		notSupported = field.ErrorTypeNotSupported
		forbidden    = field.ErrorTypeForbidden
		tooLong      = field.ErrorTypeTooLong
	)
	api := "spec.services[2]"
	cases := []struct {
		name   string
		mutate func(s *Service)
		path   string
		typ    field.ErrorType
		detail string
	}{
		{"user with two colons", func(s *Service) { s.User = "1:2:3" }, api + ".user", invalid, `"user:group"`},
		{"user with empty group", func(s *Service) { s.User = "1000:" }, api + ".user", invalid, `"user:group"`},
		{"user with a space", func(s *Service) { s.User = "app user" }, api + ".user", invalid, `"user:group"`},
		{"uid out of range", func(s *Service) { s.User = "4294967295" }, api + ".user", invalid, "between 0 and 4294967294"},
		{"bad hostname", func(s *Service) { s.Hostname = "Api_1" }, api + ".hostname", invalid, "RFC 1123 subdomain"},
		{"relative workingDir", func(s *Service) { s.WorkingDir = "srv/app" }, api + ".workingDir", invalid, "absolute path"},
		{"unclean workingDir", func(s *Service) { s.WorkingDir = "/srv/../app" }, api + ".workingDir", invalid, "clean path (/app)"},
		{"berth label", func(s *Service) { s.Labels["berth.dev/service"] = "other" },
			api + ".labels[berth.dev/service]", invalid, "berth's own"},
		{"berth label in upper case", func(s *Service) { s.Labels["Berth.dev/spec-hash"] = "x" },
			api + ".labels[Berth.dev/spec-hash]", invalid, "berth's own"},
		{"empty label key", func(s *Service) { s.Labels[""] = "x" }, api + ".labels[]", invalid, "must not be empty"},
		{"label key with =", func(s *Service) { s.Labels["a=b"] = "x" }, api + ".labels[a=b]", invalid, "'='"},
		{"huge label value", func(s *Service) { s.Labels["big"] = strings.Repeat("x", MaxStringBytes+1) },
			api + ".labels[big]", tooLong, ""},
		{"bad shmSize", func(s *Service) { s.ShmSize = ptr(qty("lots")) }, api + ".shmSize", invalid, "quantity such as 64Mi"},
		{"zero shmSize", func(s *Service) { s.ShmSize = ptr(qty("0")) }, api + ".shmSize", invalid, "greater than zero"},
		{"negative shmSize", func(s *Service) { s.ShmSize = ptr(qty("-1Mi")) }, api + ".shmSize", invalid, "greater than zero"},
		{"unknown capability", func(s *Service) { s.CapAdd = []string{"NET_ADMIN", "FLY"} },
			api + ".capAdd[1]", invalid, "Linux capability"},
		{"unknown capability with prefix", func(s *Service) { s.CapDrop = []string{"CAP_NOPE"} },
			api + ".capDrop[0]", invalid, "Linux capability"},
		{"ALL added", func(s *Service) { s.CapAdd = []string{"ALL"} }, api + ".capAdd[0]", invalid, "ALL may only be dropped"},
		{"duplicate capability", func(s *Service) { s.CapAdd = []string{"NET_ADMIN", "CAP_NET_ADMIN"} },
			api + ".capAdd[1]", duplicate, ""},
		{"capability added and dropped", func(s *Service) { s.CapDrop = []string{"net_admin"} },
			api + ".capDrop[0]", invalid, "also in capAdd"},
		{"ulimit without name", func(s *Service) { s.Ulimits[0].Name = "" }, api + ".ulimits[0].name", required, ""},
		{"unknown ulimit", func(s *Service) { s.Ulimits[0].Name = "files" }, api + ".ulimits[0].name", notSupported, `"nofile"`},
		{"duplicate ulimit", func(s *Service) { s.Ulimits[1].Name = "nofile" }, api + ".ulimits[1].name", duplicate, ""},
		{"soft above hard", func(s *Service) { s.Ulimits[0].Soft = 70000 }, api + ".ulimits[0].soft", invalid, "less than or equal to hard (65536)"},
		{"unlimited soft, limited hard", func(s *Service) { s.Ulimits[0].Soft = -1 }, api + ".ulimits[0].soft", invalid, "less than or equal to hard"},
		{"negative hard", func(s *Service) { s.Ulimits[0].Hard = -2 }, api + ".ulimits[0].hard", invalid, "-1 (unlimited) or at least 0"},
		{"extra host without hostname", func(s *Service) { s.ExtraHosts[1].Hostname = "" }, api + ".extraHosts[1].hostname", required, ""},
		{"extra host bad hostname", func(s *Service) { s.ExtraHosts[1].Hostname = "db_local" }, api + ".extraHosts[1].hostname", invalid, "RFC 1123 subdomain"},
		{"extra host without ip", func(s *Service) { s.ExtraHosts[1].IP = "" }, api + ".extraHosts[1].ip", required, "host-gateway"},
		{"extra host bad ip", func(s *Service) { s.ExtraHosts[1].IP = "10.0.0" }, api + ".extraHosts[1].ip", invalid, "IPv4 or IPv6 address, or host-gateway"},
		{"host sysctl", func(s *Service) { s.Sysctls["vm.max_map_count"] = "262144" },
			api + ".sysctls[vm.max_map_count]", forbidden, "only namespaced sysctls"},
		{"kernel sysctl outside IPC", func(s *Service) { s.Sysctls["kernel.pid_max"] = "100000" },
			api + ".sysctls[kernel.pid_max]", forbidden, "would change the host"},
		{"malformed sysctl", func(s *Service) { s.Sysctls["net core somaxconn"] = "1" },
			api + ".sysctls[net core somaxconn]", invalid, "dotted kernel parameter name"},
		{"sysctl without value", func(s *Service) { s.Sysctls["net.ipv4.ip_forward"] = " " },
			api + ".sysctls[net.ipv4.ip_forward]", required, "a value is required"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			env := validEnv()
			tc.mutate(withSettings(env))
			expectError(t, ValidateEnvironment(env), 1, tc.path, tc.typ, tc.detail)
		})
	}
}

func TestValidatePolicyPrivileged(t *testing.T) {
	env := validEnv()
	env.Spec.Services[0].Privileged = true
	if errs := ValidateEnvironment(env); len(errs) != 0 {
		t.Fatalf("privileged is a valid spec; only the manager's policy refuses it:\n%s", dump(errs))
	}
	expectError(t, ValidatePolicy(&env.Spec, Policy{}), 1, "spec.services[0].privileged", field.ErrorTypeForbidden,
		"the manager was not started with --allow-privileged")
	if errs := ValidatePolicy(&env.Spec, Policy{AllowPrivileged: true}); len(errs) != 0 {
		t.Errorf("--allow-privileged must admit it:\n%s", dump(errs))
	}
	if errs := ValidatePolicy(&validEnv().Spec, Policy{}); len(errs) != 0 {
		t.Errorf("a spec without privileged needs no policy:\n%s", dump(errs))
	}
	if got := (field.ErrorList{ValidatePolicy(&env.Spec, Policy{})[0]}).ToAggregate().Error(); got !=
		"spec.services[0].privileged: Forbidden: the manager was not started with --allow-privileged" {
		t.Errorf("message = %q", got)
	}
}

func TestCapabilityName(t *testing.T) {
	for in, want := range map[string]string{"net_admin": "CAP_NET_ADMIN", "CAP_SYS_PTRACE": "CAP_SYS_PTRACE", "all": "ALL", "Cap_Kill": "CAP_KILL"} {
		if got := CapabilityName(in); got != want {
			t.Errorf("CapabilityName(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestValidateRestartLimit(t *testing.T) {
	const path = "spec.services[2].restartLimit"
	for _, tc := range []struct {
		name   string
		policy RestartPolicy
		limit  int32
		typ    field.ErrorType
		detail string
	}{
		{"with Always", RestartAlways, 3, field.ErrorTypeForbidden, "only be set with restartPolicy OnFailure"},
		{"with Never", RestartNever, 3, field.ErrorTypeForbidden, "only be set with restartPolicy OnFailure"},
		{"zero", RestartOnFailure, 0, field.ErrorTypeInvalid, "between 1 and 10000"},
		{"negative", RestartOnFailure, -1, field.ErrorTypeInvalid, "between 1 and 10000"},
		{"too many", RestartOnFailure, MaxRestartLimit + 1, field.ErrorTypeInvalid, "between 1 and 10000"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			env := validEnv()
			env.Spec.Services[2].RestartPolicy = tc.policy
			env.Spec.Services[2].RestartLimit = ptr(tc.limit)
			expectError(t, ValidateEnvironment(env), 1, path, tc.typ, tc.detail)
		})
	}
	env := validEnv()
	env.Spec.Services[2].RestartPolicy = RestartOnFailure
	env.Spec.Services[2].RestartLimit = ptr(int32(5))
	if errs := ValidateEnvironment(env); len(errs) != 0 {
		t.Errorf("on-failure:5 refused:\n%s", dump(errs))
	}
}

// TestValidatePortsWithoutNames: a port needs a name only to be referred
// to; one container port may be listed for TCP and for UDP (DNS on 53).
func TestValidatePortsWithoutNames(t *testing.T) {
	env := validEnv()
	env.Spec.Services[1].Ports = []ServicePort{
		{ContainerPort: 5432, Protocol: ProtocolTCP},
		{ContainerPort: 53, Protocol: ProtocolTCP, HostPort: ptr(int32(0)), HostIP: "127.0.0.1"},
		{ContainerPort: 53, Protocol: ProtocolUDP, HostPort: ptr(int32(0)), HostIP: "127.0.0.1"},
	}
	env.Spec.Services[1].ReadinessProbe = &Probe{TCPSocket: &TCPSocketAction{Port: intstr.FromInt32(5432)}}
	SetDefaults(env)
	if errs := ValidateEnvironment(env); len(errs) != 0 {
		t.Errorf("unnamed ports refused:\n%s", dump(errs))
	}
	env.Spec.Services[1].ReadinessProbe.TCPSocket.Port = intstr.FromString("sql")
	expectError(t, ValidateEnvironment(env), 1, "spec.services[1].readinessProbe.tcpSocket.port", field.ErrorTypeInvalid, `no port named "sql"`)
}
