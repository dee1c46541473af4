package e2e

import (
	"encoding/base64"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	"github.com/moby/moby/api/pkg/authconfig"
	"github.com/moby/moby/api/types/registry"
	"github.com/moby/moby/client"
	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
)

// The registry with htpasswd auth of hack/ensure-auth-registry.sh and its
// fixture credentials (loopback only, not secrets).
const (
	authRegistry         = "127.0.0.1:5001"
	authRegistryUser     = "berth-test"
	authRegistryPassword = "berth-test-password"
)

// A private image: the manager pulls it with the credentials of the Docker
// config it was started with (DOCKER_CONFIG), read again for every pull.
var _ = Describe("Private registry", Ordered, func() {
	It("pulls an image that lives only in the registry with htpasswd auth once the manager's Docker config has the login, without showing the password", func() {
		ensureTestImage()
		root, _ := filepath.Abs("../..")
		out, err := exec.Command(filepath.Join(root, "hack", "ensure-registry.sh")).CombinedOutput()
		Expect(err).NotTo(HaveOccurred(), "hack/ensure-registry.sh: %s", out)

		name := uniqueName("private")
		ref := authRegistry + "/berth-e2e/" + name + ":dev"
		ctx, cancel := dockerCtx()
		defer cancel()
		_, err = dockerc().ImageTag(ctx, client.ImageTagOptions{Source: testImage, Target: ref})
		Expect(err).NotTo(HaveOccurred())
		untag := func() {
			ctx, cancel := dockerCtx()
			defer cancel()
			_, _ = dockerc().ImageRemove(ctx, ref, client.ImageRemoveOptions{})
		}
		DeferCleanup(untag)
		pushAuth, err := authconfig.Encode(registry.AuthConfig{Username: authRegistryUser, Password: authRegistryPassword, ServerAddress: authRegistry})
		Expect(err).NotTo(HaveOccurred())
		push, err := dockerc().ImagePush(ctx, ref, client.ImagePushOptions{RegistryAuth: pushAuth})
		Expect(err).NotTo(HaveOccurred())
		for msg, err := range push.JSONMessages(ctx) {
			Expect(err).NotTo(HaveOccurred())
			Expect(msg.Error).To(BeNil(), "push %s", ref)
		}
		untag()

		By("with no login for the registry, the Environment says authentication is required")
		dockerConfig := GinkgoT().TempDir()
		configFile := filepath.Join(dockerConfig, "config.json")
		Expect(os.WriteFile(configFile, []byte(`{"auths": {}}`), 0o600)).To(Succeed())
		GinkgoT().Setenv("DOCKER_CONFIG", dockerConfig) // inherited by the manager
		m := startControllerManager()
		DeferCleanup(func() {
			if !m.exited() {
				_, _, _ = m.berth("", "delete", "environment", name, "--ignore-not-found", "--timeout=3m")
			}
		})
		always := service("app")
		always["image"], always["imagePullPolicy"] = ref, "Always"
		ifNotPresent := service("app2")
		ifNotPresent["image"] = ref
		dir := GinkgoT().TempDir()
		file := apply(m, dir, name+".yaml", environment(name, always, ifNotPresent))
		Eventually(func() string { return describeStatus(m.getEnv(name)) }).
			WithTimeout(2*time.Minute).WithPolling(250*time.Millisecond).
			Should(ContainSubstring("requires authentication"), "manager output:\n%s", m.tail())

		By("after the login is written (as docker login does), the next pull uses it and the Environment converges")
		auth := base64.StdEncoding.EncodeToString([]byte(authRegistryUser + ":" + authRegistryPassword))
		Expect(os.WriteFile(configFile, []byte(fmt.Sprintf(`{"auths": {%q: {"auth": %q}}}`, authRegistry, auth)), 0o600)).To(Succeed())
		m.waitReady(3*time.Minute, name)
		Expect(containerIDs(name, m.identity())).To(HaveLen(2))

		By("the password shows nowhere: not in the manager's output, the status or describe")
		described := m.mustBerth("describe", "env", name)
		for _, text := range []string{m.output.String(), describeStatus(m.getEnv(name)), described} {
			for _, secret := range []string{authRegistryPassword, auth, pushAuth} {
				Expect(strings.Contains(text, secret)).To(BeFalse(), "a secret shows in:\n%s", text)
			}
		}

		m.mustBerth("delete", "-f", file)
		m.waitGone(time.Minute, name)
		expectNothingLeft(m, name)
	})
})
