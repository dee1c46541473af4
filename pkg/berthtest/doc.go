// Package berthtest gives a Go test a ready berth Environment: one call
// that applies it and waits until it is Ready, its endpoints, exec and
// copy into its containers, its logs, and a graceful teardown tied to the
// test. It is to berth what httptest is to net/http, or what
// controller-runtime's envtest is to a Kubernetes API, with nothing to
// download: the manager it needs is berth's own code, built into the test
// binary.
//
//	func TestCheckout(t *testing.T) {
//		env := berthtest.Start(t, berthtest.File("testdata/env.yaml"))
//		resp, err := http.Get("http://" + env.Endpoint("api", "http") + "/healthz")
//		...
//		res, err := env.Exec(ctx, "db", "psql", "-c", "select 1")
//		// res.Stdout, res.Stderr, res.ExitCode
//	}
//
// The Environment comes from a manifest (File), from the API's Go types
// (Spec, Environment), from compose files (Compose), or is a claim on a
// warm pool's standby (Pool). Start gives it a
// name of its own (the test's name plus a random suffix, so parallel tests
// and parallel CI jobs never share one), binds it to a session lease that
// the test process renews, and waits for Ready, failing the test with what
// it was waiting on when it fails or times out. When the test ends,
// t.Cleanup deletes the Environment and waits until berth has stopped
// every container gracefully and removed its network and volumes; when the
// test failed, the last lines of each service's log go to t.Log first. If
// the test process dies instead (killed, timed out), the lease stops being
// renewed and a manager running outside the process tears the Environment
// down on its own after the lease's duration (30 s).
//
// New and Close do the same outside a test: an Environment shared by all
// of a package's tests, started in TestMain, or one in a program.
//
// # Which manager
//
// Start talks to a manager's API only, never to the Docker socket. On the
// first Start of a test binary it looks for one, once:
//
//  1. the manager named by $BERTH_KUBECONFIG, else the one on berth's
//     default data dir ($XDG_DATA_HOME/berth, else ~/.local/share/berth),
//     when its API answers;
//  2. otherwise a manager started inside the test process (the same code
//     as bin/manager, package internal/manager) on a temporary data dir,
//     on free loopback ports, shared by every test of the binary. Its log
//     goes to manager.log in that data dir.
//
// $BERTH_TEST_MANAGER changes the choice: "external" never starts one
// (Start fails when none answers, for a CI job that runs its own manager),
// "in-process" always does (the tests then never touch the user's
// manager). The Kubeconfig option names the manager of one Start.
//
// An in-process manager lives as long as the test binary. Call Main from
// TestMain to stop it gracefully and remove its data dir after the tests:
//
//	func TestMain(m *testing.M) { berthtest.Main(m) }
//
// Without Main the process simply exits when the tests are done: every
// test's cleanup has already torn its Environment down, only the temporary
// data dir stays behind. A test binary killed hard takes an in-process
// manager with it, and its Environments stay in Docker until they are
// deleted by hand (docker ps --filter label=berth.dev/environment shows
// them); with a manager outside the process (bin/manager, or the one
// berth run starts) the leases clean up after it.
//
// The Docker Engine is the one the manager uses ($DOCKER_HOST, else the
// local socket for an in-process manager). Images are not pulled by the
// package; a spec names images the engine has or can pull
// (imagePullPolicy), as with berth apply.
package berthtest
