package compose

import (
	"fmt"
	"path"

	"github.com/compose-spec/compose-go/v2/types"
	"k8s.io/utils/ptr"

	"berth.dev/berth/apis/v1alpha1"
)

// mapConfigs maps the top-level configs onto spec.files.
func mapConfigs(p *types.Project, n *names, r *refusals) []v1alpha1.File {
	var out []v1alpha1.File
	for _, name := range sortedKeys(p.Configs) {
		c := p.Configs[name]
		cp := "configs." + name
		f := v1alpha1.File{Name: of(n.configs, name), Path: c.File, Content: c.Content}
		if c.Environment != "" {
			f.Content = fromEnvironment(cp+".environment", p, c.Environment, r)
		}
		out = append(out, f)
	}
	return out
}

// mapSecrets maps the top-level secrets onto spec.secrets.
func mapSecrets(p *types.Project, n *names, r *refusals) []v1alpha1.Secret {
	var out []v1alpha1.Secret
	for _, name := range sortedKeys(p.Secrets) {
		s := p.Secrets[name]
		sp := "secrets." + name
		sec := v1alpha1.Secret{Name: of(n.secrets, name), Path: s.File, Content: s.Content}
		if s.Environment != "" {
			sec.Content = fromEnvironment(sp+".environment", p, s.Environment, r)
		}
		out = append(out, sec)
	}
	return out
}

// fromEnvironment is the value of the variable a config or secret names,
// read when the files are converted (compose reads it at `up`).
func fromEnvironment(p string, project *types.Project, name string, r *refusals) string {
	v, ok := project.Environment[name]
	if !ok {
		r.add(p, "the variable %s is not set", name)
	}
	return v
}

// mapServiceConfigs maps a service's configs onto its files; compose's
// default target is /<source>.
func mapServiceConfigs(sp string, s types.ServiceConfig, n *names, r *refusals) []v1alpha1.FileMount {
	var out []v1alpha1.FileMount
	for i, c := range s.Configs {
		target := c.Target
		if target == "" {
			target = "/" + c.Source
		}
		if !path.IsAbs(target) {
			r.add(fmt.Sprintf("%s.configs[%d].target", sp, i), "%q: a config's target must be an absolute path", target)
			continue
		}
		m := v1alpha1.FileMount{Name: of(n.configs, c.Source), MountPath: target}
		if c.Mode != nil {
			m.Mode = ptr.To(int32(*c.Mode))
		}
		out = append(out, m)
	}
	return out
}

// composeSecretMode is the Compose Specification's default mode of a
// service's secret.
const composeSecretMode = 0o444

// mapServiceSecrets maps a service's secrets; a relative target is under
// /run/secrets, as in compose. The target compose defaults to,
// /run/secrets/<source>, is left to berth's same default unless the
// secret was renamed (db_password → db-password).
func mapServiceSecrets(s types.ServiceConfig, n *names) []v1alpha1.SecretMount {
	var out []v1alpha1.SecretMount
	for _, c := range s.Secrets {
		name := of(n.secrets, c.Source)
		target := c.Target
		if target == "" {
			target = c.Source
		}
		if !path.IsAbs(target) {
			target = path.Join(v1alpha1.SecretsDir, target)
		}
		if target == path.Join(v1alpha1.SecretsDir, name) {
			target = ""
		}
		m := v1alpha1.SecretMount{Name: name, MountPath: target, UID: c.UID, GID: c.GID}
		// Compose's default is world-readable (0444), berth's 0400: an
		// image that runs as its own user (postgres reading
		// POSTGRES_PASSWORD_FILE) must read it as it does under compose.
		m.Mode = ptr.To(int32(composeSecretMode))
		if c.Mode != nil {
			m.Mode = ptr.To(int32(*c.Mode))
		}
		out = append(out, m)
	}
	return out
}
