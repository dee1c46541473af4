package dashboard

import (
	"sigs.k8s.io/yaml"

	"berth.dev/berth/apis/v1alpha1"
)

// A pool claimant bound to a standby has no services or containers of its
// own: they are the standby's (Docker names and labels included). The
// dashboard shows the claimant with its standby's services and streams
// and restarts the standby's containers.

// boundStandby is the standby env is bound to both ways, from the cache;
// nil for any other Environment.
func (s *Server) boundStandby(env *v1alpha1.Environment) *v1alpha1.Environment {
	if env.Spec.PoolRef == nil || env.Spec.PoolRef.Standby == "" || len(env.Spec.Services) > 0 {
		return nil
	}
	sb, ok := s.getEnv(env.Spec.PoolRef.Standby)
	if !ok || !v1alpha1.IsBound(env, sb) {
		return nil
	}
	return sb
}

// display is env as the pages show it: a bound claimant lists its
// standby's services.
func (s *Server) display(env *v1alpha1.Environment) *v1alpha1.Environment {
	sb := s.boundStandby(env)
	if sb == nil {
		return env
	}
	d := env.DeepCopy()
	d.Spec.Services = sb.Spec.Services
	return d
}

// envView is viewOf the displayed env, with the spec shown as stored.
func (s *Server) envView(env *v1alpha1.Environment) envView {
	v := viewOf(s.display(env))
	if sb := s.boundStandby(env); sb != nil {
		if spec, err := yaml.Marshal(v1alpha1.RedactSecrets(env.Spec)); err == nil {
			v.Spec = "# bound to standby " + sb.Name + " (its services are listed above)\n" + string(spec)
		}
	}
	return v
}

// containerEnv is the Environment whose Docker objects serve name: its
// standby's when it is a bound claimant.
func (s *Server) containerEnv(name string) string {
	if s.lister == nil {
		return name // no Environment cache (log streams of a bare server)
	}
	if env, ok := s.getEnv(name); ok {
		if sb := s.boundStandby(env); sb != nil {
			return sb.Name
		}
	}
	return name
}
