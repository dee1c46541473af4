package e2e

import (
	"bufio"
	"context"
	"io"
	"net/http"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"berth.dev/berth/pkg/berthtest"
)

// The Go test package against a real bin/manager: what a user's test does
// (apply, wait for Ready, use the endpoints, exec), with nothing but
// berthtest calls, and its teardown leaves nothing behind.
var _ = Describe("pkg/berthtest against bin/manager", Ordered, func() {
	var m *managerProcess
	BeforeAll(func() { m = startControllerManager() })

	It("starts the demo twice side by side, serves its endpoint, runs commands in it and tears both down", func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
		defer cancel()
		opts := []berthtest.Option{berthtest.Kubeconfig(m.kubeconfig), berthtest.File("../../config/samples/demo.yaml")}
		a, err := berthtest.New(ctx, opts...)
		Expect(err).NotTo(HaveOccurred())
		DeferCleanup(func() { Expect(a.Close()).To(Succeed()) })
		b, err := berthtest.New(ctx, opts...)
		Expect(err).NotTo(HaveOccurred())
		DeferCleanup(func() { Expect(b.Close()).To(Succeed()) })
		Expect(a.Name()).To(HavePrefix("demo-"))
		Expect(b.Name()).To(HavePrefix("demo-"))
		Expect(a.Name()).NotTo(Equal(b.Name()), "two runs of one file share no Environment")
		Expect(a.Environment().Spec.Lease).NotTo(BeNil(), "a session lease is held")

		for _, env := range []*berthtest.Env{a, b} {
			resp, err := http.Get("http://" + env.Endpoint("api", "http") + "/healthz")
			Expect(err).NotTo(HaveOccurred())
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			Expect(resp.StatusCode).To(Equal(http.StatusOK), "%s", body)

			// api reaches db by its service name on the Environment's network.
			res, err := env.Exec(ctx, "api", "/testapp", "check", "--tcp", "db:5432")
			Expect(err).NotTo(HaveOccurred())
			Expect(res.ExitCode).To(Equal(0), "stdout %q stderr %q", res.Stdout, res.Stderr)
		}
		Expect(a.Endpoint("api", "http")).NotTo(Equal(b.Endpoint("api", "http")))

		Expect(a.Close()).To(Succeed())
		expectNothingLeft(m, a.Name())
		Expect(b.Close()).To(Succeed())
		expectNothingLeft(m, b.Name())
	})

	It("tears down the Environment of a test process killed -9 once its lease runs out", func() {
		dir := GinkgoT().TempDir()
		holder := filepath.Join(dir, "berthtestholder")
		root, err := filepath.Abs("../..")
		Expect(err).NotTo(HaveOccurred())
		build := exec.Command("go", "build", "-o", holder, "./test/e2e/berthtestholder")
		build.Dir = root
		out, err := build.CombinedOutput()
		Expect(err).NotTo(HaveOccurred(), "build berthtestholder: %s", out)

		cmd := exec.Command(holder, "--kubeconfig", m.kubeconfig, "-f", "../../config/samples/demo.yaml", "--lease", "5s")
		cmd.Stderr = GinkgoWriter
		stdout, err := cmd.StdoutPipe()
		Expect(err).NotTo(HaveOccurred())
		Expect(cmd.Start()).To(Succeed())
		DeferCleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
		line, err := bufio.NewReader(stdout).ReadString('\n')
		Expect(err).NotTo(HaveOccurred(), "berthtestholder ended before its Environment was Ready")
		name := strings.TrimSpace(strings.TrimPrefix(line, "ready "))
		Expect(name).To(HavePrefix("demo-"))
		DeferCleanup(func() { _, _, _ = m.berth("", "delete", "environment", name, "--ignore-not-found", "--timeout=3m") })

		Expect(cmd.Process.Kill()).To(Succeed()) // SIGKILL: no cleanup runs
		_ = cmd.Wait()
		// The manager deletes it after 5 s without renewals (and as long
		// again of its own watching), then tears down gracefully.
		Eventually(func() bool {
			_, err := m.clientset().BerthV1alpha1().Environments().Get(context.Background(), name, metav1.GetOptions{})
			return apierrors.IsNotFound(err)
		}).WithTimeout(3 * time.Minute).WithPolling(time.Second).Should(BeTrue())
		expectNothingLeft(m, name)
	})
})
