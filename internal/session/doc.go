// Package session is what a test run needs from berth, in one place: find
// or start a manager, create an Environment under a name of its own, wait
// until it is Ready while reporting what it waits on, read its published
// endpoints and log tails, and tear it down gracefully. `berth run` and the
// Go test package (pkg/berthtest) are both built on it, so a CI job and a Go
// test see the same names, the same progress and the same failures.
//
// The package talks to the manager's API only (never to the Docker socket):
// the manager's governor does every Docker operation, gracefully.
package session
