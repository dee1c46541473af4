package berthtest

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"berth.dev/berth/apis/v1alpha1"
	"berth.dev/berth/internal/cli"
	"berth.dev/berth/internal/compose"
)

// load turns the one source of c into the Environment to create.
func load(ctx context.Context, c *config) (*v1alpha1.Environment, error) {
	switch len(c.sources) {
	case 0:
		return nil, errors.New("no Environment given: pass berthtest.File, Spec, Environment, Compose or Pool")
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
	data, err := cli.ReadManifest(s.file)
	if err != nil {
		return nil, fmt.Errorf("File(%s): %w", s.file, err)
	}
	if compose.IsComposeFile(s.file, data) {
		return compose.Load(ctx, compose.Options{Files: []string{s.file}, Profiles: c.profiles})
	}
	envs, err := cli.DecodeManifest(s.file, data)
	if err != nil {
		return nil, fmt.Errorf("File(%s): %w", s.file, err)
	}
	if len(envs) != 1 {
		return nil, fmt.Errorf("File(%s): holds %d Environments; Start takes one", s.file, len(envs))
	}
	return envs[0], nil
}
