package cli

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/sirupsen/logrus"
	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
	"k8s.io/cli-runtime/pkg/genericiooptions"
	"k8s.io/kubectl/pkg/util/templates"
	sigsyaml "sigs.k8s.io/yaml"

	"berth.dev/berth/internal/compose"
)

// composeFlags are the flags that steer how compose files named by -f are
// loaded: the same on apply, delete and convert, so that the three agree on
// the Environment a project becomes.
type composeFlags struct {
	name     string
	profiles []string
	envFiles []string
}

// addComposeFlags adds --name, --profile and --env-file to cmd.
func addComposeFlags(fs *pflag.FlagSet, c *composeFlags) {
	fs.StringVar(&c.name, "name", "", "Compose files only: the Environment's name (default: the compose project name)")
	fs.StringArrayVar(&c.profiles, "profile", nil, "Compose files only: enable the services of this compose profile (repeatable; default $COMPOSE_PROFILES)")
	fs.StringArrayVar(&c.envFiles, "env-file", nil, "Compose files only: read ${VAR} values from this file (repeatable; default the project directory's .env)")
}

func (c *composeFlags) options(files []string) compose.Options {
	return compose.Options{Files: files, Name: c.name, Profiles: c.profiles, EnvFiles: c.envFiles}
}

// composeLogFormat prints compose-go's warnings (an obsolete version:, an
// unset variable) the way berth prints its own messages, not as logrus's
// time= level= records.
type composeLogFormat struct{}

func (composeLogFormat) Format(e *logrus.Entry) ([]byte, error) {
	return []byte(e.Level.String() + ": " + e.Message + "\n"), nil
}

func init() { logrus.SetFormatter(composeLogFormat{}) }

// composeManifest loads the compose project made of files and returns the
// Environment as the YAML document berth apply sends; berth convert
// prints the same object, so applying its output gives the same spec.
func composeManifest(ctx context.Context, c *composeFlags, files []string) (map[string]any, error) {
	env, err := compose.Load(ctx, c.options(files))
	if err != nil {
		return nil, err
	}
	return compose.Manifest(env)
}

// readComposeFile returns the content of name when it is a compose file
// named on the command line (not stdin, a URL or a directory), else nil.
func readComposeFile(name string) []byte {
	fi, err := os.Stat(name)
	if err != nil || fi.IsDir() || fi.Size() > maxManifestBytes {
		return nil
	}
	data, err := os.ReadFile(name)
	if err != nil || !compose.IsComposeFile(name, data) {
		return nil
	}
	return data
}

// writeComposeManifest writes the Environment of the compose files into
// dir and returns the file's path.
func writeComposeManifest(ctx context.Context, c *composeFlags, files []string, dir string) (string, error) {
	obj, err := composeManifest(ctx, c, files)
	if err != nil {
		return "", err
	}
	b, err := sigsyaml.Marshal(obj)
	if err != nil {
		return "", fmt.Errorf("encode Environment: %w", err)
	}
	name, _ := obj["metadata"].(map[string]any)["name"].(string)
	p := filepath.Join(dir, "compose-"+name+".yaml")
	if err := os.WriteFile(p, b, 0o600); err != nil {
		return "", fmt.Errorf("write the Environment of %v: %w", files, err)
	}
	return p, nil
}

const (
	convertLong = `
		Convert compose files into the Environment berth apply would send for
		them, and print it. All files form one project, later ones overlaying
		earlier ones as with docker compose -f a -f b; ${VAR} is interpolated
		from the environment and .env (--env-file), env_file, extends, include
		and profiles (--profile) are honoured, and relative paths are resolved
		against each file's directory.

		Every compose attribute either maps to an Environment field or is
		refused with its path and the reason; nothing is dropped silently.
		README.md's "Compose files" section lists each attribute.`

	convertExample = `
		# Print the Environment of a compose project
		berth convert -f docker-compose.yml -f docker-compose.test.yml

		# As JSON, under another name, with a profile's services
		berth convert -f docker-compose.yml --name ci-42 --profile debug -o json

		# Keep it as a manifest; applying it is the same as applying the compose files
		berth convert -f docker-compose.yml > env.yaml && berth apply -f env.yaml`
)

// newConvertCommand is `berth convert`: compose files in, an Environment
// out. It talks to no server.
func newConvertCommand(streams genericiooptions.IOStreams) *cobra.Command {
	var (
		c      composeFlags
		files  []string
		output string
	)
	cmd := &cobra.Command{
		Use:                   "convert -f FILE [-f FILE]... [-o yaml|json]",
		DisableFlagsInUseLine: true,
		Short:                 "Print the Environment that compose files convert to",
		Long:                  templates.LongDesc(convertLong),
		Example:               templates.Examples(convertExample),
		Args:                  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if len(files) == 0 {
				return fmt.Errorf("at least one compose file is required (-f FILE)")
			}
			if output != "yaml" && output != "json" {
				return fmt.Errorf("--output %q: yaml or json", output)
			}
			obj, err := composeManifest(cmd.Context(), &c, files)
			if err != nil {
				return err
			}
			return printManifest(streams.Out, obj, output)
		},
	}
	cmd.Flags().StringArrayVarP(&files, "filename", "f", nil, "A compose file (repeatable; later files overlay earlier ones)")
	cmd.Flags().StringVarP(&output, "output", "o", "yaml", "Output format: yaml or json")
	addComposeFlags(cmd.Flags(), &c)
	return cmd
}

func printManifest(w io.Writer, obj map[string]any, output string) error {
	var b []byte
	var err error
	if output == "json" {
		b, err = json.MarshalIndent(obj, "", "    ")
		b = append(b, '\n')
	} else {
		b, err = sigsyaml.Marshal(obj)
	}
	if err != nil {
		return fmt.Errorf("encode Environment: %w", err)
	}
	_, err = w.Write(b)
	return err
}
