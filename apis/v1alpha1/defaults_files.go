package v1alpha1

// setFileDefaults fills a service's file and secret mounts: modes, and a
// secret's path under /run/secrets. The owner of a secret is not defaulted
// here: it follows the service's user at plan time, so changing user
// moves the secret's owner with it.
func setFileDefaults(s *Service) {
	for i := range s.Files {
		if s.Files[i].Mode == nil {
			m := DefaultFileMode
			s.Files[i].Mode = &m
		}
	}
	for i := range s.Secrets {
		m := &s.Secrets[i]
		if m.Mode == nil {
			mode := DefaultSecretMode
			m.Mode = &mode
		}
		if m.MountPath == "" && m.Name != "" {
			m.MountPath = SecretMountPath(*m)
		}
	}
}
