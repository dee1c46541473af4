package v1alpha1

import (
	"k8s.io/apimachinery/pkg/runtime"
)

// Defaults applied by SetDefaults. Memory has no default here on purpose:
// the manager applies --default-memory-limit when it creates a container, so
// changing the flag reaches every Environment without rewriting stored specs.
const (
	DefaultImagePullPolicy               = PullIfNotPresent
	DefaultRestartPolicy                 = RestartAlways
	DefaultTerminationGracePeriodSeconds = int64(10)
	DefaultProbePeriodSeconds            = int32(2)
	DefaultProbeTimeoutSeconds           = int32(1)
	DefaultProbeSuccessThreshold         = int32(1)
	DefaultProbeFailureThreshold         = int32(3)
	DefaultLogOccurrences                = int32(1)
	DefaultHTTPGetPath                   = "/"
	DefaultDependencyCondition           = DependencyStarted
	DefaultProtocol                      = ProtocolTCP
	// DefaultHostIP keeps published ports off the network unless the user
	// asks for another address: a test stack should not be reachable from
	// the LAN by accident, unlike `docker run -p`.
	DefaultHostIP = "127.0.0.1"
)

// SetDefaults fills the unset fields of env with berth's defaults. It only
// ever fills zero values, so it is idempotent and never overrides the user.
func SetDefaults(env *Environment) {
	if env == nil {
		return
	}
	for i := range env.Spec.Services {
		setServiceDefaults(&env.Spec.Services[i])
	}
}

// RegisterDefaults lets a scheme apply SetDefaults on decode, the way
// defaulter-gen output is wired (scheme.Default); the API server may use it
// instead of calling SetDefaults itself.
func RegisterDefaults(scheme *runtime.Scheme) error {
	scheme.AddTypeDefaultingFunc(&Environment{}, func(obj interface{}) {
		SetDefaults(obj.(*Environment))
	})
	scheme.AddTypeDefaultingFunc(&EnvironmentList{}, func(obj interface{}) {
		list := obj.(*EnvironmentList)
		for i := range list.Items {
			SetDefaults(&list.Items[i])
		}
	})
	return nil
}

func setServiceDefaults(s *Service) {
	if s.ImagePullPolicy == "" {
		s.ImagePullPolicy = DefaultImagePullPolicy
	}
	if s.RestartPolicy == "" {
		s.RestartPolicy = DefaultRestartPolicy
	}
	if s.TerminationGracePeriodSeconds == nil {
		grace := DefaultTerminationGracePeriodSeconds
		s.TerminationGracePeriodSeconds = &grace
	}
	for i := range s.Ports {
		p := &s.Ports[i]
		if p.Protocol == "" {
			p.Protocol = DefaultProtocol
		}
		// An unpublished port has no host address; giving it one would
		// make the spec claim something that does not exist.
		if p.HostPort != nil && p.HostIP == "" {
			p.HostIP = DefaultHostIP
		}
	}
	setFileDefaults(s)
	for i := range s.DependsOn {
		if s.DependsOn[i].Condition == "" {
			s.DependsOn[i].Condition = DefaultDependencyCondition
		}
	}
	if s.ReadinessProbe != nil {
		setProbeDefaults(s.ReadinessProbe)
	}
}

func setProbeDefaults(p *Probe) {
	if p.PeriodSeconds == 0 {
		p.PeriodSeconds = DefaultProbePeriodSeconds
	}
	if p.TimeoutSeconds == 0 {
		p.TimeoutSeconds = DefaultProbeTimeoutSeconds
	}
	if p.SuccessThreshold == 0 {
		p.SuccessThreshold = DefaultProbeSuccessThreshold
	}
	if p.FailureThreshold == 0 {
		p.FailureThreshold = DefaultProbeFailureThreshold
	}
	if p.Log != nil && p.Log.Occurrences == 0 {
		p.Log.Occurrences = DefaultLogOccurrences
	}
	if p.HTTPGet != nil && p.HTTPGet.Path == "" {
		p.HTTPGet.Path = DefaultHTTPGetPath
	}
}

// SetPoolDefaults fills an EnvironmentPool's unset fields: its template
// the way an Environment's spec is, and standby: Paused.
func SetPoolDefaults(p *EnvironmentPool) {
	if p == nil {
		return
	}
	if p.Spec.Standby == "" {
		p.Spec.Standby = StandbyPaused
	}
	tmp := Environment{Spec: p.Spec.Template}
	SetDefaults(&tmp)
	p.Spec.Template = tmp.Spec
}
