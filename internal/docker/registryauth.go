package docker

import (
	"fmt"
	"path/filepath"
	"strings"

	cerrdefs "github.com/containerd/errdefs"
	"github.com/distribution/reference"
	"github.com/docker/cli/cli/config"
	"github.com/docker/cli/cli/config/configfile"
	"github.com/docker/cli/cli/config/credentials"
	"github.com/moby/moby/api/pkg/authconfig"
	"github.com/moby/moby/api/types/registry"
)

// registryAuth returns the X-Registry-Auth value for pulling (or pushing)
// ref: the credentials the docker CLI would send for the image's registry,
// from the Docker config in dir ("" means the CLI's default: $DOCKER_CONFIG,
// else ~/.docker). It reads the config with the CLI's own config package
// on every call, as each docker command does, so a `docker login` after the
// manager started is seen by the next pull; entries in "auths",
// "credsStore" and "credHelpers" (docker-credential-* on PATH) and
// DOCKER_AUTH_CONFIG all work as for the CLI, docker.io included (its key
// is https://index.docker.io/v1/).
//
// "" with a nil error means no credentials for that registry: the pull
// goes anonymous, as the CLI's does. The result carries a password: it is
// handed to the Docker client and never logged or put into an error.
func registryAuth(dir, ref string) (string, error) {
	named, err := reference.ParseNormalizedNamed(ref)
	if err != nil {
		// Not a reference the daemon would pull either; let it say so.
		return "", nil
	}
	host := reference.Domain(named)
	cf, err := loadDockerConfig(dir)
	if err != nil {
		return "", err
	}
	ac, err := cf.GetAuthConfig(host)
	if err != nil {
		// The helper's own message (it never contains the secret it failed
		// to return), and which helper failed.
		return "", fmt.Errorf("credentials for registry %s from %s: %w", host, credentialSource(cf, host), err)
	}
	if ac.Username == "" && ac.Password == "" && ac.Auth == "" && ac.IdentityToken == "" && ac.RegistryToken == "" {
		return "", nil
	}
	enc, err := authconfig.Encode(registry.AuthConfig{
		Username:      ac.Username,
		Password:      ac.Password,
		Auth:          ac.Auth,
		ServerAddress: ac.ServerAddress,
		IdentityToken: ac.IdentityToken,
		RegistryToken: ac.RegistryToken,
	})
	if err != nil {
		return "", fmt.Errorf("encoding the credentials for registry %s: %w", host, err)
	}
	return enc, nil
}

// loadDockerConfig reads config.json the way the CLI's
// LoadDefaultConfigFile does (a missing file is an empty config; without
// any auths the platform's default helper is used when installed), except
// that a malformed file is an error instead of a warning: pulling
// anonymously because of a typo would hide the cause.
func loadDockerConfig(dir string) (*configfile.ConfigFile, error) {
	if dir == "" {
		dir = config.Dir()
	}
	cf, err := config.Load(dir)
	if err != nil {
		return nil, fmt.Errorf("docker config for registry credentials: %w", err)
	}
	if !cf.ContainsAuth() {
		cf.CredentialsStore = credentials.DetectDefaultStore(cf.CredentialsStore)
	}
	return cf, nil
}

// credentialSource names where the credentials of host come from, for
// error messages: the helper program or the config file.
func credentialSource(cf *configfile.ConfigFile, host string) string {
	key := host
	if host == "docker.io" || host == "index.docker.io" {
		key = "https://index.docker.io/v1/"
	}
	if h, ok := cf.CredentialHelpers[key]; ok && h != "" {
		return "credential helper docker-credential-" + h
	}
	if cf.CredentialsStore != "" {
		return "credential helper docker-credential-" + cf.CredentialsStore
	}
	return cf.Filename
}

// registryAuthError is a pull the registry refused for want of valid
// credentials. It keeps the daemon's message but not its error: Docker
// 20.10 answers such a pull with a 500, which the governor would take for
// a transient failure and retry, and resending the same credentials cannot
// succeed.
type registryAuthError struct{ msg string }

func (e *registryAuthError) Error() string { return e.msg }

// asRegistryAuthError turns a pull failure that says the registry refused
// to authenticate the request into a registryAuthError; other errors pass
// unchanged. Daemons name it in different words by version and registry
// (the distribution registry's "unauthorized: authentication required",
// dockerd's own "no basic auth credentials" when it had none to send,
// Docker Hub's "denied: requested access to the resource is denied"), and
// newer ones answer 401; the text is matched here and nowhere else.
func asRegistryAuthError(err error) error {
	if err == nil {
		return nil
	}
	if cerrdefs.IsUnauthorized(err) {
		return &registryAuthError{msg: err.Error()}
	}
	msg := strings.ToLower(err.Error())
	for _, s := range []string{"unauthorized", "authentication required", "no basic auth credentials", "denied: requested access to the resource is denied"} {
		if strings.Contains(msg, s) {
			return &registryAuthError{msg: err.Error()}
		}
	}
	return err
}

// registryAuthFailure is the error of a pull refused by the registry: what
// berth sent (credentials or none) and where it took them from, so the
// user knows which `docker login` to run.
func registryAuthFailure(dir, ref string, sentCredentials bool, err error) error {
	if dir == "" {
		dir = config.Dir()
	}
	where := filepath.Join(dir, config.ConfigFileName)
	if sentCredentials {
		return fmt.Errorf("pull %s: the registry refused the credentials from %s (wrong user or password?): %w: %w", ref, where, ErrRegistryAuth, err)
	}
	return fmt.Errorf("pull %s: the registry requires authentication and %s has no credentials for it (docker login as the manager's user, or set DOCKER_CONFIG): %w: %w", ref, where, ErrRegistryAuth, err)
}

// RegistryAuthConfigs returns every login of the manager's Docker config
// (the CLI's GetAllCredentials: auths, credsStore and credHelpers), keyed
// by registry, for an image build's AuthConfigs: the daemon picks the one
// of each FROM image's registry, as `docker build` has it. Not used by
// pulls (they send only the login of their image's registry).
func (c *Client) RegistryAuthConfigs() (map[string]registry.AuthConfig, error) {
	cf, err := loadDockerConfig(c.dockerConfig)
	if err != nil {
		return nil, err
	}
	all, err := cf.GetAllCredentials()
	if err != nil {
		return nil, fmt.Errorf("registry credentials for a build: %w", err)
	}
	out := make(map[string]registry.AuthConfig, len(all))
	for k, ac := range all {
		out[k] = registry.AuthConfig{
			Username:      ac.Username,
			Password:      ac.Password,
			Auth:          ac.Auth,
			ServerAddress: ac.ServerAddress,
			IdentityToken: ac.IdentityToken,
			RegistryToken: ac.RegistryToken,
		}
	}
	return out, nil
}
