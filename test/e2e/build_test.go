package e2e

import (
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/moby/moby/client"
	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"berth.dev/berth/apis/v1alpha1"
)

var _ = Describe("Images built from a Dockerfile", Ordered, func() {
	It("builds a relative build context applied with berth apply -f, and removes the image with the Environment", func() {
		dir := GinkgoT().TempDir()
		m := startControllerManager("--allow-host-path", dir)
		DeferCleanup(m.stop)
		ctxDir := filepath.Join(dir, "web")
		Expect(os.MkdirAll(ctxDir, 0o755)).To(Succeed())
		// FROM the local test image: nothing to pull; testapp serves HTTP.
		writeFile(ctxDir, "Dockerfile", "FROM "+testImage+"\nCOPY hello.txt /hello.txt\n")
		writeFile(ctxDir, "hello.txt", "built by berth\n")

		name := uniqueName("build")
		svc := withHTTPProbe(M{"name": "web", "build": M{"context": "./web"}, "terminationGracePeriodSeconds": 1}, 60)
		doc := environment(name, svc)

		// kubectl (here: stdin, no directory) sends the relative path
		// unchanged: the server refuses it and says what to do.
		_, errOut, err := m.berth(render(doc), "apply", "-f", "-")
		Expect(err).To(HaveOccurred())
		Expect(errOut).To(ContainSubstring("spec.services[0].build.context"))
		Expect(errOut).To(ContainSubstring("berth apply -f"))

		// berth apply -f FILE resolves it against FILE's directory.
		apply(m, dir, "env.yaml", doc)
		DeferCleanup(func() { _, _, _ = m.berth("", "delete", "environment", name, "--timeout=2m") })
		m.waitReady(4*time.Minute, name)

		built := func() []string {
			ctx, cancel := dockerCtx()
			defer cancel()
			f := make(client.Filters).Add("label", v1alpha1.LabelManagedBy+"="+m.identity()).Add("label", v1alpha1.LabelBuildHash)
			r, err := dockerc().ImageList(ctx, client.ImageListOptions{Filters: f})
			Expect(err).NotTo(HaveOccurred())
			var tags []string
			for _, im := range r.Items {
				tags = append(tags, im.RepoTags...)
			}
			return tags
		}
		tags := built()
		Expect(tags).To(HaveLen(1))
		Expect(tags[0]).To(HavePrefix("berth-build/web:"))
		ct := mustInspect("berth_" + name + "_web")
		Expect(ct.Config.Image).To(Equal(tags[0]))

		env := m.getEnv(name)
		var reasons []string
		for _, ev := range env.Status.Events {
			reasons = append(reasons, ev.Reason)
		}
		Expect(reasons).To(ContainElements("Building", "Built"))

		m.mustBerth("delete", "environment", name, "--timeout=3m")
		m.waitGone(time.Minute, name)
		Expect(built()).To(BeEmpty(), "the built image outlived its Environment")
		Expect(strings.Join(tags, "")).NotTo(BeEmpty())
	})
})
