// Package lease holds an Environment's session lease from the client
// side: Bind writes spec.lease into an Environment before it is created,
// Hold binds an existing one and renews its EnvironmentLease in the
// background, Stop releases. When renewals stop (the process died, its CI
// job was cancelled) for the lease's duration, the manager deletes the
// Environment with its normal graceful teardown.
//
// Renewals write only the EnvironmentLease (named like the Environment and
// owned by it), never the Environment itself, so they neither bump its
// generation nor race the controller's status writes.
package lease
