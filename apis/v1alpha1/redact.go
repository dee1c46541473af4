package v1alpha1

// RedactedSecret replaces a secret's inline content wherever berth shows a
// spec (the dashboard's spec view).
const RedactedSecret = "<redacted>"

// RedactSecrets is spec with every inline secret's content replaced by
// RedactedSecret; spec itself is not changed. A secret read from a path
// keeps its path, which is not secret.
func RedactSecrets(spec EnvironmentSpec) EnvironmentSpec {
	if len(spec.Secrets) == 0 {
		return spec
	}
	out := spec
	out.Secrets = make([]Secret, len(spec.Secrets))
	for i, s := range spec.Secrets {
		if s.Content != "" {
			s.Content = RedactedSecret
		}
		out.Secrets[i] = s
	}
	return out
}
