package berthtest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"k8s.io/apimachinery/pkg/util/yaml"
	sigsyaml "sigs.k8s.io/yaml"

	"berth.dev/berth/apis/v1alpha1"
	"berth.dev/berth/internal/cli"
	"berth.dev/berth/internal/compose"
)

// maxManifestBytes bounds a File read, as berth apply does.
const maxManifestBytes = 8 << 20

// load turns the one source of c into the Environment to create.
func load(ctx context.Context, c *config) (*v1alpha1.Environment, error) {
	switch len(c.sources) {
	case 0:
		return nil, errors.New("no Environment given: pass berthtest.File, Spec, Environment or Compose")
	case 1:
	default:
		whats := make([]string, len(c.sources))
		for i, s := range c.sources {
			whats[i] = s.what
		}
		return nil, fmt.Errorf("one Environment per Start, got %d sources: %s", len(c.sources), strings.Join(whats, ", "))
	}
	s := c.sources[0]
	switch {
	case s.env != nil:
		return s.env, nil
	case s.what == "Environment" || s.what == "Spec":
		return nil, fmt.Errorf("%s: nil", s.what)
	case len(s.compose) > 0:
		return compose.Load(ctx, compose.Options{Files: s.compose, Profiles: c.profiles})
	case s.what == "Compose":
		return nil, errors.New("Compose: no file given")
	}
	data, err := readFile(s.file)
	if err != nil {
		return nil, err
	}
	if compose.IsComposeFile(s.file, data) {
		return compose.Load(ctx, compose.Options{Files: []string{s.file}, Profiles: c.profiles})
	}
	return decodeManifest(s.file, data)
}

func readFile(path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("File(%s): %w", path, err)
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, maxManifestBytes+1))
	if err != nil {
		return nil, fmt.Errorf("File(%s): %w", path, err)
	}
	if len(data) > maxManifestBytes {
		return nil, fmt.Errorf("File(%s): larger than %d MiB", path, maxManifestBytes>>20)
	}
	return data, nil
}

// decodeManifest decodes the file's one Environment, with relative host
// paths taken against the file's directory (as berth apply -f does: the
// same cli.ResolvePaths).
func decodeManifest(path string, data []byte) (*v1alpha1.Environment, error) {
	abs, err := filepath.Abs(path)
	if err != nil {
		return nil, fmt.Errorf("File(%s): %w", path, err)
	}
	dec := yaml.NewYAMLOrJSONDecoder(bytes.NewReader(data), 4096)
	var out bytes.Buffer
	for {
		var doc map[string]any
		err := dec.Decode(&doc)
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("File(%s): %w", path, err)
		}
		if doc == nil {
			continue
		}
		if _, err := cli.ResolvePaths(doc, filepath.Dir(abs)); err != nil {
			return nil, fmt.Errorf("File(%s): %w", path, err)
		}
		b, err := sigsyaml.Marshal(doc)
		if err != nil {
			return nil, fmt.Errorf("File(%s): %w", path, err)
		}
		out.WriteString("---\n")
		out.Write(b)
	}
	envs, err := v1alpha1.DecodeEnvironments(out.Bytes())
	if err != nil {
		return nil, fmt.Errorf("File(%s): %w", path, err)
	}
	if len(envs) != 1 {
		return nil, fmt.Errorf("File(%s): holds %d Environments; Start takes one", path, len(envs))
	}
	return envs[0], nil
}
