package cli

import (
	"strings"

	"github.com/spf13/cobra"
	cmdutil "k8s.io/kubectl/pkg/cmd/util"
	"k8s.io/kubectl/pkg/util/templates"
)

// berth's own help texts. kubectl's commands do the work, but their texts
// talk about pods and deployments; a berth user sees Environments instead.
var (
	rootLong = dedent(`
		berth converges a Docker Engine to Environments: declarative sets of
		containers, volumes and the network joining them, written in YAML.

		berth talks to the berth manager's API server through the kubeconfig the
		manager writes: --kubeconfig, else $BERTH_KUBECONFIG, else
		$XDG_DATA_HOME/berth/kubeconfig (~/.local/share/berth/kubeconfig).
		$KUBECONFIG and ~/.kube/config are never read, so berth cannot reach a
		Kubernetes cluster by accident.`)

	rootExample = templates.Examples(`
		# Create or update Environments from a file, a directory or stdin
		berth apply -f config/samples/demo.yaml

		# List Environments (env is the short name); -o wide|yaml|json|name, -w to watch
		berth get env

		# Show one Environment's services, host ports, conditions and events
		berth describe env demo

		# Block until it is Ready
		berth wait --for=condition=Ready env/demo --timeout=120s

		# Follow a service's logs (through the manager, not the Docker socket)
		berth logs demo api -f --tail 20

		# Run a command in a service's container; berth exits with its code
		berth exec demo api -- /testapp check --http http://127.0.0.1:8080/healthz

		# Copy a directory out of a container, and a file into one
		berth cp demo/db:/var/lib/data ./data
		berth cp ./seed.sql demo/db:/docker-entrypoint-initdb.d/seed.sql

		# Tear it down; returns once its containers, network and volumes are gone
		berth delete env demo`)

	applyLong = dedent(`
		Create or update Environments from files, directories or stdin (-f -).
		A file may hold several YAML documents. Fields are checked against the
		server's schema (--validate=strict by default), so a typo is an error,
		not a silently ignored field.

		Compose files may be given too: all the compose files of the -f list
		form one project (later files overlay earlier ones, as with docker
		compose -f a -f b), converted to one Environment as berth convert
		prints it; --name names it (default: the compose project name),
		--profile enables profiles, --env-file replaces .env.`)

	applyExample = templates.Examples(`
		# Apply one file
		berth apply -f config/samples/demo.yaml

		# Apply every manifest in a directory
		berth apply -f config/samples/

		# Apply from stdin
		cat env.yaml | berth apply -f -

		# Apply with server-side apply
		berth apply --server-side -f env.yaml

		# Apply a compose project (two files, one Environment)
		berth apply -f docker-compose.yml -f docker-compose.test.yml --name shop-ci`)

	getLong = dedent(`
		List Environments as a table of name, phase, ready services and age, or
		print them whole with -o yaml|json. -w keeps watching for changes.`)

	getExample = templates.Examples(`
		# List all Environments
		berth get environments

		# The same, with the short name and more columns
		berth get env -o wide

		# One Environment as YAML, status included
		berth get env demo -o yaml

		# Watch Environments change phase
		berth get env -w

		# Just the names, for scripts
		berth get env -o name`)

	describeLong = dedent(`
		Show the details of Environments: phase and generations, each service's
		container state, readiness, restarts and host ports, the conditions, the
		volumes, the TTL, and the events berth recorded while converging it.`)

	describeExample = templates.Examples(`
		# Describe one Environment
		berth describe env demo

		# Describe the Environments in a file
		berth describe -f config/samples/demo.yaml

		# Describe every Environment labelled team=payments
		berth describe env -l team=payments`)

	deleteLong = dedent(`
		Delete Environments by file, name or label selector. berth tears an
		Environment down gracefully (containers stopped in reverse dependency
		order, then removed with its network and volumes) before the object
		disappears; delete waits for that unless --wait=false. Compose files
		name the Environment they convert to (give the --name apply had).`)

	deleteExample = templates.Examples(`
		# Delete the Environments a file declares, and wait for their teardown
		berth delete -f config/samples/demo.yaml

		# Delete the Environment a compose project was applied as
		berth delete -f docker-compose.yml -f docker-compose.test.yml --name shop-ci

		# Delete one Environment by name
		berth delete env demo

		# Delete without waiting for the teardown
		berth delete env demo --wait=false

		# Delete every Environment labelled team=payments
		berth delete env -l team=payments`)

	waitLong = dedent(`
		Wait until Environments reach a condition (--for=condition=Ready), a
		field value (--for=jsonpath=...), or are deleted (--for=delete).`)

	waitExample = templates.Examples(`
		# Wait up to two minutes for an Environment to be Ready
		berth wait --for=condition=Ready env/demo --timeout=120s

		# Wait for its phase to be Degraded
		berth wait --for=jsonpath='{.status.phase}'=Degraded env/demo

		# Wait until it is gone
		berth wait --for=delete env/demo --timeout=5m`)
)

// applySubcommandExamples replaces the examples of kubectl's apply
// subcommands, keyed by subcommand name.
var applySubcommandExamples = map[string]string{
	"view-last-applied": templates.Examples(`
		# Show the configuration last applied to an Environment
		berth apply view-last-applied env/demo`),
	"set-last-applied": templates.Examples(`
		# Record a file as the last applied configuration without changing the Environment
		berth apply set-last-applied -f env.yaml`),
	"edit-last-applied": templates.Examples(`
		# Edit the last applied configuration of an Environment
		berth apply edit-last-applied env/demo`),
}

// dedent strips the source indentation of a help text and keeps its line
// breaks as written. kubectl's LongDesc re-flows paragraphs and leaves a
// stray space in front of every paragraph after the first.
func dedent(s string) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	for i, l := range lines {
		lines[i] = strings.TrimLeft(l, "\t")
	}
	return strings.Join(lines, "\n")
}

// requireResource refuses a get or describe without a resource, before
// kubectl would: its own message sends the user to api-resources and
// explain, which berth does not have.
func requireResource(cmd *cobra.Command, args []string, verb string) error {
	if len(args) > 0 {
		return nil
	}
	for _, name := range []string{"filename", "kustomize"} {
		if fl := cmd.Flags().Lookup(name); fl != nil && fl.Changed {
			return nil
		}
	}
	return cmdutil.UsageErrorf(cmd, "say what to %s, e.g. `%s %s environments` (env for short)", verb, rootName, verb)
}
