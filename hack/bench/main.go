// Command bench runs berth's benchmarks against the real Docker Engine and
// prints their figures. Each benchmark family is a subcommand:
//
//	go run ./hack/bench docker [flags]   the Docker layer (governor profiles vs direct calls)
//	go run ./hack/bench compose [flags]  the platform sample's compose files: berth vs docker-compose
//	go run ./hack/bench desktop [flags]  the desktop profile through a recording proxy: calls per container, peak in flight, call spacing
//	go run ./hack/bench pool [flags]     claims from a warm pool vs the floor for creating their containers
//	go run ./hack/bench scale [flags]    many Environments at once (100 × 5) vs the direct floor, the manager's RSS and CPU per container
//
// Run `go run ./hack/bench <subcommand> -h` for a subcommand's flags. New
// families (the controller's convergence benchmarks) register themselves in
// subcommands.
package main

import (
	"fmt"
	"io"
	"os"
	"sort"
)

// subcommand is one benchmark family.
type subcommand struct {
	summary string
	run     func(args []string, stdout, stderr io.Writer) int
}

var subcommands = map[string]subcommand{
	"docker": {summary: "create+start and stop+remove batches and call rates through each governor profile vs direct calls", run: runDocker},
}

func main() {
	os.Exit(realMain(os.Args[1:], os.Stdout, os.Stderr))
}

func realMain(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		usage(stderr)
		if len(args) == 0 {
			return 2
		}
		return 0
	}
	sc, ok := subcommands[args[0]]
	if !ok {
		fmt.Fprintf(stderr, "bench: unknown subcommand %q\n", args[0])
		usage(stderr)
		return 2
	}
	return sc.run(args[1:], stdout, stderr)
}

func usage(w io.Writer) {
	fmt.Fprintln(w, "usage: go run ./hack/bench <subcommand> [flags]")
	fmt.Fprintln(w, "subcommands:")
	names := make([]string, 0, len(subcommands))
	for n := range subcommands {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		fmt.Fprintf(w, "  %-10s %s\n", n, subcommands[n].summary)
	}
}
