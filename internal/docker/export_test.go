package docker

import "github.com/moby/moby/client"

// The informer's Docker-backed tests live in this directory as package
// docker_test (internal/informer imports this package, so they cannot be
// in package docker) and share this package's test environment: the
// daemon checks, decoys and leftovers check of TestMain. These are the
// helpers they use.
var (
	NeedDocker    = needDocker
	EnvName       = envName
	CleanupEnv    = cleanupEnv
	NewTestClient = newTestClient
	TestSpec      = spec
	Eventually    = eventually
	StartProxy    = startProxy
	WaitReady     = waitReady
)

// SharedDockerHost is the daemon the tests use.
func SharedDockerHost() string { return dockerHost }

// RawClient is the plain Docker client the tests use to act behind
// berth's back (kill, stop).
func RawClient() *client.Client { return raw }
