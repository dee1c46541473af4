package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os/signal"
	"strconv"
	"syscall"
	"time"

	"github.com/spf13/cobra"
	"k8s.io/cli-runtime/pkg/genericiooptions"
	cmdutil "k8s.io/kubectl/pkg/cmd/util"
	"k8s.io/kubectl/pkg/util/templates"

	berthclient "berth.dev/berth/client/clientset/versioned/typed/apis/v1alpha1"
	"berth.dev/berth/internal/remote"
)

var (
	logsLong = dedent(`
		Print the output of a service's container. The manager reads it from
		Docker and streams it to berth, so berth needs only its kubeconfig, not
		access to the Docker socket. SERVICE may be left out when the
		Environment has a single service. stdout and stderr come interleaved,
		in the order the container wrote them.

		With -f, berth keeps printing new lines until interrupted or until the
		container stops. It starts with the last 10000 lines at most (--tail):
		a log can be gigabytes, so there is no "all".`)

	logsExample = templates.Examples(`
		# What the web service of demo printed so far (the last 10000 lines)
		berth logs demo web

		# The last 20 lines, then follow new ones
		berth logs demo web --tail 20 -f

		# Lines of the last 5 minutes, with Docker's timestamps
		berth logs demo web --since 5m --timestamps`)
)

// maxTail is the manager's cap on tailLines (apiserver.MaxTailLines).
const maxTail = 10000

// logsOptions are berth logs' flags.
type logsOptions struct {
	follow     bool
	tail       int64
	since      time.Duration
	timestamps bool
}

// newLogsCommand reads environments/NAME/log from the manager; the query
// parameters are the subresource's: service, follow, tailLines,
// sinceSeconds, timestamps.
func newLogsCommand(f cmdutil.Factory, streams genericiooptions.IOStreams) *cobra.Command {
	o := &logsOptions{}
	cmd := &cobra.Command{
		Use:                   "logs ENVIRONMENT [SERVICE] [-f] [--tail N]",
		DisableFlagsInUseLine: true,
		Short:                 "Print or follow the logs of a service's container",
		Long:                  logsLong,
		Example:               logsExample,
		Args:                  cobra.RangeArgs(1, 2),
		RunE: func(cmd *cobra.Command, args []string) error {
			service := ""
			if len(args) == 2 {
				service = args[1]
			}
			// Ctrl-C ends a follow cleanly: the request is cancelled and
			// the manager stops reading from Docker.
			ctx, stop := signal.NotifyContext(cmd.Context(), syscall.SIGINT, syscall.SIGTERM)
			defer stop()
			return o.run(ctx, f, args[0], service, streams.Out)
		},
	}
	fl := cmd.Flags()
	fl.BoolVarP(&o.follow, "follow", "f", false, "Keep streaming new lines until interrupted or the container stops.")
	fl.Int64Var(&o.tail, "tail", maxTail, fmt.Sprintf("Lines from the end of the log to start with, 0 to %d (0: only new lines, with -f). A log can be gigabytes: there is no \"all\".", maxTail))
	fl.DurationVar(&o.since, "since", 0, "Only lines newer than this, e.g. 10s, 5m, 1h (whole seconds).")
	fl.BoolVar(&o.timestamps, "timestamps", false, "Prefix every line with its timestamp.")
	return cmd
}

func (o *logsOptions) run(ctx context.Context, f cmdutil.Factory, env, service string, out io.Writer) error {
	if o.tail < 0 || o.tail > maxTail {
		return fmt.Errorf("--tail %d: must be from 0 to %d", o.tail, maxTail)
	}
	if o.since < 0 {
		return fmt.Errorf("--since %s: must be positive", o.since)
	}
	config, err := f.ToRESTConfig()
	if err != nil {
		return err
	}
	client, err := berthclient.NewForConfig(config)
	if err != nil {
		return fmt.Errorf("client for the manager: %w", err)
	}
	req := client.RESTClient().Get().Resource("environments").Name(env).SubResource("log")
	if service != "" {
		req = req.Param("service", service)
	}
	if o.follow {
		req = req.Param("follow", "true")
	}
	req = req.Param("tailLines", strconv.FormatInt(o.tail, 10))
	if o.since > 0 {
		// The API counts whole seconds; round up so 1500ms still means "recent".
		req = req.Param("sinceSeconds", strconv.FormatInt(int64((o.since+time.Second-1)/time.Second), 10))
	}
	if o.timestamps {
		req = req.Param("timestamps", "true")
	}
	body, err := req.Stream(ctx)
	if err != nil {
		if ctx.Err() != nil {
			// Interrupted before the first line: nothing went wrong.
			return nil
		}
		return remote.Explain(config, "log", err)
	}
	defer body.Close()
	if _, err := io.Copy(out, body); err != nil && ctx.Err() == nil && !errors.Is(err, io.EOF) {
		return fmt.Errorf("reading the logs of %s: %w", env, err)
	}
	return nil
}
