package compose

import (
	"slices"
	"strings"

	"github.com/compose-spec/compose-go/v2/schema"
	"github.com/compose-spec/compose-go/v2/tree"
)

// Kind says what berth does with a compose attribute.
type Kind string

const (
	// Mapped attributes become the Environment field the row names.
	Mapped Kind = "mapped"
	// Ignored attributes change nothing berth does; the row says why.
	Ignored Kind = "ignored"
	// Refused attributes fail the conversion with the row's reason.
	Refused Kind = "refused"
)

// Row is one compose attribute (and, unless a longer row says otherwise,
// everything below it) and what becomes of it.
type Row struct {
	// Path is the attribute in compose-go's tree syntax: keys joined by
	// dots, * for any key (a service name), [] for any list item.
	Path string
	Kind Kind
	// Field is the Environment field a Mapped row fills.
	Field string
	// Note says how a value maps (Mapped), or why an attribute is
	// Ignored or Refused; for Refused it is the reason in the error.
	Note string
	// Exact rows cover the attribute itself, not what lies below it:
	// each attribute below needs a row of its own, so one compose-go adds
	// later is refused until the table says otherwise.
	Exact bool
}

// extensionRow stands for every x-* key: compose-go never reports them.
const extensionRow = "x-*"

// svc prefixes a service attribute.
func svc(p string) string { return "services.*." + p }

// Table is every attribute of the Compose Specification and what berth
// does with it. The mapper refuses what it says is refused, and every
// attribute it does not list; README.md's compose table is generated from
// it (go run ./hack/gen-compose-table).
var Table = []Row{
	{Path: "version", Kind: Ignored, Note: "obsolete; the Compose Specification ignores it too"},
	{Path: extensionRow, Kind: Ignored, Note: "extensions (x-anything, at any level; YAML anchors in them work as usual) are ignored, as the Compose Specification says"},
	{Path: "name", Kind: Mapped, Field: "metadata.name", Note: "the Environment's name unless --name is given; else the project directory's name"},
	{Path: "include", Kind: Mapped, Field: "(merged)", Note: "the included projects are loaded and merged by compose-go"},
	{Path: "services", Kind: Mapped, Field: "spec.services", Note: "one service each, in name order", Exact: true},
	{Path: "services.*", Kind: Mapped, Field: "spec.services[].name", Note: "the service name is the DNS name (a DNS-1123 label, at most 40 characters)", Exact: true},
	{Path: "jobs", Kind: Refused, Note: "compose jobs are not supported; a one-shot service with restart: \"no\" is berth's job"},
	{Path: "models", Kind: Refused, Note: "berth runs no AI models"},

	// Image and build.
	{Path: svc("image"), Kind: Mapped, Field: "image"},
	{Path: svc("build"), Kind: Mapped, Field: "build", Note: "the short form is the context", Exact: true},
	{Path: svc("build.context"), Kind: Mapped, Field: "build.context", Note: "made absolute against the compose file's directory; a URL (git, https) is refused"},
	{Path: svc("build.dockerfile"), Kind: Mapped, Field: "build.dockerfile", Note: "relative to the context"},
	{Path: svc("build.args"), Kind: Mapped, Field: "build.args", Note: "an argument without a value takes it from the environment, as compose does; unset ones are left out"},
	{Path: svc("build.target"), Kind: Mapped, Field: "build.target"},
	{Path: svc("build.labels"), Kind: Refused, Note: "berth labels the images it builds itself (berth.dev/build-hash); put image labels in the Dockerfile's LABEL"},
	{Path: svc("build.dockerfile_inline"), Kind: Refused, Note: "berth builds from a Dockerfile in the context; write the Dockerfile to a file"},
	{Path: svc("build.additional_contexts"), Kind: Refused, Note: "berth sends one build context"},
	{Path: svc("build.cache_from"), Kind: Ignored, Note: "a cache hint; berth builds with the engine's local cache"},
	{Path: svc("build.cache_to"), Kind: Ignored, Note: "a cache hint; berth exports no build cache"},
	{Path: svc("build.no_cache"), Kind: Refused, Note: "berth rebuilds when the build's content hash changes, never on every apply"},
	{Path: svc("build.no_cache_filter"), Kind: Refused, Note: "berth rebuilds when the build's content hash changes, never on every apply"},
	{Path: svc("build.pull"), Kind: Refused, Note: "berth builds from the base images the engine has"},
	{Path: svc("build.entitlements"), Kind: Refused, Note: "build entitlements reach the host"},
	{Path: svc("build.privileged"), Kind: Refused, Note: "a privileged build reaches the host"},
	{Path: svc("build.extra_hosts"), Kind: Refused, Note: "berth's builds use the engine's network settings"},
	{Path: svc("build.network"), Kind: Refused, Note: "berth's builds use the engine's network settings"},
	{Path: svc("build.isolation"), Kind: Refused, Note: "Windows isolation modes do not apply to a Linux engine"},
	{Path: svc("build.platforms"), Kind: Refused, Note: "berth builds for the engine's platform only"},
	{Path: svc("build.provenance"), Kind: Refused, Note: "berth's builds produce no attestations"},
	{Path: svc("build.sbom"), Kind: Refused, Note: "berth's builds produce no attestations"},
	{Path: svc("build.secrets"), Kind: Refused, Note: "berth's builds take no build secrets"},
	{Path: svc("build.ssh"), Kind: Refused, Note: "berth's builds forward no SSH agent"},
	{Path: svc("build.shm_size"), Kind: Refused, Note: "berth's builds use the engine's default /dev/shm"},
	{Path: svc("build.tags"), Kind: Refused, Note: "berth tags a built image by its content hash, and with image: when set"},
	{Path: svc("build.ulimits"), Kind: Refused, Note: "berth's builds use the engine's default limits"},
	{Path: svc("pull_policy"), Kind: Mapped, Field: "imagePullPolicy", Note: "always → Always, never → Never, missing and if_not_present → IfNotPresent, build (with build:) → the default; daily, weekly, every_* and refresh are refused"},
	{Path: svc("pull_refresh_after"), Kind: Refused, Note: "berth pulls Always, IfNotPresent or Never, not on a schedule"},
	{Path: svc("platform"), Kind: Refused, Note: "berth runs images of the engine's own platform"},

	// The process.
	{Path: svc("command"), Kind: Mapped, Field: "args", Note: "the string form is split like a shell does; an empty command (clear the image's CMD) is refused"},
	{Path: svc("entrypoint"), Kind: Mapped, Field: "command", Note: "the string form is split like a shell does; an empty entrypoint is refused"},
	{Path: svc("environment"), Kind: Mapped, Field: "env", Note: "sorted by name; a variable without a value takes it from the environment, and is left out when unset there, as compose does"},
	{Path: svc("env_file"), Kind: Mapped, Field: "env", Note: "read at conversion time (relative to the compose file), under environment:"},
	{Path: svc("user"), Kind: Mapped, Field: "user"},
	{Path: svc("working_dir"), Kind: Mapped, Field: "workingDir", Note: "trailing slashes dropped (/var/www/ → /var/www)"},
	{Path: svc("init"), Kind: Mapped, Field: "init"},
	{Path: svc("stop_signal"), Kind: Mapped, Field: "stopSignal"},
	{Path: svc("stop_grace_period"), Kind: Mapped, Field: "terminationGracePeriodSeconds", Note: "whole seconds; a fraction is refused"},
	{Path: svc("restart"), Kind: Mapped, Field: "restartPolicy", Note: "no → Never, always and unless-stopped → Always (berth restarts its containers itself; only deleting the Environment stops them), on-failure[:N] → OnFailure with restartLimit N; unset → berth's default (Always), or Never for a service another one waits for with service_completed_successfully"},
	{Path: svc("labels"), Kind: Mapped, Field: "labels", Note: "keys under berth.dev/ are refused by validation"},
	{Path: svc("label_file"), Kind: Mapped, Field: "labels", Note: "read at conversion time, under labels:"},
	{Path: svc("read_only"), Kind: Mapped, Field: "readOnlyRootFilesystem"},
	{Path: svc("shm_size"), Kind: Mapped, Field: "shmSize", Note: "in bytes, written as a quantity (64Mi)"},
	{Path: svc("cap_add"), Kind: Mapped, Field: "capAdd"},
	{Path: svc("cap_drop"), Kind: Mapped, Field: "capDrop"},
	{Path: svc("privileged"), Kind: Mapped, Field: "privileged", Note: "admitted only when the manager runs with --allow-privileged"},
	{Path: svc("ulimits"), Kind: Mapped, Field: "ulimits", Note: "a single number sets soft and hard"},
	{Path: svc("extra_hosts"), Kind: Mapped, Field: "extraHosts", Note: "one entry per address"},
	{Path: svc("sysctls"), Kind: Mapped, Field: "sysctls", Note: "namespaced ones only (validation)"},
	{Path: svc("tmpfs"), Kind: Mapped, Field: "volumes[].emptyDir + volumeMounts", Note: "PATH[:size=SIZE]; without a size, sizeLimit is the service's memory limit (tmpfs pages count against it anyway), or 512Mi, the manager's documented --default-memory-limit, when the service sets none; mode=1777 (tmpfs's default) is accepted, other options are refused"},
	{Path: svc("scale"), Kind: Mapped, Field: "replicas"},
	{Path: svc("profiles"), Kind: Mapped, Field: "(selection)", Note: "a service with profiles is converted only when --profile names one of them"},
	{Path: svc("extends"), Kind: Mapped, Field: "(merged)", Note: "resolved by compose-go before mapping"},
	{Path: svc("attach"), Kind: Ignored, Note: "log attachment of `docker compose up`; `berth logs` reads a service's output on request"},
	{Path: svc("hostname"), Kind: Mapped, Field: "hostname", Note: "the container's own host name (a DNS-1123 subdomain); other services still reach it by service name and network aliases"},
	{Path: svc("domainname"), Kind: Refused, Note: "berth sets no container domain name"},
	{Path: svc("container_name"), Kind: Mapped, Field: "networks[].aliases", Note: "berth still names the container itself (berth_<env>_<service>, so environments never collide); the name becomes a network alias of the service on every network it joins, which is what other services use it for, and convert/apply warn so. With replicas > 1 compose-go refuses it, as compose does; a DNS-1123 subdomain only"},
	{Path: svc("tty"), Kind: Refused, Note: "berth runs services without a terminal; `berth logs` reads their output"},
	{Path: svc("stdin_open"), Kind: Refused, Note: "berth runs services without stdin"},
	{Path: svc("network_mode"), Kind: Refused, Note: "an Environment never shares the host's or another container's network"},
	{Path: svc("pid"), Kind: Refused, Note: "an Environment never shares the host's or another container's process namespace"},
	{Path: svc("ipc"), Kind: Refused, Note: "an Environment never shares the host's or another container's IPC namespace"},
	{Path: svc("uts"), Kind: Refused, Note: "an Environment never shares the host's UTS namespace"},
	{Path: svc("userns_mode"), Kind: Refused, Note: "an Environment uses the engine's user namespace setting"},
	{Path: svc("cgroup"), Kind: Refused, Note: "an Environment never shares the host's cgroup namespace"},
	{Path: svc("cgroup_parent"), Kind: Refused, Note: "berth places containers under the engine's cgroup"},
	{Path: svc("devices"), Kind: Refused, Note: "host devices reach the host; use privileged where the manager allows it"},
	{Path: svc("device_cgroup_rules"), Kind: Refused, Note: "host devices reach the host"},
	{Path: svc("gpus"), Kind: Refused, Note: "berth does not hand out GPUs"},
	{Path: svc("volumes_from"), Kind: Refused, Note: "mount the same named volume in both services instead"},
	{Path: svc("links"), Kind: Refused, Note: "legacy; services reach each other by name, and depends_on orders them"},
	{Path: svc("external_links"), Kind: Refused, Note: "an Environment reaches no container outside it"},
	{Path: svc("security_opt"), Kind: Refused, Note: "berth keeps the engine's security profiles"},
	{Path: svc("group_add"), Kind: Refused, Note: "not in the Environment API; use user: uid:gid"},
	{Path: svc("runtime"), Kind: Refused, Note: "berth uses the engine's default runtime"},
	{Path: svc("isolation"), Kind: Refused, Note: "Windows isolation modes do not apply to a Linux engine"},
	{Path: svc("credential_spec"), Kind: Refused, Note: "Windows only"},
	{Path: svc("storage_opt"), Kind: Refused, Note: "berth uses the engine's storage settings"},
	{Path: svc("oom_kill_disable"), Kind: Refused, Note: "every berth container is bounded by its memory limit"},
	{Path: svc("oom_score_adj"), Kind: Refused, Note: "not in the Environment API"},
	{Path: svc("umask"), Kind: Refused, Note: "not in the Environment API; set it in the image's entrypoint"},
	{Path: svc("use_api_socket"), Kind: Refused, Note: "a container with the Docker API socket controls the engine"},
	{Path: svc("annotations"), Kind: Refused, Note: "not in the Environment API; use labels"},
	{Path: svc("dns"), Kind: Refused, Note: "services use Docker's DNS on their networks"},
	{Path: svc("dns_opt"), Kind: Refused, Note: "services use Docker's DNS on their networks"},
	{Path: svc("dns_search"), Kind: Refused, Note: "services use Docker's DNS on their networks"},
	{Path: svc("mac_address"), Kind: Refused, Note: "Docker assigns addresses on berth's networks"},
	{Path: svc("logging"), Kind: Refused, Note: "berth reads container output through the engine's default log driver"},
	{Path: svc("develop"), Kind: Ignored, Note: "compose watch is a development loop of the compose CLI; the stack it describes is the same without it (re-run berth apply after a change)"},
	{Path: svc("provider"), Kind: Refused, Note: "provider services are not containers"},
	{Path: svc("models"), Kind: Refused, Note: "berth runs no AI models"},
	{Path: svc("pre_start"), Kind: Refused, Note: "lifecycle hooks are not supported; use a one-shot service and depends_on: service_completed_successfully"},
	{Path: svc("post_start"), Kind: Refused, Note: "lifecycle hooks are not supported"},
	{Path: svc("pre_stop"), Kind: Refused, Note: "lifecycle hooks are not supported; stop_signal and stop_grace_period steer the stop"},

	// Resources.
	{Path: svc("mem_limit"), Kind: Mapped, Field: "resources.limits.memory", Note: "as a quantity (512Mi)"},
	{Path: svc("mem_reservation"), Kind: Mapped, Field: "resources.requests.memory", Note: "Docker's soft limit"},
	{Path: svc("cpus"), Kind: Mapped, Field: "resources.limits.cpu", Note: "in millicores (0.5 → 500m)"},
	{Path: svc("memswap_limit"), Kind: Refused, Note: "berth's memory limit is the container's whole budget"},
	{Path: svc("mem_swappiness"), Kind: Refused, Note: "not in the Environment API"},
	{Path: svc("pids_limit"), Kind: Refused, Note: "not in the Environment API"},
	{Path: svc("cpu_count"), Kind: Refused, Note: "Windows only; use cpus"},
	{Path: svc("cpu_percent"), Kind: Refused, Note: "Windows only; use cpus"},
	{Path: svc("cpu_period"), Kind: Refused, Note: "use cpus"},
	{Path: svc("cpu_quota"), Kind: Refused, Note: "use cpus"},
	{Path: svc("cpu_rt_period"), Kind: Refused, Note: "real-time scheduling reaches the host"},
	{Path: svc("cpu_rt_runtime"), Kind: Refused, Note: "real-time scheduling reaches the host"},
	{Path: svc("cpu_shares"), Kind: Refused, Note: "use cpus"},
	{Path: svc("cpuset"), Kind: Refused, Note: "berth does not pin containers to CPUs"},
	{Path: svc("blkio_config"), Kind: Refused, Note: "not in the Environment API"},
	{Path: svc("deploy"), Kind: Mapped, Field: "(see below)", Exact: true},
	{Path: svc("deploy.replicas"), Kind: Mapped, Field: "replicas"},
	{Path: svc("deploy.mode"), Kind: Mapped, Field: "(checked)", Note: "replicated; global is refused (one engine is one node)"},
	{Path: svc("deploy.resources"), Kind: Mapped, Field: "resources", Exact: true},
	{Path: svc("deploy.resources.limits"), Kind: Mapped, Field: "resources.limits", Exact: true},
	{Path: svc("deploy.resources.reservations"), Kind: Mapped, Field: "resources.requests", Exact: true},
	{Path: svc("deploy.resources.limits.memory"), Kind: Mapped, Field: "resources.limits.memory", Note: "must agree with mem_limit when both are set"},
	{Path: svc("deploy.resources.limits.cpus"), Kind: Mapped, Field: "resources.limits.cpu", Note: "must agree with cpus when both are set"},
	{Path: svc("deploy.resources.limits.pids"), Kind: Refused, Note: "not in the Environment API"},
	{Path: svc("deploy.resources.reservations.memory"), Kind: Mapped, Field: "resources.requests.memory", Note: "must agree with mem_reservation when both are set"},
	{Path: svc("deploy.resources.reservations.cpus"), Kind: Refused, Note: "Docker reserves no CPU on one engine; use cpus for a limit"},
	{Path: svc("deploy.resources.reservations.devices"), Kind: Refused, Note: "berth does not hand out devices"},
	{Path: svc("deploy.resources.reservations.generic_resources"), Kind: Refused, Note: "swarm only"},
	{Path: svc("deploy.restart_policy"), Kind: Mapped, Field: "restartPolicy", Note: "condition none → Never, on-failure → OnFailure (max_attempts → restartLimit), any → Always; delay and window are refused", Exact: true},
	{Path: svc("deploy.restart_policy.condition"), Kind: Mapped, Field: "restartPolicy"},
	{Path: svc("deploy.restart_policy.max_attempts"), Kind: Mapped, Field: "restartLimit", Note: "with condition on-failure"},
	{Path: svc("deploy.restart_policy.delay"), Kind: Refused, Note: "berth backs off crash loops itself"},
	{Path: svc("deploy.restart_policy.window"), Kind: Refused, Note: "berth backs off crash loops itself"},
	{Path: svc("deploy.labels"), Kind: Ignored, Note: "labels of the swarm service object, not of containers; docker compose ignores them too"},
	{Path: svc("deploy.placement"), Kind: Ignored, Note: "swarm scheduling; one engine is one node (docker compose ignores it too)"},
	{Path: svc("deploy.update_config"), Kind: Ignored, Note: "swarm rollouts; berth recreates a changed service's containers (docker compose ignores it too)"},
	{Path: svc("deploy.rollback_config"), Kind: Ignored, Note: "swarm rollouts (docker compose ignores it too)"},
	{Path: svc("deploy.endpoint_mode"), Kind: Ignored, Note: "swarm service discovery; Docker's DNS round-robins replicas on one engine"},

	// Health and order.
	{Path: svc("healthcheck"), Kind: Mapped, Field: "healthcheck", Note: "Docker runs it; without a readinessProbe it decides when the service is Ready", Exact: true},
	{Path: svc("healthcheck.test"), Kind: Mapped, Field: "healthcheck.test", Note: "a string is CMD-SHELL"},
	{Path: svc("healthcheck.interval"), Kind: Mapped, Field: "healthcheck.intervalSeconds", Note: "whole seconds; a fraction is refused"},
	{Path: svc("healthcheck.timeout"), Kind: Mapped, Field: "healthcheck.timeoutSeconds", Note: "whole seconds; a fraction is refused"},
	{Path: svc("healthcheck.start_period"), Kind: Mapped, Field: "healthcheck.startPeriodSeconds", Note: "whole seconds; a fraction is refused"},
	{Path: svc("healthcheck.retries"), Kind: Mapped, Field: "healthcheck.retries"},
	{Path: svc("healthcheck.disable"), Kind: Mapped, Field: "healthcheck.disable"},
	{Path: svc("healthcheck.start_interval"), Kind: Refused, Note: "not in the Environment API; Docker checks at interval during the start period"},
	{Path: svc("depends_on"), Kind: Mapped, Field: "dependsOn", Note: "in name order", Exact: true},
	{Path: svc("depends_on.*"), Kind: Mapped, Field: "dependsOn[].service", Exact: true},
	{Path: svc("depends_on.*.condition"), Kind: Mapped, Field: "dependsOn[].condition", Note: "service_started → Started, service_healthy → Ready, service_completed_successfully → Completed"},
	{Path: svc("depends_on.*.required"), Kind: Mapped, Field: "(selection)", Note: "required: false drops the dependency when the service is not in the project (not enabled by a profile)"},
	{Path: svc("depends_on.*.restart"), Kind: Mapped, Field: "(checked)", Note: "true is refused: berth does not restart a service when its dependency restarts"},

	// Ports.
	{Path: svc("ports"), Kind: Mapped, Field: "ports", Note: "a container port and protocol once each; a target range becomes one port each", Exact: true},
	{Path: svc("ports.[].target"), Kind: Mapped, Field: "ports[].containerPort"},
	{Path: svc("ports.[].published"), Kind: Mapped, Field: "ports[].hostPort", Note: "unset → 0 (a free port); a published range is refused"},
	{Path: svc("ports.[].host_ip"), Kind: Mapped, Field: "ports[].hostIP", Note: "unset → berth's default 127.0.0.1, not compose's 0.0.0.0: nothing is published beyond loopback unless a file says so"},
	{Path: svc("ports.[].protocol"), Kind: Mapped, Field: "ports[].protocol", Note: "tcp → TCP, udp → UDP; sctp is refused"},
	{Path: svc("ports.[].name"), Kind: Mapped, Field: "ports[].name"},
	{Path: svc("ports.[].mode"), Kind: Ignored, Note: "ingress and host both publish on the engine's host (there is no routing mesh)"},
	{Path: svc("ports.[].app_protocol"), Kind: Ignored, Note: "a hint for tools; it changes nothing Docker does"},
	{Path: svc("expose"), Kind: Mapped, Field: "ports (no hostPort)", Note: "unless ports: already lists the port"},

	// Storage.
	{Path: svc("volumes"), Kind: Mapped, Field: "volumeMounts", Note: "named volume → spec.volumes (a Docker volume); bind → spec.volumes hostPath (made absolute); tmpfs → spec.volumes emptyDir; an anonymous volume (- /path) → a derived Docker volume anon-<service>-<path>-<hash>, removed with the Environment like every volume it owns (compose would reuse it across `up`s; berth keeps it for the Environment's life)", Exact: true},
	{Path: svc("volumes.[].type"), Kind: Mapped, Field: "(volume kind)", Note: "volume, bind, tmpfs; npipe, cluster and image are refused"},
	{Path: svc("volumes.[].source"), Kind: Mapped, Field: "volumeMounts[].name / volumes[].hostPath.path"},
	{Path: svc("volumes.[].target"), Kind: Mapped, Field: "volumeMounts[].mountPath"},
	{Path: svc("volumes.[].read_only"), Kind: Mapped, Field: "volumeMounts[].readOnly"},
	{Path: svc("volumes.[].consistency"), Kind: Ignored, Note: "macOS file sharing only"},
	{Path: svc("volumes.[].bind"), Kind: Mapped, Field: "(bind options)", Exact: true},
	{Path: svc("volumes.[].volume"), Kind: Mapped, Field: "(volume options)", Exact: true},
	{Path: svc("volumes.[].tmpfs"), Kind: Mapped, Field: "(tmpfs options)", Exact: true},
	{Path: svc("volumes.[].bind.create_host_path"), Kind: Ignored, Note: "the manager's host-path policy decides; a missing source fails the mount"},
	{Path: svc("volumes.[].bind.propagation"), Kind: Refused, Note: "mount propagation reaches the host"},
	{Path: svc("volumes.[].bind.selinux"), Kind: Refused, Note: "berth does not relabel host paths"},
	{Path: svc("volumes.[].bind.recursive"), Kind: Refused, Note: "not in the Environment API"},
	{Path: svc("volumes.[].volume.nocopy"), Kind: Mapped, Field: "(checked)", Note: "true is refused: Docker copies the image's files into a new volume"},
	{Path: svc("volumes.[].volume.subpath"), Kind: Refused, Note: "not in the Environment API"},
	{Path: svc("volumes.[].volume.labels"), Kind: Refused, Note: "berth labels its volumes itself"},
	{Path: svc("volumes.[].tmpfs.size"), Kind: Mapped, Field: "volumes[].emptyDir.sizeLimit", Note: "without it, the service's memory limit (else 512Mi, the documented --default-memory-limit), as for tmpfs:"},
	{Path: svc("volumes.[].tmpfs.mode"), Kind: Refused, Note: "not in the Environment API"},
	{Path: svc("volumes.[].image"), Kind: Refused, Note: "image volumes are not supported"},
	{Path: svc("configs"), Kind: Mapped, Field: "files", Note: "target defaults to /<source>; mode → mode; uid and gid are refused", Exact: true},
	{Path: svc("configs.[].source"), Kind: Mapped, Field: "files[].name"},
	{Path: svc("configs.[].target"), Kind: Mapped, Field: "files[].mountPath"},
	{Path: svc("configs.[].mode"), Kind: Mapped, Field: "files[].mode"},
	{Path: svc("configs.[].uid"), Kind: Refused, Note: "spec.files are owned by root; use mode to let others read"},
	{Path: svc("configs.[].gid"), Kind: Refused, Note: "spec.files are owned by root; use mode to let others read"},
	{Path: svc("secrets"), Kind: Mapped, Field: "secrets", Note: "target defaults to /run/secrets/<source> (a relative target is under /run/secrets); uid, gid, mode map one to one", Exact: true},
	{Path: svc("secrets.[].source"), Kind: Mapped, Field: "secrets[].name"},
	{Path: svc("secrets.[].target"), Kind: Mapped, Field: "secrets[].mountPath"},
	{Path: svc("secrets.[].uid"), Kind: Mapped, Field: "secrets[].uid"},
	{Path: svc("secrets.[].gid"), Kind: Mapped, Field: "secrets[].gid"},
	{Path: svc("secrets.[].mode"), Kind: Mapped, Field: "secrets[].mode", Note: "compose's default 0444 when unset (berth's own is 0400), so an image running as its own user reads it as under compose"},
	{Path: "volumes", Kind: Mapped, Field: "spec.volumes", Exact: true},
	{Path: "volumes.*", Kind: Mapped, Field: "spec.volumes[].name", Note: "a Docker volume owned by the Environment", Exact: true},
	{Path: "volumes.*.driver", Kind: Mapped, Field: "(checked)", Note: "local only"},
	{Path: "volumes.*.driver_opts", Kind: Refused, Note: "berth's volumes are plain local volumes"},
	{Path: "volumes.*.external", Kind: Refused, Note: "an Environment owns its volumes and never mounts one it did not create"},
	{Path: "volumes.*.name", Kind: Refused, Note: "berth names its volumes itself (berth_<env>_<volume>)"},
	{Path: "volumes.*.labels", Kind: Refused, Note: "berth labels its volumes itself"},
	{Path: "configs", Kind: Mapped, Field: "spec.files", Exact: true},
	{Path: "configs.*", Kind: Mapped, Field: "spec.files[].name", Exact: true},
	{Path: "configs.*.file", Kind: Mapped, Field: "spec.files[].path", Note: "made absolute; read by the manager (--allow-host-path)"},
	{Path: "configs.*.content", Kind: Mapped, Field: "spec.files[].content"},
	{Path: "configs.*.environment", Kind: Mapped, Field: "spec.files[].content", Note: "the variable's value at conversion time"},
	{Path: "configs.*.external", Kind: Refused, Note: "an Environment holds its own files"},
	{Path: "configs.*.name", Kind: Refused, Note: "names a swarm object; berth's files are named by their key"},
	{Path: "configs.*.labels", Kind: Refused, Note: "swarm object labels"},
	{Path: "configs.*.template_driver", Kind: Refused, Note: "berth writes files as they are"},
	{Path: "secrets", Kind: Mapped, Field: "spec.secrets", Exact: true},
	{Path: "secrets.*", Kind: Mapped, Field: "spec.secrets[].name", Exact: true},
	{Path: "secrets.*.file", Kind: Mapped, Field: "spec.secrets[].path", Note: "made absolute; read by the manager (--allow-host-path)"},
	{Path: "secrets.*.environment", Kind: Mapped, Field: "spec.secrets[].content", Note: "the variable's value at conversion time"},
	{Path: "secrets.*.external", Kind: Refused, Note: "an Environment holds its own secrets"},
	{Path: "secrets.*.name", Kind: Refused, Note: "names a swarm object; berth's secrets are named by their key"},
	{Path: "secrets.*.labels", Kind: Refused, Note: "swarm object labels"},
	{Path: "secrets.*.driver", Kind: Refused, Note: "swarm secret drivers"},
	{Path: "secrets.*.driver_opts", Kind: Refused, Note: "swarm secret drivers"},
	{Path: "secrets.*.template_driver", Kind: Refused, Note: "berth writes secrets as they are"},

	// Networks.
	{Path: svc("networks"), Kind: Mapped, Field: "networks", Note: "omitted when the project has only the default network", Exact: true},
	{Path: svc("networks.*"), Kind: Mapped, Field: "networks[].name", Exact: true},
	{Path: svc("networks.*.aliases"), Kind: Mapped, Field: "networks[].aliases"},
	{Path: svc("networks.*.ipv4_address"), Kind: Refused, Note: "Docker assigns addresses on berth's networks"},
	{Path: svc("networks.*.ipv6_address"), Kind: Refused, Note: "Docker assigns addresses on berth's networks"},
	{Path: svc("networks.*.link_local_ips"), Kind: Refused, Note: "Docker assigns addresses on berth's networks"},
	{Path: svc("networks.*.mac_address"), Kind: Refused, Note: "Docker assigns addresses on berth's networks"},
	{Path: svc("networks.*.driver_opts"), Kind: Refused, Note: "berth's networks are plain bridge networks"},
	{Path: svc("networks.*.interface_name"), Kind: Refused, Note: "not in the Environment API"},
	{Path: svc("networks.*.priority"), Kind: Refused, Note: "not in the Environment API"},
	{Path: svc("networks.*.gw_priority"), Kind: Refused, Note: "not in the Environment API"},
	{Path: svc("networks.*.use_service_name_alias"), Kind: Mapped, Field: "(checked)", Note: "the service name is always an alias; false is refused"},
	{Path: "networks", Kind: Mapped, Field: "spec.networks", Note: "omitted when the project has only the default network", Exact: true},
	{Path: "networks.*", Kind: Mapped, Field: "spec.networks[].name", Exact: true},
	{Path: "networks.*.driver", Kind: Mapped, Field: "(checked)", Note: "bridge only"},
	{Path: "networks.*.driver_opts", Kind: Refused, Note: "berth's networks are plain bridge networks"},
	{Path: "networks.*.external", Kind: Refused, Note: "an Environment joins only networks it owns"},
	{Path: "networks.*.name", Kind: Refused, Note: "berth names its networks itself (berth_<env>__<network>)"},
	{Path: "networks.*.internal", Kind: Refused, Note: "not in the Environment API"},
	{Path: "networks.*.attachable", Kind: Refused, Note: "swarm only"},
	{Path: "networks.*.ipam", Kind: Refused, Note: "berth carves subnets from the engine's address pools"},
	{Path: "networks.*.enable_ipv4", Kind: Mapped, Field: "(checked)", Note: "true only"},
	{Path: "networks.*.enable_ipv6", Kind: Refused, Note: "berth's networks are IPv4"},
	{Path: "networks.*.labels", Kind: Refused, Note: "berth labels its networks itself"},
}

// RowFor returns the most specific row whose path is p or an ancestor of
// p (a concrete path such as services.web.ports.[].mode, or a schema
// pattern), and whether there is one.
func RowFor(p string) (Row, bool) {
	parts := strings.Split(p, ".")
	best, bestLen := Row{}, -1
	for _, r := range Table {
		rp := strings.Split(r.Path, ".")
		if len(rp) > len(parts) || len(rp) <= bestLen || !prefixMatch(rp, parts) {
			continue
		}
		if r.Exact && len(rp) < len(parts) {
			continue
		}
		best, bestLen = r, len(rp)
	}
	return best, bestLen >= 0
}

func prefixMatch(pattern, parts []string) bool {
	for i, pp := range pattern {
		if pp != tree.PathMatchAll && pp != parts[i] {
			return false
		}
	}
	return true
}

// supportedPaths is compose-go's attribute inventory less what the table
// refuses or does not list: handed to compose-go's fail-closed screening,
// it reports every other attribute present in the files.
func supportedPaths() []tree.Path {
	var out []tree.Path
	for _, p := range schema.AttributePaths() {
		if r, ok := RowFor(string(p)); ok && r.Kind != Refused {
			out = append(out, p)
		}
	}
	for _, r := range Table {
		if r.Kind != Refused && !slices.Contains(out, tree.Path(r.Path)) {
			out = append(out, tree.Path(r.Path))
		}
	}
	return out
}
