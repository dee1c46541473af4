package cli

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
	"k8s.io/apimachinery/pkg/util/yaml"
	"k8s.io/cli-runtime/pkg/resource"
	cmdutil "k8s.io/kubectl/pkg/cmd/util"
	sigsyaml "sigs.k8s.io/yaml"
)

// maxManifestBytes bounds one file berth rewrites (the server refuses
// far smaller specs anyway).
const maxManifestBytes = 16 << 20

// withResolvedPaths wraps an -f command (apply, delete) so that relative
// host paths in its files are made absolute against each file's directory
// before kubectl's code reads them: such a file is rewritten into a
// private temporary copy, and -f points at the copy. Files with nothing to
// resolve, stdin, URLs and -k are passed on untouched (relative paths
// from stdin or a URL have no directory; the server refuses them and says
// why).
//
// The compose files named in -f (compose.IsComposeFile) are loaded as one
// project, as `docker compose -f a -f b` does, with the --name, --profile
// and --env-file flags the wrapper adds; -f then names the Environment
// manifest they convert to, in place of the first of them.
func withResolvedPaths(cmd *cobra.Command) {
	var cf composeFlags
	addComposeFlags(cmd.Flags(), &cf)
	run := cmd.Run
	cmd.Run = func(c *cobra.Command, args []string) {
		ctx := c.Context()
		if ctx == nil {
			ctx = context.Background()
		}
		cleanup, err := resolveFilenameFlag(ctx, c.Flags(), &cf)
		cmdutil.CheckErr(err)
		// kubectl ends a failed command with os.Exit: remove the copies
		// first.
		cmdutil.BehaviorOnFatal(func(msg string, code int) {
			cleanup()
			if msg != "" {
				if !strings.HasSuffix(msg, "\n") {
					msg += "\n"
				}
				fmt.Fprint(os.Stderr, msg)
			}
			os.Exit(code)
		})
		defer cmdutil.DefaultBehaviorOnFatal()
		defer cleanup()
		run(c, args)
	}
}

// resolveFilenameFlag rewrites the -f list in place; cleanup removes the
// temporary copies.
func resolveFilenameFlag(ctx context.Context, flags *pflag.FlagSet, cf *composeFlags) (cleanup func(), err error) {
	cleanup = func() {}
	fl := flags.Lookup("filename")
	if fl == nil {
		return cleanup, nil
	}
	if k := flags.Lookup("kustomize"); k != nil && k.Value.String() != "" {
		return cleanup, nil
	}
	sv, ok := fl.Value.(pflag.SliceValue)
	if !ok {
		return cleanup, nil
	}
	recursive, _ := flags.GetBool("recursive")
	names := sv.GetSlice()
	var tmp string
	var out []string
	changedAny := false
	tempDir := func() (string, error) {
		if tmp == "" {
			dir, err := os.MkdirTemp("", "berth-apply-")
			if err != nil {
				return "", fmt.Errorf("temporary directory for -f files: %w", err)
			}
			tmp = dir
			cleanup = func() { os.RemoveAll(dir) }
		}
		return tmp, nil
	}
	var composeFiles []string
	composeAt := -1
	for _, name := range names {
		if readComposeFile(name) != nil {
			if composeAt < 0 {
				composeAt = len(out)
				out = append(out, "") // the Environment's manifest goes here
			}
			composeFiles = append(composeFiles, name)
			continue
		}
		files, err := expandFilename(name, recursive)
		if err != nil {
			return cleanup, err
		}
		if files == nil {
			out = append(out, name)
			continue
		}
		for _, f := range files {
			data, changed, err := resolveFile(f)
			if err != nil {
				return cleanup, err
			}
			if !changed {
				out = append(out, f)
				continue
			}
			if _, err := tempDir(); err != nil {
				return cleanup, err
			}
			abs, _ := filepath.Abs(f)
			// The copy keeps the original path under the temp dir, so
			// kubectl's messages still say which file it was.
			cp := filepath.Join(tmp, abs)
			if err := os.MkdirAll(filepath.Dir(cp), 0o700); err != nil {
				return cleanup, err
			}
			if err := os.WriteFile(cp, data, 0o600); err != nil {
				return cleanup, err
			}
			out = append(out, cp)
			changedAny = true
		}
	}
	if len(composeFiles) > 0 {
		dir, err := tempDir()
		if err != nil {
			return cleanup, err
		}
		p, err := writeComposeManifest(ctx, cf, composeFiles, dir)
		if err != nil {
			return cleanup, err
		}
		out[composeAt] = p
		changedAny = true
	} else if cf != nil && (cf.name != "" || len(cf.profiles) > 0 || len(cf.envFiles) > 0) {
		return cleanup, fmt.Errorf("--name, --profile and --env-file apply to compose files, and -f names none")
	}
	if changedAny {
		if err := sv.Replace(out); err != nil {
			return cleanup, err
		}
	}
	return cleanup, nil
}

// expandFilename lists the local manifest files name stands for (a file,
// or a directory's files as kubectl reads them); nil for stdin and URLs.
func expandFilename(name string, recursive bool) ([]string, error) {
	if name == "-" || strings.HasPrefix(name, "http://") || strings.HasPrefix(name, "https://") {
		return nil, nil
	}
	fi, err := os.Stat(name)
	if err != nil {
		// kubectl reports a missing file its own way.
		return nil, nil
	}
	if !fi.IsDir() {
		return []string{name}, nil
	}
	var files []string
	err = filepath.WalkDir(name, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			if p != name && !recursive {
				return filepath.SkipDir
			}
			return nil
		}
		if slices.Contains(resource.FileExtensions, filepath.Ext(p)) {
			files = append(files, p)
		}
		return nil
	})
	return files, err
}

// resolveFile decodes every document of file, resolves its paths against
// the file's directory, and returns the documents as YAML when any path
// changed.
func resolveFile(file string) ([]byte, bool, error) {
	f, err := os.Open(file)
	if err != nil {
		return nil, false, nil // kubectl reports it
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, maxManifestBytes+1))
	if err != nil {
		return nil, false, fmt.Errorf("read %s: %w", file, err)
	}
	if len(data) > maxManifestBytes {
		return nil, false, nil
	}
	return resolveManifest(file, data)
}

// resolveManifest is data, the manifest read from file, with the relative
// host paths of its Environments made absolute against file's directory,
// and whether anything changed. Data that does not decode comes back
// unchanged with no error: whoever decodes the original reports it.
func resolveManifest(file string, data []byte) ([]byte, bool, error) {
	dir := filepath.Dir(file)
	dec := yaml.NewYAMLOrJSONDecoder(bytes.NewReader(data), 4096)
	var out bytes.Buffer
	changed := false
	for {
		var doc map[string]any
		err := dec.Decode(&doc)
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			// Not ours to report: kubectl decodes the original file.
			return nil, false, nil
		}
		if doc == nil {
			continue
		}
		c, err := ResolvePaths(doc, dir)
		if err != nil {
			return nil, false, fmt.Errorf("%s: %w", file, err)
		}
		changed = changed || c
		b, err := sigsyaml.Marshal(doc)
		if err != nil {
			return nil, false, fmt.Errorf("%s: %w", file, err)
		}
		out.WriteString("---\n")
		out.Write(b)
	}
	return out.Bytes(), changed, nil
}
