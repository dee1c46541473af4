package cli

import (
	"context"
	"fmt"
	"os/signal"
	"syscall"

	"github.com/spf13/cobra"
	"k8s.io/cli-runtime/pkg/genericiooptions"
	"k8s.io/client-go/tools/remotecommand"
	cmdutil "k8s.io/kubectl/pkg/cmd/util"
	"k8s.io/kubectl/pkg/util/templates"
	"k8s.io/kubectl/pkg/util/term"

	"berth.dev/berth/internal/remote"
)

var (
	execLong = dedent(`
		Run a command in a service's container, like kubectl exec. The manager
		runs it through Docker for berth: berth needs only its kubeconfig, never
		the Docker socket, and the manager refuses a container it does not own.

		The command comes after "--" and runs as is, without a shell (an image
		FROM scratch has none). berth exits with the command's exit code; its
		stdout and stderr arrive on berth's own. SERVICE may be left out when
		the Environment has one service.

		-i passes berth's stdin to the command until it ends. -t runs the
		command on a terminal (its stderr then comes on stdout, as a terminal
		has one output); with -i and stdin a terminal, berth puts it in raw
		mode and forwards its size, so -it gives an interactive shell. Without
		a terminal on stdin, -t is dropped with a warning.`)

	execExample = templates.Examples(`
		# Run a query in the db service of demo
		berth exec demo db -- psql -U app -c 'select 1'

		# Feed a file to a command's stdin
		berth exec -i demo db -- psql -U app < schema.sql

		# An interactive shell
		berth exec -it demo api -- sh

		# The second replica's container of a replicated service
		berth exec --replica 1 demo web -- /testapp check --http http://127.0.0.1:8080/healthz`)
)

type execOptions struct {
	stdin   bool
	tty     bool
	replica int32
}

func newExecCommand(f cmdutil.Factory, streams genericiooptions.IOStreams) *cobra.Command {
	o := &execOptions{}
	cmd := &cobra.Command{
		Use:                   "exec ENVIRONMENT [SERVICE] [-i] [-t] [--replica N] -- COMMAND [ARGS...]",
		DisableFlagsInUseLine: true,
		Short:                 "Run a command in a service's container",
		Long:                  execLong,
		Example:               execExample,
		RunE: func(cmd *cobra.Command, args []string) error {
			env, service, command, err := parseExecArgs(args, cmd.ArgsLenAtDash())
			if err != nil {
				return err
			}
			var replica *int32
			if cmd.Flags().Changed("replica") {
				if o.replica < 0 {
					return fmt.Errorf("--replica %d: must be 0 or more", o.replica)
				}
				replica = &o.replica
			}
			ctx, stop := signal.NotifyContext(cmd.Context(), syscall.SIGTERM)
			defer stop()
			code, err := o.run(ctx, f, streams, remote.ExecOptions{Environment: env, Service: service, Replica: replica, Command: command})
			if err != nil {
				return err
			}
			if code != 0 {
				return &ExitCodeError{Code: code}
			}
			return nil
		},
	}
	fl := cmd.Flags()
	fl.BoolVarP(&o.stdin, "stdin", "i", false, "Pass stdin to the command until it ends.")
	fl.BoolVarP(&o.tty, "tty", "t", false, "Run the command on a terminal (stderr then comes on stdout). Dropped with a warning when stdin is not a terminal.")
	fl.Int32Var(&o.replica, "replica", 0, "Run in this replica's container (0-based) of a replicated service; default: the service's current container.")
	return cmd
}

func (o *execOptions) run(ctx context.Context, f cmdutil.Factory, streams genericiooptions.IOStreams, ro remote.ExecOptions) (int, error) {
	config, err := f.ToRESTConfig()
	if err != nil {
		return -1, err
	}
	ro.Stdout, ro.Stderr = streams.Out, streams.ErrOut
	if o.stdin {
		ro.Stdin = streams.In
	}
	t := term.TTY{In: streams.In, Out: streams.Out, Raw: o.stdin}
	if o.tty && !t.IsTerminalIn() {
		fmt.Fprintln(streams.ErrOut, "berth: stdin is not a terminal: running without -t")
		o.tty = false
	}
	if !o.tty {
		return remote.Run(ctx, config, ro)
	}
	ro.TTY = true
	ro.Sizes = sizeQueue{t.MonitorSize(t.GetSize())}
	code := -1
	err = t.Safe(func() error {
		var err error
		code, err = remote.Run(ctx, config, ro)
		return err
	})
	return code, err
}

// sizeQueue hands kubectl's terminal size monitor to client-go's executor
// (the two packages keep separate but identical types).
type sizeQueue struct{ q term.TerminalSizeQueue }

func (s sizeQueue) Next() *remotecommand.TerminalSize {
	sz := s.q.Next()
	if sz == nil {
		return nil
	}
	return &remotecommand.TerminalSize{Width: sz.Width, Height: sz.Height}
}
