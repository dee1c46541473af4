package plan

import (
	"cmp"
	"fmt"
	"maps"
	"slices"

	"k8s.io/apimachinery/pkg/api/resource"

	"berth.dev/berth/apis/v1alpha1"
)

// buildSettings normalises the service's container settings. Nothing is
// filled in: an unset field stays zero, so it keeps the image's or Docker's
// default and leaves the spec hash of existing containers alone.
func buildSettings(svc *v1alpha1.Service) (Settings, error) {
	out := Settings{
		User:       svc.User,
		WorkingDir: svc.WorkingDir,
		ReadOnly:   svc.ReadOnlyRootFilesystem,
		Init:       svc.Init,
		Privileged: svc.Privileged,
		CapAdd:     capabilities(svc.CapAdd),
		CapDrop:    capabilities(svc.CapDrop),
	}
	if len(svc.Labels) > 0 {
		out.Labels = maps.Clone(svc.Labels)
	}
	if len(svc.Sysctls) > 0 {
		out.Sysctls = maps.Clone(svc.Sysctls)
	}
	if svc.ShmSize != nil {
		q, err := resource.ParseQuantity(svc.ShmSize.String())
		if err != nil {
			return Settings{}, fmt.Errorf("shmSize %q: %w", svc.ShmSize.String(), err)
		}
		if q.Sign() <= 0 {
			return Settings{}, fmt.Errorf("shmSize %q: must be greater than zero", svc.ShmSize.String())
		}
		out.ShmSize = q.Value()
	}
	for _, u := range svc.Ulimits {
		out.Ulimits = append(out.Ulimits, Ulimit{Name: u.Name, Soft: u.Soft, Hard: u.Hard})
	}
	slices.SortStableFunc(out.Ulimits, func(a, b Ulimit) int { return cmp.Compare(a.Name, b.Name) })
	for _, h := range svc.ExtraHosts {
		out.ExtraHosts = append(out.ExtraHosts, h.Hostname+":"+h.IP)
	}
	return out, nil
}

// capabilities spells each capability as Docker reports it (CAP_NET_ADMIN,
// ALL), sorted and without duplicates.
func capabilities(in []string) []string {
	if len(in) == 0 {
		return nil
	}
	out := make([]string, 0, len(in))
	for _, c := range in {
		out = append(out, v1alpha1.CapabilityName(c))
	}
	slices.Sort(out)
	return slices.Compact(out)
}
