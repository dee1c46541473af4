package v1alpha1

import (
	"strings"
	"testing"

	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/apimachinery/pkg/util/validation/field"
)

func TestValidateEnvironmentAcceptsValidSpecs(t *testing.T) {
	cases := []struct {
		name   string
		mutate func(env *Environment)
	}{
		{"every feature", func(*Environment) {}},
		{"pinned to a host", func(env *Environment) { env.Spec.Host = "docker-2.lab" }},
		{"one service with an image only", func(env *Environment) {
			env.Spec = EnvironmentSpec{Services: []Service{{Name: "web", Image: "nginx"}}}
		}},
		{"names of exactly 40 characters", func(env *Environment) {
			env.Name = strings.Repeat("e", 40)
			env.Spec.Services[0].Name = strings.Repeat("m", 40)
			env.Spec.Services[1].DependsOn[0].Service = strings.Repeat("m", 40)
			env.Spec.Services[2].DependsOn[1].Service = strings.Repeat("m", 40)
			env.Spec.Volumes[0].Name = strings.Repeat("v", 40)
			env.Spec.Services[1].VolumeMounts[0].Name = strings.Repeat("v", 40)
		}},
		{"same host port with another protocol", func(env *Environment) {
			env.Spec.Services[1].Ports[0].HostPort = ptr(int32(18080))
			env.Spec.Services[1].Ports[0].Protocol = ProtocolUDP
		}},
		{"same host port on another address", func(env *Environment) {
			env.Spec.Services[1].Ports[0].HostPort = ptr(int32(18080))
			env.Spec.Services[1].Ports[0].HostIP = "127.0.0.2"
		}},
		{"several free host ports", func(env *Environment) {
			env.Spec.Services[1].Ports[0].HostPort = ptr(int32(0))
		}},
		{"IPv6 host address", func(env *Environment) {
			env.Spec.Services[2].Ports[0].HostIP = "::1"
		}},
		{"probe port by number", func(env *Environment) {
			env.Spec.Services[2].ReadinessProbe.HTTPGet.Port = intstr.FromInt32(8080)
		}},
		{"tcp probe on an undeclared port", func(env *Environment) {
			env.Spec.Services[1].ReadinessProbe = &Probe{TCPSocket: &TCPSocketAction{Port: intstr.FromInt32(5433)}}
		}},
		{"http probe path with a query", func(env *Environment) {
			env.Spec.Services[2].ReadinessProbe.HTTPGet.Path = "/healthz?full=1"
		}},
		{"Completed on an OnFailure job", func(env *Environment) {
			env.Spec.Services[0].RestartPolicy = RestartOnFailure
		}},
		{"zero grace period", func(env *Environment) {
			env.Spec.Services[2].TerminationGracePeriodSeconds = ptr(int64(0))
		}},
		{"quantities in every notation", func(env *Environment) {
			env.Spec.Services[2].Resources = ResourceRequirements{
				Limits:   ResourceList{ResourceMemory: intstr.FromInt32(64 << 20), ResourceCPU: qty("500m")},
				Requests: ResourceList{ResourceMemory: qty("64M"), ResourceCPU: qty("0.25")},
			}
		}},
		{"request equal to limit", func(env *Environment) {
			env.Spec.Services[1].Resources.Requests[ResourceMemory] = qty("512Mi")
		}},
		{"lower-case and dotted env names", func(env *Environment) {
			env.Spec.Services[2].Env = []EnvVar{{Name: "http_proxy"}, {Name: "my.setting", Value: "x"}}
		}},
		{"diamond dependencies are not a cycle", func(env *Environment) {
			env.Spec.Services = append(env.Spec.Services, Service{Name: "web", Image: "nginx",
				DependsOn: []Dependency{{Service: "api"}, {Service: "db"}}})
			SetDefaults(env)
		}},
		{"generateName", func(env *Environment) {
			env.GenerateName = strings.Repeat("g", 34) + "-"
			env.Name = env.GenerateName + "x7k2q"
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			env := validEnv()
			tc.mutate(env)
			SetDefaults(env)
			if errs := ValidateEnvironment(env); len(errs) != 0 {
				t.Errorf("want no errors, got:\n%s", dump(errs))
			}
		})
	}
}

func TestValidateEnvironmentRejectsInvalidSpecs(t *testing.T) {
	const (
		required     = field.ErrorTypeRequired
		invalid      = field.ErrorTypeInvalid
		notFound     = field.ErrorTypeNotFound
		duplicate    = field.ErrorTypeDuplicate
		notSupported = field.ErrorTypeNotSupported
		forbidden    = field.ErrorTypeForbidden
		tooLong      = field.ErrorTypeTooLong
	)
	db := "spec.services[1]"
	api := "spec.services[2]"
	cases := []struct {
		name   string
		mutate func(env *Environment)
		path   string
		typ    field.ErrorType
		detail string
		count  int // errors expected in all; 0 means 1
	}{
		{"host with an underscore", func(e *Environment) { e.Spec.Host = "docker_2" },
			"spec.host", invalid, "RFC 1123 subdomain", 0},
		{"upper-case host", func(e *Environment) { e.Spec.Host = "Docker-2" },
			"spec.host", invalid, "RFC 1123 subdomain", 0},
		// metadata
		{"no name", func(e *Environment) { e.Name = "" },
			"metadata.name", required, "name or generateName is required", 0},
		{"upper-case name", func(e *Environment) { e.Name = "Checkout" },
			"metadata.name", invalid, "RFC 1123 label", 0},
		{"name too long for Docker names", func(e *Environment) { e.Name = strings.Repeat("e", 41) },
			"metadata.name", invalid, "no more than 40 characters", 0},
		{"generateName leaves no room for the suffix", func(e *Environment) {
			e.GenerateName = strings.Repeat("g", 36)
			e.Name = strings.Repeat("g", 36) + "x"
		}, "metadata.generateName", invalid, "no more than 35 characters", 0},
		{"namespace on a cluster-scoped type", func(e *Environment) { e.Namespace = "default" },
			"metadata.namespace", forbidden, "not allowed", 0},
		{"bad label", func(e *Environment) { e.Labels["team"] = "a b" },
			"metadata.labels", invalid, "", 0},

		// services and volumes
		{"no services", func(e *Environment) { e.Spec.Services = nil; e.Spec.Volumes = nil },
			"spec.services", required, "at least one service", 0},
		{"service without name", func(e *Environment) { e.Spec.Services[2].Name = "" },
			api + ".name", required, "", 0},
		{"service name not a DNS label", func(e *Environment) { e.Spec.Services[2].Name = "API_Server" },
			api + ".name", invalid, "RFC 1123 label", 0},
		{"service name too long", func(e *Environment) { e.Spec.Services[2].Name = strings.Repeat("a", 41) },
			api + ".name", tooLong, "40", 0},
		{"duplicate service", func(e *Environment) {
			e.Spec.Services = append(e.Spec.Services, Service{Name: "db", Image: "nginx"})
		}, "spec.services[3].name", duplicate, "", 0},
		{"volume name not a DNS label", func(e *Environment) {
			e.Spec.Volumes = append(e.Spec.Volumes, Volume{Name: "Bad_Name"})
		}, "spec.volumes[1].name", invalid, "RFC 1123 label", 0},
		{"duplicate volume", func(e *Environment) {
			e.Spec.Volumes = append(e.Spec.Volumes, Volume{Name: "pgdata"})
		}, "spec.volumes[1].name", duplicate, "", 0},
		{"ttl zero", func(e *Environment) { e.Spec.TTLSecondsAfterReady = ptr(int64(0)) },
			"spec.ttlSecondsAfterReady", invalid, "at least 1", 0},

		// image and enums
		{"no image", func(e *Environment) { e.Spec.Services[1].Image = "" },
			db + ".image", required, "", 0},
		{"upper-case image", func(e *Environment) { e.Spec.Services[1].Image = "Postgres:16" },
			db + ".image", invalid, "must be lowercase", 0},
		{"malformed image", func(e *Environment) { e.Spec.Services[1].Image = "postgres::16" },
			db + ".image", invalid, "invalid reference format", 0},
		{"unknown pull policy", func(e *Environment) { e.Spec.Services[1].ImagePullPolicy = "Sometimes" },
			db + ".imagePullPolicy", notSupported, `"Always", "IfNotPresent", "Never"`, 0},
		{"unknown restart policy", func(e *Environment) { e.Spec.Services[2].RestartPolicy = "unless-stopped" },
			api + ".restartPolicy", notSupported, `"OnFailure"`, 0},
		{"negative grace period", func(e *Environment) { e.Spec.Services[2].TerminationGracePeriodSeconds = ptr(int64(-1)) },
			api + ".terminationGracePeriodSeconds", invalid, "between 0 and 3600", 0},
		{"grace period over an hour", func(e *Environment) { e.Spec.Services[2].TerminationGracePeriodSeconds = ptr(int64(3601)) },
			api + ".terminationGracePeriodSeconds", invalid, "between 0 and 3600", 0},

		// env
		{"env without name", func(e *Environment) { e.Spec.Services[1].Env[0].Name = "" },
			db + ".env[0].name", required, "", 0},
		{"env name with =", func(e *Environment) { e.Spec.Services[1].Env[0].Name = "A=B" },
			db + ".env[0].name", invalid, "must not contain '='", 0},
		{"env name starting with a digit", func(e *Environment) { e.Spec.Services[1].Env[0].Name = "1PASSWORD" },
			db + ".env[0].name", invalid, "valid environment variable name", 0},
		{"duplicate env", func(e *Environment) { e.Spec.Services[1].Env[1].Name = "POSTGRES_PASSWORD" },
			db + ".env[1].name", duplicate, "", 0},

		// ports
		{"container port listed twice", func(e *Environment) { e.Spec.Services[2].Ports[1].ContainerPort = 8080 },
			api + ".ports[1].containerPort", duplicate, "8080/TCP is already listed at spec.services[2].ports[0]", 0},
		{"container port listed twice, protocol defaulted", func(e *Environment) {
			e.Spec.Services[2].Ports[1].ContainerPort = 8080
			e.Spec.Services[2].Ports[0].Protocol = ""
			e.Spec.Services[2].Ports[1].Protocol = ProtocolTCP
		}, api + ".ports[1].containerPort", duplicate, "8080/TCP is already listed", 0},
		{"upper-case port name", func(e *Environment) { e.Spec.Services[1].Ports[0].Name = "Sql" },
			db + ".ports[0].name", invalid, "alpha-numeric", 0},
		{"port name too long", func(e *Environment) { e.Spec.Services[1].Ports[0].Name = "postgres-primary" },
			db + ".ports[0].name", tooLong, "15", 0},
		{"duplicate port name", func(e *Environment) { e.Spec.Services[2].Ports[1].Name = "http" },
			api + ".ports[1].name", duplicate, "", 0},
		{"container port zero", func(e *Environment) { e.Spec.Services[1].Ports[0].ContainerPort = 0 },
			db + ".ports[0].containerPort", invalid, "between 1 and 65535", 0},
		{"container port too big", func(e *Environment) { e.Spec.Services[1].Ports[0].ContainerPort = 70000 },
			db + ".ports[0].containerPort", invalid, "between 1 and 65535", 0},
		{"negative host port", func(e *Environment) { e.Spec.Services[2].Ports[0].HostPort = ptr(int32(-1)) },
			api + ".ports[0].hostPort", invalid, "between 0 and 65535", 0},
		{"host port too big", func(e *Environment) { e.Spec.Services[2].Ports[0].HostPort = ptr(int32(65536)) },
			api + ".ports[0].hostPort", invalid, "between 0 and 65535", 0},
		{"host IP not an address", func(e *Environment) { e.Spec.Services[2].Ports[0].HostIP = "localhost" },
			api + ".ports[0].hostIP", invalid, "valid IPv4 or IPv6", 0},
		{"host IP without host port", func(e *Environment) { e.Spec.Services[1].Ports[0].HostIP = "127.0.0.1" },
			db + ".ports[0].hostIP", forbidden, "only be set when hostPort is set", 0},
		{"unknown protocol", func(e *Environment) { e.Spec.Services[1].Ports[0].Protocol = "SCTP" },
			db + ".ports[0].protocol", notSupported, `"TCP", "UDP"`, 0},
		{"host port published twice", func(e *Environment) { e.Spec.Services[1].Ports[0].HostPort = ptr(int32(18080)) },
			api + ".ports[0].hostPort", duplicate, "already published by spec.services[1].ports[0].hostPort", 0},
		{"host port overlapping a wildcard address", func(e *Environment) {
			e.Spec.Services[1].Ports[0].HostPort = ptr(int32(18080))
			e.Spec.Services[1].Ports[0].HostIP = "0.0.0.0"
		}, api + ".ports[0].hostPort", duplicate, "127.0.0.1:18080/TCP overlaps 0.0.0.0:18080/TCP, published by spec.services[1].ports[0].hostPort", 0},

		// resources
		{"unsupported resource", func(e *Environment) { e.Spec.Services[1].Resources.Limits["nvidia.com/gpu"] = qty("1") },
			db + ".resources.limits[nvidia.com/gpu]", notSupported, `"cpu", "memory"`, 0},
		{"unparsable memory", func(e *Environment) { e.Spec.Services[1].Resources.Limits[ResourceMemory] = qty("512MB") },
			db + ".resources.limits[memory]", invalid, "quantities must match the regular expression", 0},
		{"negative memory", func(e *Environment) { e.Spec.Services[1].Resources.Limits[ResourceMemory] = qty("-1Gi") },
			db + ".resources.limits[memory]", invalid, "greater than zero", 0},
		{"memory below Docker's minimum", func(e *Environment) { e.Spec.Services[1].Resources.Limits[ResourceMemory] = qty("4Mi") },
			db + ".resources.limits[memory]", invalid, "at least 6Mi", 0},
		{"zero cpu", func(e *Environment) { e.Spec.Services[1].Resources.Limits[ResourceCPU] = intstr.FromInt32(0) },
			db + ".resources.limits[cpu]", invalid, "greater than zero", 0},
		{"cpu below Docker's minimum", func(e *Environment) { e.Spec.Services[1].Resources.Limits[ResourceCPU] = qty("5m") },
			db + ".resources.limits[cpu]", invalid, "at least 10m", 0},
		{"absurd cpu", func(e *Environment) { e.Spec.Services[1].Resources.Limits[ResourceCPU] = qty("128") },
			db + ".resources.limits[cpu]", invalid, "at most 64", 0},
		{"memory request above limit", func(e *Environment) { e.Spec.Services[1].Resources.Requests[ResourceMemory] = qty("1Gi") },
			db + ".resources.requests[memory]", invalid, "less than or equal to the memory limit (512Mi)", 0},
		{"cpu request above limit", func(e *Environment) { e.Spec.Services[1].Resources.Requests[ResourceCPU] = qty("1500m") },
			db + ".resources.requests[cpu]", invalid, "less than or equal to the cpu limit (1)", 0},

		// volume mounts
		{"mount of an undeclared volume", func(e *Environment) { e.Spec.Services[1].VolumeMounts[0].Name = "pgdata2" },
			db + ".volumeMounts[0].name", notFound, "volume not declared in spec.volumes", 0},
		{"relative mount path", func(e *Environment) { e.Spec.Services[1].VolumeMounts[0].MountPath = "data" },
			db + ".volumeMounts[0].mountPath", invalid, "absolute", 0},
		{"unclean mount path", func(e *Environment) { e.Spec.Services[1].VolumeMounts[0].MountPath = "/var/lib/../data/" },
			db + ".volumeMounts[0].mountPath", invalid, "clean path (/var/data)", 0},
		{"mount over the root", func(e *Environment) { e.Spec.Services[1].VolumeMounts[0].MountPath = "/" },
			db + ".volumeMounts[0].mountPath", invalid, "root", 0},
		{"duplicate mount path", func(e *Environment) {
			e.Spec.Services[1].VolumeMounts = append(e.Spec.Services[1].VolumeMounts,
				VolumeMount{Name: "pgdata", MountPath: "/var/lib/postgresql/data"})
		}, db + ".volumeMounts[1].mountPath", duplicate, "", 0},

		// readiness probe
		{"probe without handler", func(e *Environment) { e.Spec.Services[1].ReadinessProbe.Exec = nil },
			db + ".readinessProbe", required, "exec, httpGet, tcpSocket or log", 0},
		{"probe with two handlers", func(e *Environment) {
			e.Spec.Services[1].ReadinessProbe.TCPSocket = &TCPSocketAction{Port: intstr.FromString("sql")}
		}, db + ".readinessProbe.tcpSocket", forbidden, "may not specify more than one handler", 0},
		{"exec without command", func(e *Environment) { e.Spec.Services[1].ReadinessProbe.Exec.Command = nil },
			db + ".readinessProbe.exec.command", required, "", 0},
		{"probe port name not declared", func(e *Environment) {
			e.Spec.Services[2].ReadinessProbe.HTTPGet.Port = intstr.FromString("web")
		}, api + ".readinessProbe.httpGet.port", invalid, `no port named "web"`, 0},
		{"probe port quoted number", func(e *Environment) {
			e.Spec.Services[2].ReadinessProbe.HTTPGet.Port = intstr.FromString("8080")
		}, api + ".readinessProbe.httpGet.port", invalid, "without quotes", 0},
		{"tcp probe port zero", func(e *Environment) {
			e.Spec.Services[1].ReadinessProbe = &Probe{TCPSocket: &TCPSocketAction{Port: intstr.FromInt32(0)}}
		}, db + ".readinessProbe.tcpSocket.port", invalid, "between 1 and 65535", 0},
		{"http path without slash", func(e *Environment) { e.Spec.Services[2].ReadinessProbe.HTTPGet.Path = "healthz" },
			api + ".readinessProbe.httpGet.path", invalid, "must start with /", 0},
		{"negative period", func(e *Environment) { e.Spec.Services[1].ReadinessProbe.PeriodSeconds = -1 },
			db + ".readinessProbe.periodSeconds", invalid, "at least 1", 0},
		{"negative timeout", func(e *Environment) { e.Spec.Services[1].ReadinessProbe.TimeoutSeconds = -1 },
			db + ".readinessProbe.timeoutSeconds", invalid, "at least 1", 0},
		{"negative success threshold", func(e *Environment) { e.Spec.Services[1].ReadinessProbe.SuccessThreshold = -1 },
			db + ".readinessProbe.successThreshold", invalid, "at least 1", 0},
		{"negative failure threshold", func(e *Environment) { e.Spec.Services[1].ReadinessProbe.FailureThreshold = -3 },
			db + ".readinessProbe.failureThreshold", invalid, "at least 1", 0},
		{"negative initial delay", func(e *Environment) { e.Spec.Services[1].ReadinessProbe.InitialDelaySeconds = -5 },
			db + ".readinessProbe.initialDelaySeconds", invalid, "greater than or equal to 0", 0},

		// dependencies
		{"dependency on an unknown service", func(e *Environment) { e.Spec.Services[2].DependsOn[0].Service = "redis" },
			api + ".dependsOn[0].service", notFound, "no service of that name", 0},
		{"dependency on itself", func(e *Environment) { e.Spec.Services[2].DependsOn[0].Service = "api" },
			api + ".dependsOn[0].service", invalid, "itself", 0},
		{"dependency without service", func(e *Environment) { e.Spec.Services[2].DependsOn[0].Service = "" },
			api + ".dependsOn[0].service", required, "", 0},
		{"duplicate dependency", func(e *Environment) { e.Spec.Services[2].DependsOn[1].Service = "db" },
			api + ".dependsOn[1].service", duplicate, "", 0},
		{"unknown condition", func(e *Environment) { e.Spec.Services[2].DependsOn[0].Condition = "Healthy" },
			api + ".dependsOn[0].condition", notSupported, `"Started", "Ready", "Completed"`, 0},
		{"Ready on a service without probe", func(e *Environment) { e.Spec.Services[2].DependsOn[1].Condition = DependencyReady },
			api + ".dependsOn[1].condition", invalid, `service "migrate" has no readinessProbe`, 0},
		{"Completed on a service that always restarts", func(e *Environment) { e.Spec.Services[2].DependsOn[0].Condition = DependencyCompleted },
			api + ".dependsOn[0].condition", invalid, `service "db" has restartPolicy Always, so it never completes`, 0},
		{"two-service cycle", func(e *Environment) {
			e.Spec.Services = append(e.Spec.Services,
				Service{Name: "x", Image: "nginx", DependsOn: []Dependency{{Service: "y"}}},
				Service{Name: "y", Image: "nginx", DependsOn: []Dependency{{Service: "x"}}})
			SetDefaults(e)
		}, "spec.services[3].dependsOn", invalid, "dependency cycle: x -> y -> x", 0},
		{"cycle through existing services", func(e *Environment) {
			// migrate <- db <- api, and now migrate waits for api too.
			e.Spec.Services[0].DependsOn = []Dependency{{Service: "api", Condition: DependencyStarted}}
		}, "spec.services[0].dependsOn", invalid, "dependency cycle: migrate -> api -> db -> migrate", 2},
	}
	if len(cases) < 30 {
		t.Fatalf("only %d cases", len(cases))
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			env := validEnv()
			tc.mutate(env)
			SetDefaults(env)
			want := tc.count
			if want == 0 {
				want = 1
			}
			expectError(t, ValidateEnvironment(env), want, tc.path, tc.typ, tc.detail)
		})
	}
}

func TestValidateEnvironmentReportsEveryCycleOnce(t *testing.T) {
	env := validEnv()
	env.Spec.Services[0].DependsOn = []Dependency{{Service: "api", Condition: DependencyStarted}}
	SetDefaults(env)
	errs := ValidateEnvironment(env)
	var got []string
	for _, e := range errs {
		got = append(got, e.Field+": "+e.Detail)
	}
	want := []string{
		"spec.services[0].dependsOn: dependency cycle: migrate -> api -> db -> migrate",
		"spec.services[0].dependsOn: dependency cycle: migrate -> api -> migrate",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("got\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	if msg := errs.ToAggregate().Error(); !strings.Contains(msg, "Invalid value: dependency cycle") {
		t.Errorf("the cycle should be the message, not a repeated value: %s", msg)
	}
}

func TestValidateEnvironmentNil(t *testing.T) {
	if errs := ValidateEnvironment(nil); len(errs) != 1 {
		t.Errorf("want one error for nil, got %v", errs)
	}
}
