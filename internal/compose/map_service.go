package compose

import (
	"math"
	"slices"
	"strconv"
	"strings"

	"github.com/compose-spec/compose-go/v2/types"
	"k8s.io/apimachinery/pkg/api/resource"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/apimachinery/pkg/util/validation"
	"k8s.io/utils/ptr"

	"berth.dev/berth/apis/v1alpha1"
)

// mapProject fills spec from the loaded project; what cannot be mapped is
// added to r.
func mapProject(p *types.Project, spec *v1alpha1.EnvironmentSpec, r *refusals) {
	n := newNames(p, r)
	vols := newVolumeSet(p, n, r)
	jobs := completedDependencies(p)
	for _, s := range projectServices(p) {
		spec.Services = append(spec.Services, mapService(p, s, jobs[s.Name], n, vols, r))
	}
	spec.Volumes = vols.list()
	spec.Files = mapConfigs(p, n, r)
	spec.Secrets = mapSecrets(p, n, r)
	mapNetworks(p, n, spec, r)
}

// completedDependencies are the services some other service waits for
// with service_completed_successfully: one-shot jobs, which must not be
// restarted after they exit 0.
func completedDependencies(p *types.Project) map[string]bool {
	out := map[string]bool{}
	for _, s := range p.Services {
		for name, d := range s.DependsOn {
			if d.Condition == types.ServiceConditionCompletedSuccessfully {
				out[name] = true
			}
		}
	}
	return out
}

func mapService(p *types.Project, s types.ServiceConfig, job bool, n *names, vols *volumeSet, r *refusals) v1alpha1.Service {
	sp := "services." + s.Name
	checkComposeName(sp, s.Name, r)
	out := v1alpha1.Service{
		Name:                   s.Name,
		Image:                  s.Image,
		User:                   s.User,
		Hostname:               s.Hostname,
		WorkingDir:             trimSlash(s.WorkingDir),
		StopSignal:             s.StopSignal,
		Init:                   ptr.Deref(s.Init, false),
		Privileged:             s.Privileged,
		CapAdd:                 slices.Clone(s.CapAdd),
		CapDrop:                slices.Clone(s.CapDrop),
		ReadOnlyRootFilesystem: s.ReadOnly,
	}
	out.Build = mapBuild(sp, s.Build, r)
	out.ImagePullPolicy = mapPullPolicy(sp, s, r)

	if s.Entrypoint != nil {
		if len(s.Entrypoint) == 0 {
			r.add(sp+".entrypoint", "an empty entrypoint (clearing the image's ENTRYPOINT) cannot be written in an Environment")
		}
		out.Command = slices.Clone([]string(s.Entrypoint))
	}
	if s.Command != nil {
		if len(s.Command) == 0 {
			r.add(sp+".command", "an empty command (clearing the image's CMD) cannot be written in an Environment")
		}
		out.Args = slices.Clone([]string(s.Command))
	}
	out.Env = mapEnv(s.Environment)
	out.Labels = mapStrings(s.Labels)
	out.Sysctls = mapStrings(s.Sysctls)
	if s.ShmSize != 0 {
		out.ShmSize = ptr.To(bytesQuantity(int64(s.ShmSize)))
	}
	if g := s.StopGracePeriod; g != nil {
		if secs, ok := wholeSeconds(sp+".stop_grace_period", *g, r); ok {
			out.TerminationGracePeriodSeconds = ptr.To(int64(secs))
		}
	}
	out.Ulimits = mapUlimits(s.Ulimits)
	out.ExtraHosts = mapExtraHosts(s.ExtraHosts)
	out.Resources = mapResources(sp, s, r)
	out.RestartPolicy, out.RestartLimit = mapRestart(sp, s, job, r)
	out.Replicas = mapReplicas(sp, s, r)
	out.Ports = mapPorts(sp, s, r)
	out.VolumeMounts = vols.mounts(s, memoryLimit(out.Resources))
	out.Healthcheck = mapHealthcheck(sp, s.HealthCheck, r)
	out.DependsOn = mapDependsOn(sp, p, s, r)
	out.Files = mapServiceConfigs(sp, s, n, r)
	out.Secrets = mapServiceSecrets(s, n)
	out.Networks = mapServiceNetworks(sp, p, s, n, r)
	return out
}

// checkComposeName refuses a compose name that is not a berth name (a DNS-1123
// label of at most MaxNameLength): compose allows _ and upper case.
func checkComposeName(path, name string, r *refusals) {
	msgs := validation.IsDNS1123Label(name)
	if len(name) > v1alpha1.MaxNameLength {
		msgs = append(msgs, validation.MaxLenError(v1alpha1.MaxNameLength))
	}
	if len(msgs) > 0 {
		r.add(path, "berth's names are DNS-1123 labels (lower case letters, digits and '-', at most %d characters): %q", v1alpha1.MaxNameLength, name)
	}
}

func mapBuild(sp string, b *types.BuildConfig, r *refusals) *v1alpha1.Build {
	if b == nil {
		return nil
	}
	if strings.Contains(b.Context, "://") || strings.HasPrefix(b.Context, "git@") {
		r.add(sp+".build.context", "berth builds from a directory on the manager's host, not a URL: %s", b.Context)
	}
	out := &v1alpha1.Build{Context: b.Context, Target: b.Target}
	if b.Dockerfile != v1alpha1.DefaultDockerfile {
		out.Dockerfile = b.Dockerfile
	}
	for _, k := range sortedKeys(b.Args) {
		if v := b.Args[k]; v != nil {
			if out.Args == nil {
				out.Args = map[string]string{}
			}
			out.Args[k] = *v
		}
	}
	return out
}

func mapPullPolicy(sp string, s types.ServiceConfig, r *refusals) v1alpha1.PullPolicy {
	switch s.PullPolicy {
	case "":
		return ""
	case types.PullPolicyAlways:
		return v1alpha1.PullAlways
	case types.PullPolicyNever:
		return v1alpha1.PullNever
	case types.PullPolicyMissing, types.PullPolicyIfNotPresent:
		return v1alpha1.PullIfNotPresent
	case types.PullPolicyBuild:
		if s.Build != nil {
			return ""
		}
		r.add(sp+".pull_policy", "build needs a build: section")
	default:
		r.add(sp+".pull_policy", "%q: berth pulls Always, IfNotPresent (missing) or Never, not on a schedule", s.PullPolicy)
	}
	return ""
}

func mapEnv(m types.MappingWithEquals) []v1alpha1.EnvVar {
	var out []v1alpha1.EnvVar
	for _, k := range sortedKeys(m) {
		// A variable without a value that the environment did not
		// set is left out of the container, as compose does.
		if v := m[k]; v != nil {
			out = append(out, v1alpha1.EnvVar{Name: k, Value: *v})
		}
	}
	return out
}

func mapStrings[M ~map[string]string](m M) map[string]string {
	if len(m) == 0 {
		return nil
	}
	out := make(map[string]string, len(m))
	for k, v := range m {
		out[k] = v
	}
	return out
}

func mapUlimits(m map[string]*types.UlimitsConfig) []v1alpha1.Ulimit {
	var out []v1alpha1.Ulimit
	for _, k := range sortedKeys(m) {
		u := m[k]
		if u == nil {
			continue
		}
		soft, hard := int64(u.Soft), int64(u.Hard)
		if u.Single != 0 {
			soft, hard = int64(u.Single), int64(u.Single)
		}
		out = append(out, v1alpha1.Ulimit{Name: k, Soft: soft, Hard: hard})
	}
	return out
}

func mapExtraHosts(h types.HostsList) []v1alpha1.ExtraHost {
	var out []v1alpha1.ExtraHost
	for _, k := range sortedKeys(h) {
		for _, ip := range h[k] {
			out = append(out, v1alpha1.ExtraHost{Hostname: k, IP: ip})
		}
	}
	return out
}

// mapRestart maps restart: (or deploy.restart_policy) onto berth's
// policy. An unset policy keeps berth's default, Always, except for a
// one-shot job another service waits for: restarted after exit 0, it
// would run again and again.
func mapRestart(sp string, s types.ServiceConfig, job bool, r *refusals) (v1alpha1.RestartPolicy, *int32) {
	if s.Deploy != nil && s.Deploy.RestartPolicy != nil {
		rp := s.Deploy.RestartPolicy
		var limit *int32
		if rp.MaxAttempts != nil {
			limit = ptr.To(int32(min(*rp.MaxAttempts, math.MaxInt32)))
		}
		switch rp.Condition {
		case "none":
			return v1alpha1.RestartNever, nil
		case "on-failure":
			return v1alpha1.RestartOnFailure, limit
		case "any", "":
			if limit != nil {
				r.add(sp+".deploy.restart_policy.max_attempts", "berth limits restarts of on-failure services only")
			}
			return v1alpha1.RestartAlways, nil
		default:
			r.add(sp+".deploy.restart_policy.condition", "%q: none, on-failure or any", rp.Condition)
			return "", nil
		}
	}
	policy, count, _ := strings.Cut(s.Restart, ":")
	switch policy {
	case "":
		if job {
			return v1alpha1.RestartNever, nil
		}
		return "", nil
	case types.RestartPolicyNo:
		return v1alpha1.RestartNever, nil
	case types.RestartPolicyAlways, types.RestartPolicyUnlessStopped:
		return v1alpha1.RestartAlways, nil
	case types.RestartPolicyOnFailure:
		if count == "" {
			return v1alpha1.RestartOnFailure, nil
		}
		n, err := strconv.ParseInt(count, 10, 32)
		if err != nil || n < 1 {
			r.add(sp+".restart", "%q: on-failure takes a positive number of restarts", s.Restart)
			return v1alpha1.RestartOnFailure, nil
		}
		return v1alpha1.RestartOnFailure, ptr.To(int32(n))
	}
	r.add(sp+".restart", "%q: no, always, unless-stopped or on-failure[:N]", s.Restart)
	return "", nil
}

func mapReplicas(sp string, s types.ServiceConfig, r *refusals) *int32 {
	if s.Deploy != nil && s.Deploy.Mode != "" && s.Deploy.Mode != "replicated" {
		r.add(sp+".deploy.mode", "%q: one engine is one node; berth runs replicated services", s.Deploy.Mode)
	}
	if s.Scale == nil && (s.Deploy == nil || s.Deploy.Replicas == nil) {
		return nil
	}
	n := s.GetScale()
	if n < 1 {
		r.add(sp+".scale", "%d replicas: an Environment runs every service it lists (leave the service out with profiles)", n)
		return nil
	}
	return ptr.To(int32(min(n, math.MaxInt32)))
}

// mapResources maps mem_limit, mem_reservation and cpus, and their
// deploy.resources spellings, which must agree when both are given.
func mapResources(sp string, s types.ServiceConfig, r *refusals) v1alpha1.ResourceRequirements {
	var lim, res *types.Resource
	if s.Deploy != nil {
		lim, res = s.Deploy.Resources.Limits, s.Deploy.Resources.Reservations
	}
	var out v1alpha1.ResourceRequirements
	set := func(list *v1alpha1.ResourceList, name v1alpha1.ResourceName, v intstr.IntOrString) {
		if *list == nil {
			*list = v1alpha1.ResourceList{}
		}
		(*list)[name] = v
	}
	memory := func(field string, direct int64, deploy *types.Resource, deployField string, list *v1alpha1.ResourceList) {
		n := direct
		if deploy != nil && deploy.MemoryBytes != 0 {
			if n != 0 && n != int64(deploy.MemoryBytes) {
				r.add(sp+"."+deployField, "disagrees with %s (%d bytes, not %d)", field, deploy.MemoryBytes, n)
			}
			n = int64(deploy.MemoryBytes)
		}
		if n != 0 {
			set(list, v1alpha1.ResourceMemory, bytesQuantity(n))
		}
	}
	memory("mem_limit", int64(s.MemLimit), lim, "deploy.resources.limits.memory", &out.Limits)
	memory("mem_reservation", int64(s.MemReservation), res, "deploy.resources.reservations.memory", &out.Requests)

	cpus := float64(s.CPUS)
	if lim != nil && lim.NanoCPUs != 0 {
		if cpus != 0 && float32(cpus) != lim.NanoCPUs.Value() {
			r.add(sp+".deploy.resources.limits.cpus", "disagrees with cpus (%v, not %v)", lim.NanoCPUs.Value(), cpus)
		}
		cpus = float64(lim.NanoCPUs.Value())
	}
	if cpus != 0 {
		milli := int64(math.Round(cpus * 1000))
		set(&out.Limits, v1alpha1.ResourceCPU, intstr.FromString(resource.NewMilliQuantity(milli, resource.DecimalSI).String()))
	}
	return out
}

// trimSlash drops the trailing slashes of a path (/var/www/ is /var/www,
// which berth's validation asks for); / stays /.
func trimSlash(p string) string {
	if t := strings.TrimRight(p, "/"); t != "" {
		return t
	}
	return p
}

// memoryLimit is the memory limit of res in bytes, 0 when it sets none.
func memoryLimit(res v1alpha1.ResourceRequirements) int64 {
	v, ok := res.Limits[v1alpha1.ResourceMemory]
	if !ok {
		return 0
	}
	q, err := resource.ParseQuantity(v.String())
	if err != nil {
		return 0
	}
	return q.Value()
}

// bytesQuantity writes n bytes as a Kubernetes quantity: 512Mi when it is
// a whole number of a binary unit, else the plain number.
func bytesQuantity(n int64) intstr.IntOrString {
	return intstr.FromString(resource.NewQuantity(n, resource.BinarySI).String())
}

func sortedKeys[M ~map[string]V, V any](m M) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}
