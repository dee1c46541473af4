// Package compose turns Compose files into an Environment: the files are
// loaded with compose-go (the Compose Specification's reference loader),
// so overlays, interpolation, env_file, extends, include and profiles
// behave as in `docker compose`, and the resulting project is mapped field
// by field onto berth.dev/v1alpha1.
//
// Every attribute of the Compose Specification has a row in Table: mapped
// onto an Environment field, ignored with the reason, or refused with the
// reason. An attribute the table does not know (one a newer compose-go
// adds) is refused, so nothing a file says is dropped without a word.
package compose
