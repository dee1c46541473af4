// Command berthtestholder is a stand-in for a Go test process that dies:
// it starts an Environment with pkg/berthtest (New, on the manager of
// --kubeconfig, with a session lease of --lease), prints "ready NAME" and
// waits to be killed. The e2e suite kills it with SIGKILL and checks that
// the manager tears the Environment down once the lease runs out.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"time"

	"berth.dev/berth/pkg/berthtest"
)

func main() {
	kubeconfig := flag.String("kubeconfig", "", "the manager's kubeconfig")
	file := flag.String("f", "", "the Environment's manifest")
	lease := flag.Duration("lease", 5*time.Second, "session lease duration")
	flag.Parse()
	env, err := berthtest.New(context.Background(),
		berthtest.Kubeconfig(*kubeconfig), berthtest.File(*file), berthtest.LeaseDuration(*lease))
	if err != nil {
		fmt.Fprintln(os.Stderr, "berthtestholder:", err)
		os.Exit(1)
	}
	fmt.Printf("ready %s\n", env.Name())
	select {} // until killed: Close never runs
}
