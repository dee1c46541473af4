package cli

import (
	"context"
	"fmt"
	"time"

	"github.com/spf13/cobra"
	"k8s.io/cli-runtime/pkg/genericiooptions"
	cmdutil "k8s.io/kubectl/pkg/cmd/util"

	"berth.dev/berth/internal/crds"
)

// newInstallCommand applies berth's CRDs (config/crd, embedded in this
// binary) to the cluster of --kubeconfig, for managers started with
// `manager --kubeconfig`.
func newInstallCommand(f cmdutil.Factory, streams genericiooptions.IOStreams) *cobra.Command {
	timeout := 60 * time.Second
	cmd := &cobra.Command{
		Use:   "install",
		Short: "Install berth's CRDs (Environment, EnvironmentLease) into a Kubernetes cluster",
		Long: dedent(`
			Install applies berth's CustomResourceDefinitions (the config/crd
			this binary was built with) to the cluster of --kubeconfig,
			creating them or replacing the stored ones, and waits until each is
			Established. Running it again after an upgrade updates them in place. The cluster is then
			ready for managers started with manager --kubeconfig, and for
			berth --kubeconfig FILE apply/get/delete/wait and kubectl.

			As everywhere in berth, the kubeconfig is --kubeconfig, else
			$BERTH_KUBECONFIG: $KUBECONFIG is never read. The embedded API
			server of a manager serves Environments already and has nothing
			to install.`),
		Example: "  berth install --kubeconfig ~/.kube/config",
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg, err := f.ToRESTConfig()
			if err != nil {
				return err
			}
			ctx, cancel := context.WithTimeout(cmd.Context(), timeout)
			defer cancel()
			names, err := crds.Install(ctx, cfg)
			for _, n := range names {
				fmt.Fprintf(streams.Out, "customresourcedefinition.apiextensions.k8s.io/%s installed\n", n)
			}
			if err != nil {
				return fmt.Errorf("install CRDs into %s: %w", cfg.Host, err)
			}
			return nil
		},
	}
	cmd.Flags().DurationVar(&timeout, "timeout", timeout, "How long to wait for the CRDs to be Established.")
	return cmd
}
