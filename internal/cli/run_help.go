package cli

import "k8s.io/kubectl/pkg/util/templates"

var (
	runLong = dedent(`
		Run a command against a fresh Environment, then tear it down.

		berth run creates the Environment of the -f files (an Environment
		manifest, or compose files, which form one compose project as with
		docker compose -f a -f b) under a name of its own: the Environment's
		name, or the first file's, plus a random suffix, so parallel CI jobs
		never share one (--name picks it). It waits until the Environment is
		Ready, showing what it waits on, and runs CMD with the published
		endpoints in its environment:

		  BERTH_ENV                   the Environment's name
		  BERTH_KUBECONFIG            the manager's kubeconfig (for berth logs, berth describe, …)
		  BERTH_<SERVICE>_<PORT>      127.0.0.1:32768 (host:port to dial)
		  BERTH_<SERVICE>_<PORT>_HOST 127.0.0.1
		  BERTH_<SERVICE>_<PORT>_PORT 32768

		SERVICE and PORT are upper-cased with '-' turned into '_'. PORT is the
		port's name, or its container port number when it has none (with _UDP
		for an unnamed UDP port: BERTH_DNS_53_UDP). Replica N ≥ 1 of a service
		with replicas gets _R<N> after the port (BERTH_WEB_HTTP_R1); replica 0
		has the plain name. Ports without a hostPort are not published and get
		no variable; two endpoints whose variables would be the same are both
		left out, with a warning.

		While it runs, berth holds a lease on the Environment (renewed every
		third of --lease-duration, 30s by default): when berth dies without
		tearing down (kill -9, a cancelled CI job, a sleeping laptop), the
		manager tears the Environment down once the lease runs out. --keep
		releases the lease, so a kept Environment stays.

		When CMD fails, berth prints the last lines of each service's log. Then
		it tears the Environment down (unless --keep) and exits with CMD's exit
		code (128+N when CMD was killed by signal N). Ctrl-C or SIGTERM is
		passed on to CMD; berth then tears down and exits 130 or 143. A second
		signal during teardown stops waiting (the manager finishes the
		teardown on its own). berth's own failures exit 125 (126: CMD cannot
		be run, 127: CMD not found), as docker run does.

		Without --kubeconfig and $BERTH_KUBECONFIG, berth uses the manager on
		the default data dir and, when none answers, starts one in the
		background (bin/manager next to berth, else manager on $PATH), tells
		you how to stop it, and leaves it running for later runs. Extra flags
		for that manager come from $BERTH_MANAGER_FLAGS.`)

	runExample = templates.Examples(`
		# Run the tests against the demo stack; exits with go test's code
		berth run -f config/samples/demo.yaml -- go test ./integration/...

		# See what a command gets
		berth run -f env.yaml -- env

		# Reach a service through its published port
		berth run -f env.yaml -- sh -c 'curl -sf http://$BERTH_API_HTTP/healthz'

		# A compose project, with the test overlay
		berth run -f docker-compose.yml -f docker-compose.test.yml -- make integration

		# Keep the Environment for a look afterwards
		berth run -f env.yaml --name debug --keep -- ./smoke.sh`)
)
