// Package remote runs commands in, and copies files to and from, the
// containers of an Environment through the berth manager's API
// (environments/NAME/exec and /archive). It needs only a rest.Config for
// the manager, never the Docker socket: the manager checks the container
// is its own and calls Docker through its governor.
package remote
