// Command berth is the CLI of berth: kubectl's apply, get, describe, delete
// and wait against the berth manager's API server, plus berth's own logs,
// run and version.
package main

import (
	"errors"
	"fmt"
	"os"

	"k8s.io/cli-runtime/pkg/genericiooptions"

	"berth.dev/berth/internal/cli"
)

func main() {
	streams := genericiooptions.IOStreams{In: os.Stdin, Out: os.Stdout, ErrOut: os.Stderr}
	if err := cli.NewRootCommand(streams).Execute(); err != nil {
		// berth run exits with its command's code; what it had to say
		// about it is said.
		var exit *cli.ExitError
		if errors.As(err, &exit) {
			if exit.Message != "" {
				fmt.Fprintf(os.Stderr, "error: %s\n", exit.Message)
			}
			os.Exit(exit.Code)
		}
		// berth exec: the command's exit code, already explained by the
		// command's own output.
		var code *cli.ExitCodeError
		if errors.As(err, &code) {
			os.Exit(code.Code)
		}
		// kubectl's commands print their own errors and exit; what reaches
		// here is a flag error or one of berth's own commands failing.
		fmt.Fprintf(os.Stderr, "error: %v\n", err)
		os.Exit(1)
	}
}
