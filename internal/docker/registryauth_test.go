package docker

import (
	"errors"
	"testing"

	"github.com/moby/moby/api/pkg/authconfig"
)

// TestRegistryAuthPicksTheImagesRegistry: the credentials sent are those of
// the image's registry host, Docker Hub under the CLI's historical key,
// and none for a registry the config does not name.
func TestRegistryAuthPicksTheImagesRegistry(t *testing.T) {
	dir := writeDockerConfig(t, `{"auths": {
		"https://index.docker.io/v1/": {"auth": "aHViLXVzZXI6aHViLXB3"},
		"registry.example.test:5000": {"auth": "bXktdXNlcjpteS1wdw=="}
	}}`)
	for ref, wantUser := range map[string]string{
		"alpine":                                         "hub-user",
		"library/alpine:3":                               "hub-user",
		"docker.io/library/alpine":                       "hub-user",
		"index.docker.io/someone/app:1":                  "hub-user",
		"registry.example.test:5000/team/app":            "my-user",
		"registry.example.test:5000/app@sha256:" + sha64: "my-user",
		"registry.example.test/team/app":                 "", // another port, another registry
		"other.example.test/app":                         "",
	} {
		enc, err := registryAuth(dir, ref)
		if err != nil {
			t.Fatalf("%s: %v", ref, err)
		}
		if wantUser == "" {
			if enc != "" {
				t.Errorf("%s: credentials sent to a registry the config does not name", ref)
			}
			continue
		}
		ac, err := authconfig.Decode(enc)
		if err != nil {
			t.Fatalf("%s: %v", ref, err)
		}
		if ac.Username != wantUser {
			t.Errorf("%s: user %q, want %q", ref, ac.Username, wantUser)
		}
	}
	// No config.json at all: anonymous, as for the CLI.
	if enc, err := registryAuth(t.TempDir(), "alpine"); enc != "" || err != nil {
		t.Errorf("no config.json = %q, %v; want anonymous", enc, err)
	}
}

const sha64 = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"

func TestAsRegistryAuthError(t *testing.T) {
	var ae *registryAuthError
	for _, msg := range []string{
		"Error response from daemon: unauthorized: authentication required",
		`Error response from daemon: Head "http://127.0.0.1:5001/v2/x/manifests/dev": no basic auth credentials`,
		"pull access denied for x, repository does not exist or may require 'docker login': denied: requested access to the resource is denied",
	} {
		if !errors.As(asRegistryAuthError(errors.New(msg)), &ae) {
			t.Errorf("%q not taken for a refused authentication", msg)
		}
	}
	for _, msg := range []string{"manifest unknown", `dial tcp 127.0.0.1:5999: connect: connection refused`} {
		if errors.As(asRegistryAuthError(errors.New(msg)), &ae) {
			t.Errorf("%q taken for a refused authentication", msg)
		}
	}
}

func TestRegistryAuthConfigsForBuilds(t *testing.T) {
	dir := writeDockerConfig(t, authsConfig("registry.example.test:5000", "my-user", "my-pw"))
	c := &Client{dockerConfig: dir}
	all, err := c.RegistryAuthConfigs()
	if err != nil {
		t.Fatal(err)
	}
	if ac, ok := all["registry.example.test:5000"]; !ok || ac.Username != "my-user" || ac.Password != "my-pw" {
		t.Fatalf("build auth configs = %v, want the login of registry.example.test:5000", all)
	}
}
