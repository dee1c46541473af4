// Command leaseholder holds one Environment's lease until it is killed:
// the e2e suite's stand-in for a test process (berth run, a go test
// binary) that dies without cleaning up. SIGTERM or SIGINT release the
// lease first, as a process that exits normally does.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/go-logr/logr"
	"github.com/go-logr/logr/funcr"
	"k8s.io/client-go/tools/clientcmd"

	"berth.dev/berth/client/clientset/versioned"
	"berth.dev/berth/internal/lease"
)

func main() {
	kubeconfig := flag.String("kubeconfig", "", "kubeconfig of the manager")
	env := flag.String("env", "", "Environment to hold")
	holder := flag.String("holder", lease.DefaultHolder(), "holder identity")
	d := flag.Duration("duration", lease.DefaultDuration, "lease duration")
	flag.Parse()
	if err := run(*kubeconfig, *env, *holder, *d); err != nil {
		fmt.Fprintln(os.Stderr, "leaseholder:", err)
		os.Exit(1)
	}
}

func run(kubeconfig, env, holder string, d time.Duration) error {
	cfg, err := clientcmd.BuildConfigFromFlags("", kubeconfig)
	if err != nil {
		return fmt.Errorf("load kubeconfig: %w", err)
	}
	cs, err := versioned.NewForConfig(cfg)
	if err != nil {
		return fmt.Errorf("clientset: %w", err)
	}
	log := funcr.New(func(prefix, args string) { fmt.Fprintln(os.Stderr, prefix, args) }, funcr.Options{})
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGINT)
	defer stop()
	h, err := lease.Hold(logr.NewContext(context.Background(), log), cs, env, holder, d)
	if err != nil {
		return err
	}
	fmt.Println("holding", env)
	select {
	case <-ctx.Done():
		return h.Stop()
	case <-h.Expired():
		return h.Err()
	}
}
