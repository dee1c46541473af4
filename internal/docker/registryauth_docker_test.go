package docker

import (
	"bytes"
	"context"
	"encoding/base64"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-logr/logr/funcr"
	"github.com/moby/moby/client"

	"berth.dev/berth/internal/governor"
)

// The registry with htpasswd auth of hack/ensure-auth-registry.sh and its
// fixture credentials (loopback only, not secrets).
const (
	authRegistry         = "127.0.0.1:5001"
	authRegistryUser     = "berth-test"
	authRegistryPassword = "berth-test-password"
)

// ensureAuthRegistry makes sure the auth registry answers with the fixture
// credentials, starting it (and the open one) when not.
func ensureAuthRegistry(t *testing.T) {
	t.Helper()
	hc := http.Client{Timeout: 2 * time.Second}
	req, _ := http.NewRequest(http.MethodGet, "http://"+authRegistry+"/v2/", nil)
	req.SetBasicAuth(authRegistryUser, authRegistryPassword)
	if resp, err := hc.Do(req); err == nil {
		resp.Body.Close()
		if resp.StatusCode == http.StatusOK {
			return
		}
	}
	runEnsureRegistry(t)
}

// writeDockerConfig writes config.json into a new directory and returns it.
func writeDockerConfig(t *testing.T, json string) string {
	t.Helper()
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "config.json"), []byte(json), 0o600); err != nil {
		t.Fatal(err)
	}
	return dir
}

// authsConfig is a config.json as `docker login` writes it without a
// credential store.
func authsConfig(host, user, password string) string {
	auth := base64.StdEncoding.EncodeToString([]byte(user + ":" + password))
	return fmt.Sprintf(`{"auths": {%q: {"auth": %q}}}`, host, auth)
}

// lockedBuffer collects the client's log lines.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) add(prefix, args string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	fmt.Fprintf(&l.b, "%s %s\n", prefix, args)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// TestPullWithRegistryCredentials pushes berth-testapp:dev into the
// registry with htpasswd auth (with credentials resolved from a Docker
// config, as pulls do), removes the local tag, and pulls it through the
// client with a Docker config holding the right password, a wrong one, none,
// and a credential helper.
func TestPullWithRegistryCredentials(t *testing.T) {
	needDocker(t)
	ensureAuthRegistry(t)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	ref := authRegistry + "/berth-test/" + testPrefix + "-auth:dev"
	untag := tagTestImage(ctx, t, ref)

	good := writeDockerConfig(t, authsConfig(authRegistry, authRegistryUser, authRegistryPassword))
	pushAuth, err := registryAuth(good, ref)
	if err != nil || pushAuth == "" {
		t.Fatalf("credentials for the push: %q, %v", pushAuth, err)
	}
	push, err := raw.ImagePush(ctx, ref, client.ImagePushOptions{RegistryAuth: pushAuth})
	if err != nil {
		t.Fatal(err)
	}
	for msg, err := range push.JSONMessages(ctx) {
		if err != nil {
			t.Fatal(err)
		}
		if msg.Error != nil {
			t.Fatalf("push %s: %s", ref, msg.Error.Message)
		}
	}

	var logs lockedBuffer
	newClient := func(t *testing.T, dir string) *Client {
		return newTestClient(t, dockerHost, governor.ProfileCI, func(cfg *Config) {
			cfg.DockerConfigDir = dir
			cfg.RetryBackoff = []time.Duration{10 * time.Millisecond, 10 * time.Millisecond}
			cfg.Logger = funcr.New(logs.add, funcr.Options{Verbosity: 10})
		})
	}
	// pull removes the local tag and pulls ref with the Docker config in dir.
	pull := func(t *testing.T, dir string) (*Client, error) {
		t.Helper()
		untag()
		c := newClient(t, dir)
		return c, c.EnsureImage(ctx, ref, PullIfNotPresent, nil)
	}
	noSecret := func(t *testing.T, err error) {
		t.Helper()
		for _, s := range []string{authRegistryPassword, "wrong-password", pushAuth} {
			if err != nil && strings.Contains(err.Error(), s) {
				t.Errorf("the error shows a secret: %v", err)
			}
			if strings.Contains(logs.String(), s) {
				t.Errorf("the client's log shows a secret:\n%s", logs.String())
			}
		}
	}

	t.Run("right password", func(t *testing.T) {
		c, err := pull(t, good)
		if err != nil {
			t.Fatal(err)
		}
		if ok, err := c.ImagePresent(ctx, ref); !ok || err != nil {
			t.Fatalf("image not present after the pull: %v", err)
		}
		noSecret(t, err)
	})
	t.Run("wrong password", func(t *testing.T) {
		c, err := pull(t, writeDockerConfig(t, authsConfig(authRegistry, authRegistryUser, "wrong-password")))
		t.Logf("wrong password: %v", err)
		if !IsRegistryAuth(err) {
			t.Fatalf("pull with a wrong password = %v, want RegistryAuth", err)
		}
		if IsUnavailable(err) {
			t.Fatalf("a refused password is classified transient: %v", err)
		}
		if st := c.Stats(); st.ByOp["image_pull"].Calls != 1 || st.Retries != 0 {
			t.Fatalf("a refused password was retried: %d pull attempts, %d retries", st.ByOp["image_pull"].Calls, st.Retries)
		}
		noSecret(t, err)
	})
	t.Run("no credentials", func(t *testing.T) {
		c, err := pull(t, writeDockerConfig(t, `{"auths": {}}`))
		t.Logf("no credentials: %v", err)
		if !IsRegistryAuth(err) || !strings.Contains(err.Error(), "requires authentication") {
			t.Fatalf("pull without credentials = %v, want RegistryAuth saying the registry requires authentication", err)
		}
		if st := c.Stats(); st.Retries != 0 {
			t.Fatalf("a pull without credentials was retried %d times", st.Retries)
		}
	})
	t.Run("malformed config", func(t *testing.T) {
		_, err := pull(t, writeDockerConfig(t, `{"auths": `))
		t.Logf("malformed: %v", err)
		if !IsRegistryAuth(err) || !strings.Contains(err.Error(), "config.json") {
			t.Fatalf("pull with a malformed config.json = %v, want RegistryAuth naming the file", err)
		}
	})
	t.Run("missing credential helper", func(t *testing.T) {
		_, err := pull(t, writeDockerConfig(t, `{"credsStore": "berthmissing"}`))
		t.Logf("missing helper: %v", err)
		if !IsRegistryAuth(err) || !strings.Contains(err.Error(), "docker-credential-berthmissing") {
			t.Fatalf("pull with a credsStore not on PATH = %v, want RegistryAuth naming the helper", err)
		}
	})
	t.Run("credential helper", func(t *testing.T) {
		// docker-credential-berthtest answers `get` with the fixture
		// credentials for the auth registry and "not found" for others,
		// as the helper protocol has it.
		bin := t.TempDir()
		helper := fmt.Sprintf(`#!/bin/sh
[ "$1" = get ] || exit 1
read -r server
if [ "$server" = %q ]; then
  printf '{"ServerURL":"%%s","Username":%q,"Secret":%q}\n' "$server"
  exit 0
fi
echo "credentials not found in native keychain"
exit 1
`, authRegistry, authRegistryUser, authRegistryPassword)
		if err := os.WriteFile(filepath.Join(bin, "docker-credential-berthtest"), []byte(helper), 0o755); err != nil {
			t.Fatal(err)
		}
		t.Setenv("PATH", bin+string(os.PathListSeparator)+os.Getenv("PATH"))
		for name, cfg := range map[string]string{
			"credHelpers": fmt.Sprintf(`{"credHelpers": {%q: "berthtest"}}`, authRegistry),
			"credsStore":  `{"credsStore": "berthtest"}`,
		} {
			t.Run(name, func(t *testing.T) {
				c, err := pull(t, writeDockerConfig(t, cfg))
				if err != nil {
					t.Fatal(err)
				}
				if ok, err := c.ImagePresent(ctx, ref); !ok || err != nil {
					t.Fatalf("image not present after the pull: %v", err)
				}
				noSecret(t, err)
			})
		}
	})
}
