package cli

import (
	"fmt"
	"os/signal"
	"syscall"

	"github.com/spf13/cobra"
	"k8s.io/cli-runtime/pkg/genericiooptions"
	cmdutil "k8s.io/kubectl/pkg/cmd/util"
	"k8s.io/kubectl/pkg/util/templates"

	"berth.dev/berth/internal/remote"
)

var (
	cpLong = dedent(`
		Copy files and directory trees between the local filesystem and a
		service's container, like kubectl cp and docker cp. One side is
		ENV/SERVICE:PATH (or ENV:PATH when the Environment has one service),
		with PATH absolute in the container; the other is a local path. A local
		path containing a colon is written with a leading ./ or /.

		The copy lands in the destination when it is an existing directory,
		else as the destination. Modes are kept, symlinks are copied as links,
		owners are not kept (files copied out belong to you, files copied in to
		the container's root). The manager moves a tar stream through Docker's
		archive API, so no tar is needed in the image (FROM scratch works), and
		berth never opens the Docker socket. What comes out of a container is
		treated as hostile: an archive entry that would land outside the local
		destination (an absolute name, "..", a path through a symlink) stops
		the copy with an error.`)

	cpExample = templates.Examples(`
		# A directory out of the db service of demo into ./dump (or ./dump/data when ./dump exists)
		berth cp demo/db:/var/lib/data ./dump

		# A local file into the container, as /etc/app/config.yaml
		berth cp ./config.yaml demo/api:/etc/app/config.yaml

		# A local directory into an existing directory of the container: /srv/www/site
		berth cp ./site demo/web:/srv/www`)
)

func newCpCommand(f cmdutil.Factory, streams genericiooptions.IOStreams) *cobra.Command {
	var replica int32
	cmd := &cobra.Command{
		Use:                   "cp SOURCE DESTINATION [--replica N]",
		DisableFlagsInUseLine: true,
		Short:                 "Copy files and directories to and from a service's container",
		Long:                  cpLong,
		Example:               cpExample,
		Args:                  cobra.ExactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			from, to, err := parseCpArgs(args[0], args[1])
			if err != nil {
				return err
			}
			var rep *int32
			if cmd.Flags().Changed("replica") {
				if replica < 0 {
					return fmt.Errorf("--replica %d: must be 0 or more", replica)
				}
				rep = &replica
			}
			config, err := f.ToRESTConfig()
			if err != nil {
				return err
			}
			ctx, stop := signal.NotifyContext(cmd.Context(), syscall.SIGINT, syscall.SIGTERM)
			defer stop()
			if from.Remote {
				return remote.CopyFromTarget(ctx, config, remote.CopyTarget{Environment: from.Environment, Service: from.Service, Replica: rep}, from.Path, to.Path)
			}
			return remote.CopyToTarget(ctx, config, remote.CopyTarget{Environment: to.Environment, Service: to.Service, Replica: rep}, from.Path, to.Path)
		},
	}
	cmd.Flags().Int32Var(&replica, "replica", 0, "Copy from or to this replica's container (0-based) of a replicated service; default: the service's current container.")
	return cmd
}
