package v1alpha1

import (
	"fmt"
	"net/netip"
	"path"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"k8s.io/apimachinery/pkg/api/resource"
	"k8s.io/apimachinery/pkg/util/sets"
	"k8s.io/apimachinery/pkg/util/validation"
	"k8s.io/apimachinery/pkg/util/validation/field"
)

// BerthLabelPrefix starts the keys of berth's own labels; a spec may not set
// them, since ownership and the spec hash are read from them.
const BerthLabelPrefix = "berth.dev/"

// validateSettings checks the container settings that images need (user,
// working directory, labels, capabilities, limits, hosts, sysctls). Each
// field mirrors a `docker run` flag and a compose service key.
func validateSettings(s *Service, p *field.Path) field.ErrorList {
	var allErrs field.ErrorList
	allErrs = append(allErrs, validateUser(p.Child("user"), s.User)...)
	if s.Hostname != "" {
		for _, msg := range validation.IsDNS1123Subdomain(s.Hostname) {
			allErrs = append(allErrs, field.Invalid(p.Child("hostname"), s.Hostname, msg))
		}
	}
	if s.WorkingDir != "" {
		wp := p.Child("workingDir")
		switch {
		case !path.IsAbs(s.WorkingDir):
			allErrs = append(allErrs, field.Invalid(wp, s.WorkingDir, "must be an absolute path"))
		case path.Clean(s.WorkingDir) != s.WorkingDir:
			allErrs = append(allErrs, field.Invalid(wp, s.WorkingDir, fmt.Sprintf("must be a clean path (%s)", path.Clean(s.WorkingDir))))
		}
	}
	allErrs = append(allErrs, validateLabels(p.Child("labels"), s.Labels)...)
	if s.ShmSize != nil {
		sp := p.Child("shmSize")
		raw := quantityText(*s.ShmSize)
		if q, err := resource.ParseQuantity(raw); err != nil {
			allErrs = append(allErrs, field.Invalid(sp, raw, "must be a quantity such as 64Mi or 1Gi"))
		} else if q.Sign() <= 0 {
			allErrs = append(allErrs, field.Invalid(sp, raw, "must be greater than zero"))
		}
	}
	allErrs = append(allErrs, validateCapabilities(p, s.CapAdd, s.CapDrop)...)
	allErrs = append(allErrs, validateUlimits(p.Child("ulimits"), s.Ulimits)...)
	allErrs = append(allErrs, validateExtraHosts(p.Child("extraHosts"), s.ExtraHosts)...)
	allErrs = append(allErrs, validateSysctls(p.Child("sysctls"), s.Sysctls)...)
	return allErrs
}

// userPart is a user or group name as useradd(8) allows it (and a
// trailing $ for machine accounts), or a numeric ID.
var userPart = regexp.MustCompile(`^[A-Za-z0-9_][A-Za-z0-9_.-]*\$?$`)

// maxUserPart is the longest name Docker passes on; glibc's limit is 256.
const maxUserPart = 256

func validateUser(p *field.Path, user string) field.ErrorList {
	if user == "" {
		return nil
	}
	parts := strings.Split(user, ":")
	if len(parts) > 2 {
		return field.ErrorList{field.Invalid(p, user, `must be "user" or "user:group" (a name or a numeric ID each)`)}
	}
	for _, part := range parts {
		if len(part) > maxUserPart || !userPart.MatchString(part) {
			return field.ErrorList{field.Invalid(p, user, `must be "user" or "user:group" (a name or a numeric ID each)`)}
		}
		if n, err := strconv.ParseInt(part, 10, 64); err == nil && (n < 0 || n > 1<<32-2) {
			return field.ErrorList{field.Invalid(p, user, "a numeric ID must be between 0 and 4294967294")}
		}
	}
	return nil
}

func validateLabels(p *field.Path, labels map[string]string) field.ErrorList {
	var allErrs field.ErrorList
	for _, k := range sortedKeys(labels) {
		kp := p.Key(k)
		switch {
		case k == "":
			allErrs = append(allErrs, field.Invalid(kp, k, "a label key must not be empty"))
		case strings.HasPrefix(strings.ToLower(k), BerthLabelPrefix):
			allErrs = append(allErrs, field.Invalid(kp, k,
				"keys under berth.dev/ are berth's own (ownership, environment, service, spec hash) and are set by berth"))
		case strings.ContainsAny(k, "= \t\n"):
			allErrs = append(allErrs, field.Invalid(kp, k, "a label key must not contain '=' or whitespace"))
		}
		if len(labels[k]) > MaxStringBytes {
			allErrs = append(allErrs, field.TooLong(kp, "", MaxStringBytes))
		}
	}
	return allErrs
}

// capabilities are the Linux capability names (capabilities(7)) without
// the CAP_ prefix.
var capabilities = sets.New(
	"CHOWN", "DAC_OVERRIDE", "DAC_READ_SEARCH", "FOWNER", "FSETID", "KILL", "SETGID", "SETUID",
	"SETPCAP", "LINUX_IMMUTABLE", "NET_BIND_SERVICE", "NET_BROADCAST", "NET_ADMIN", "NET_RAW",
	"IPC_LOCK", "IPC_OWNER", "SYS_MODULE", "SYS_RAWIO", "SYS_CHROOT", "SYS_PTRACE", "SYS_PACCT",
	"SYS_ADMIN", "SYS_BOOT", "SYS_NICE", "SYS_RESOURCE", "SYS_TIME", "SYS_TTY_CONFIG", "MKNOD",
	"LEASE", "AUDIT_WRITE", "AUDIT_CONTROL", "SETFCAP", "MAC_OVERRIDE", "MAC_ADMIN", "SYSLOG",
	"WAKE_ALARM", "BLOCK_SUSPEND", "AUDIT_READ", "PERFMON", "BPF", "CHECKPOINT_RESTORE",
)

// CapabilityName is a capability as Docker takes it: upper case, with the
// CAP_ prefix; "ALL" stays "ALL".
func CapabilityName(c string) string {
	c = strings.ToUpper(c)
	if c == "ALL" {
		return c
	}
	return "CAP_" + strings.TrimPrefix(c, "CAP_")
}

func validateCapabilities(p *field.Path, add, drop []string) field.ErrorList {
	var allErrs field.ErrorList
	check := func(list []string, lp *field.Path, allowAll bool) sets.Set[string] {
		seen := sets.New[string]()
		for i, c := range list {
			ip := lp.Index(i)
			name := strings.TrimPrefix(strings.ToUpper(c), "CAP_")
			switch {
			case name == "ALL" && !allowAll:
				allErrs = append(allErrs, field.Invalid(ip, c,
					"ALL may only be dropped; a container with every capability is privileged, which the manager must allow"))
				continue
			case name != "ALL" && !capabilities.Has(name):
				allErrs = append(allErrs, field.Invalid(ip, c,
					"must be a Linux capability such as NET_ADMIN or CAP_SYS_PTRACE (see capabilities(7))"))
				continue
			}
			if seen.Has(name) {
				allErrs = append(allErrs, field.Duplicate(ip, c))
			}
			seen.Insert(name)
		}
		return seen
	}
	added := check(add, p.Child("capAdd"), false)
	check(drop, p.Child("capDrop"), true)
	for i, c := range drop {
		if name := strings.TrimPrefix(strings.ToUpper(c), "CAP_"); name != "ALL" && added.Has(name) {
			allErrs = append(allErrs, field.Invalid(p.Child("capDrop").Index(i), c, "is also in capAdd"))
		}
	}
	return allErrs
}

// ulimitNames are the limits Docker's --ulimit knows (setrlimit(2)).
var ulimitNames = []string{"as", "core", "cpu", "data", "fsize", "locks", "memlock", "msgqueue",
	"nice", "nofile", "nproc", "rss", "rtprio", "rttime", "sigpending", "stack"}

// UlimitUnlimited is the soft or hard value that means no limit, as
// compose writes it (memlock: -1).
const UlimitUnlimited = -1

func validateUlimits(p *field.Path, limits []Ulimit) field.ErrorList {
	var allErrs field.ErrorList
	seen := sets.New[string]()
	for i, u := range limits {
		ip := p.Index(i)
		np := ip.Child("name")
		switch {
		case u.Name == "":
			allErrs = append(allErrs, field.Required(np, ""))
		case !slices.Contains(ulimitNames, u.Name):
			allErrs = append(allErrs, field.NotSupported(np, u.Name, ulimitNames))
		case seen.Has(u.Name):
			allErrs = append(allErrs, field.Duplicate(np, u.Name))
		}
		seen.Insert(u.Name)
		valid := true
		for _, v := range []struct {
			name string
			n    int64
		}{{"soft", u.Soft}, {"hard", u.Hard}} {
			if v.n < UlimitUnlimited {
				allErrs = append(allErrs, field.Invalid(ip.Child(v.name), v.n, "must be -1 (unlimited) or at least 0"))
				valid = false
			}
		}
		if valid && u.Hard != UlimitUnlimited && (u.Soft == UlimitUnlimited || u.Soft > u.Hard) {
			allErrs = append(allErrs, field.Invalid(ip.Child("soft"), u.Soft,
				fmt.Sprintf("must be less than or equal to hard (%d)", u.Hard)))
		}
	}
	return allErrs
}

func validateExtraHosts(p *field.Path, hosts []ExtraHost) field.ErrorList {
	var allErrs field.ErrorList
	for i, h := range hosts {
		ip := p.Index(i)
		hp := ip.Child("hostname")
		if h.Hostname == "" {
			allErrs = append(allErrs, field.Required(hp, ""))
		} else {
			// /etc/hosts matches names without regard to case.
			for _, msg := range validation.IsDNS1123Subdomain(strings.ToLower(h.Hostname)) {
				allErrs = append(allErrs, field.Invalid(hp, h.Hostname, msg))
			}
		}
		ap := ip.Child("ip")
		switch {
		case h.IP == "":
			allErrs = append(allErrs, field.Required(ap, "an IP address or host-gateway"))
		case h.IP == HostGateway:
		default:
			if _, err := netip.ParseAddr(h.IP); err != nil {
				allErrs = append(allErrs, field.Invalid(ap, h.IP, "must be an IPv4 or IPv6 address, or host-gateway"))
			}
		}
	}
	return allErrs
}

// sysctlName is a dotted kernel parameter name.
var sysctlName = regexp.MustCompile(`^[a-z0-9_]+(\.[a-zA-Z0-9_-]+)+$`)

// namespacedSysctl reports whether the parameter belongs to a namespace the
// container has of its own (network, IPC), so setting it cannot change the
// host: Docker's own rule for --sysctl.
func namespacedSysctl(name string) bool {
	switch name {
	case "kernel.sem", "kernel.shmall", "kernel.shmmax", "kernel.shmmni", "kernel.shm_rmid_forced",
		"kernel.msgmax", "kernel.msgmnb", "kernel.msgmni":
		return true
	}
	return strings.HasPrefix(name, "net.") || strings.HasPrefix(name, "fs.mqueue.")
}

func validateSysctls(p *field.Path, sysctls map[string]string) field.ErrorList {
	var allErrs field.ErrorList
	for _, k := range sortedKeys(sysctls) {
		kp := p.Key(k)
		switch {
		case !sysctlName.MatchString(k):
			allErrs = append(allErrs, field.Invalid(kp, k, "must be a dotted kernel parameter name such as net.core.somaxconn"))
		case !namespacedSysctl(k):
			allErrs = append(allErrs, field.Forbidden(kp,
				"only namespaced sysctls may be set (net.*, kernel.shm*, kernel.msg*, kernel.sem, fs.mqueue.*): others would change the host, not the container"))
		case strings.TrimSpace(sysctls[k]) == "":
			allErrs = append(allErrs, field.Required(kp, "a value is required"))
		}
	}
	return allErrs
}

func sortedKeys(m map[string]string) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

// Policy is what the manager permits beyond what any valid spec may ask:
// settings that reach the host, allowed only by a manager flag.
//
// +k8s:openapi-gen=false
// +k8s:deepcopy-gen=false
type Policy struct {
	// AllowPrivileged admits services with privileged: true
	// (--allow-privileged).
	AllowPrivileged bool
	// AllowedHostPaths are the absolute, clean directories under which
	// host paths may be mounted or read (--allow-host-path, repeatable);
	// none by default. See HostPathAllowed.
	AllowedHostPaths []string
}

// ValidatePolicy checks spec against the manager's policy. The API server
// calls it at admission, after ValidateEnvironment, on create and on
// every update that changes the spec.
func ValidatePolicy(spec *EnvironmentSpec, policy Policy) field.ErrorList {
	if spec == nil {
		return nil
	}
	var allErrs field.ErrorList
	for i, s := range spec.Services {
		if s.Privileged && !policy.AllowPrivileged {
			allErrs = append(allErrs, field.Forbidden(field.NewPath("spec", "services").Index(i).Child("privileged"),
				"the manager was not started with --allow-privileged"))
		}
	}
	return append(allErrs, validatePolicyHostPaths(spec, policy)...)
}
