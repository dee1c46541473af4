package cli

import (
	"fmt"

	"github.com/spf13/cobra"
	"k8s.io/cli-runtime/pkg/genericiooptions"
	cmdutil "k8s.io/kubectl/pkg/cmd/util"

	"berth.dev/berth/internal/version"
)

// newVersionCommand prints berth's version and, unless --client, the version
// the manager's API server reports, so a CLI/manager mismatch is visible.
func newVersionCommand(f cmdutil.Factory, streams genericiooptions.IOStreams) *cobra.Command {
	var clientOnly bool
	cmd := &cobra.Command{
		Use:   "version",
		Short: "Print the berth CLI's version and the manager's",
		Long: "Print the version of this berth binary and, when a manager answers on berth's kubeconfig, " +
			"the version its API server reports. --client skips the server.",
		Example: "  berth version\n  berth version --client",
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			fmt.Fprintf(streams.Out, "Client Version: %s\n", version.Version)
			if clientOnly {
				return nil
			}
			dc, err := f.ToDiscoveryClient()
			if err != nil {
				return fmt.Errorf("asking the manager for its version: %w", err)
			}
			info, err := dc.ServerVersion()
			if err != nil {
				return fmt.Errorf("asking the manager for its version: %w", err)
			}
			fmt.Fprintf(streams.Out, "Server Version: %s\n", info.GitVersion)
			return nil
		},
	}
	cmd.Flags().BoolVar(&clientOnly, "client", false, "Print only the client's version; do not contact the manager.")
	return cmd
}
