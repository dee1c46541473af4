// Package cli builds the berth command: kubectl's own apply, get, describe,
// delete and wait, wired to berth's kubeconfig and never to the user's
// Kubernetes configuration, plus berth's describer for Environments,
// `berth logs` (container output streamed through the manager) and
// `berth version`.
package cli

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"

	"github.com/spf13/cobra"
	"k8s.io/cli-runtime/pkg/genericclioptions"
	"k8s.io/cli-runtime/pkg/genericiooptions"
	"k8s.io/cli-runtime/pkg/printers"
	"k8s.io/client-go/rest"
	cliflag "k8s.io/component-base/cli/flag"
	"k8s.io/klog/v2"
	"k8s.io/kubectl/pkg/cmd/apply"
	"k8s.io/kubectl/pkg/cmd/get"
	cmdutil "k8s.io/kubectl/pkg/cmd/util"
	"k8s.io/kubectl/pkg/cmd/wait"
	"k8s.io/kubectl/pkg/util/completion"

	"berth.dev/berth/internal/paths"
)

// rootName is the command name kubectl's commands put in their messages.
const rootName = "berth"

// NewRootCommand builds `berth` over streams. It reads no file and opens no
// connection; that happens when a subcommand runs. kubectl's commands read
// stdin for `-f -` from os.Stdin, whatever streams.In is.
func NewRootCommand(streams genericiooptions.IOStreams) *cobra.Command {
	warnings := rest.NewWarningWriter(streams.ErrOut, rest.WarningWriterOptions{
		Deduplicate: true,
		Color:       printers.AllowsColorOutput(streams.ErrOut),
	})
	root := &cobra.Command{
		Use:           rootName,
		Short:         "berth converges a Docker Engine to declarative Environments",
		Long:          rootLong,
		Example:       rootExample,
		SilenceErrors: true,
		SilenceUsage:  true,
		Args:          cobra.NoArgs,
		// Server warnings (deprecations, fields dropped under
		// --validate=warn) go to stderr once each, as kubectl prints them.
		PersistentPreRun: func(*cobra.Command, []string) {
			rest.SetDefaultWarningHandler(warnings)
		},
		Run: func(cmd *cobra.Command, _ []string) { _ = cmd.Help() },
	}
	root.SetIn(streams.In)
	root.SetOut(streams.Out)
	root.SetErr(streams.ErrOut)
	root.SetFlagErrorFunc(func(cmd *cobra.Command, err error) error {
		return fmt.Errorf("%w\nSee '%s --help' for usage", err, cmd.CommandPath())
	})

	configFlags := newConfigFlags(streams)
	configFlags.AddFlags(root.PersistentFlags())
	root.PersistentFlags().Lookup("kubeconfig").Usage = "Path to the kubeconfig of berth's manager. Default: $" +
		EnvKubeconfig + ", else <data dir>/kubeconfig. $KUBECONFIG is never used."
	addKlogFlags(root)
	root.SetGlobalNormalizationFunc(cliflag.WordSepNormalizeFunc)

	f := cmdutil.NewFactory(&clientGetter{flags: configFlags, getenv: os.Getenv})
	root.AddCommand(
		newApplyCommand(f, streams),
		newGetCommand(f, streams),
		newDescribeCommand(f, streams),
		newDeleteCommand(f, streams),
		newWaitCommand(f, streams),
		newLogsCommand(f, streams),
		newExecCommand(f, streams),
		newCpCommand(f, streams),
		newConvertCommand(streams),
		newRunCommand(streams),
		newVersionCommand(f, streams),
		newInstallCommand(f, streams),
	)
	return root
}

// newConfigFlags keeps the kubeconfig flags that make sense for berth's
// single loopback server: the kubeconfig itself, the request timeout and the
// cache dir. Contexts, users, servers, credentials and namespaces are dropped:
// berth's kubeconfig has one of each, and Environments are cluster-scoped.
func newConfigFlags(streams genericiooptions.IOStreams) *genericclioptions.ConfigFlags {
	f := genericclioptions.NewConfigFlags(true).WithWarningPrinter(streams)
	f.ClusterName, f.AuthInfoName, f.Context, f.Namespace = nil, nil, nil, nil
	f.APIServer, f.TLSServerName, f.Insecure, f.CAFile = nil, nil, nil, nil
	f.CertFile, f.KeyFile, f.BearerToken, f.Username, f.Password = nil, nil, nil, nil, nil
	f.Impersonate, f.ImpersonateUID, f.ImpersonateGroup, f.ImpersonateUserExtra = nil, nil, nil, nil
	f.DisableCompression, f.ProxyURL = nil, nil
	// Cache discovery and OpenAPI under berth's cache dir, not ~/.kube/cache.
	// Without a home directory the cache goes to a throwaway path under the
	// system temp dir rather than failing the command.
	cacheDir, err := paths.DefaultCacheDir()
	if err != nil {
		cacheDir = filepath.Join(os.TempDir(), "berth-cache")
	}
	*f.CacheDir = cacheDir
	return f
}

// addKlogFlags exposes klog's -v, which is how kubectl's packages log their
// HTTP requests (-v=6) and bodies (-v=8); klog's other flags are noise here.
func addKlogFlags(root *cobra.Command) {
	fs := flag.NewFlagSet(rootName, flag.ContinueOnError)
	klog.InitFlags(fs)
	if v := fs.Lookup("v"); v != nil {
		root.PersistentFlags().AddGoFlag(v)
	}
}

func newApplyCommand(f cmdutil.Factory, streams genericiooptions.IOStreams) *cobra.Command {
	cmd := apply.NewCmdApply(rootName, f, streams)
	cmd.Short = "Create or update Environments from files, directories or stdin"
	cmd.Long, cmd.Example = applyLong, applyExample
	withResolvedPaths(cmd)
	for _, sub := range cmd.Commands() {
		if ex, ok := applySubcommandExamples[sub.Name()]; ok {
			sub.Example = ex
		}
	}
	return cmd
}

func newGetCommand(f cmdutil.Factory, streams genericiooptions.IOStreams) *cobra.Command {
	cmd := get.NewCmdGet(rootName, f, streams)
	cmd.Short = "List Environments, or print them as YAML or JSON"
	cmd.Long, cmd.Example = getLong, getExample
	// kubectl sets this outside NewCmdGet to avoid an import cycle.
	cmd.ValidArgsFunction = completion.ResourceTypeAndNameCompletionFunc(f)
	run := cmd.Run
	cmd.Run = func(cmd *cobra.Command, args []string) {
		cmdutil.CheckErr(requireResource(cmd, args, "get"))
		run(cmd, args)
	}
	return cmd
}

func newWaitCommand(f cmdutil.Factory, streams genericiooptions.IOStreams) *cobra.Command {
	cmd := wait.NewCmdWait(f, streams)
	cmd.Short = "Wait until Environments reach a condition, or are deleted"
	cmd.Long, cmd.Example = waitLong, waitExample
	return cmd
}
