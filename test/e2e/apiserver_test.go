package e2e

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	apimeta "k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/watch"
	"k8s.io/client-go/util/retry"

	"berth.dev/berth/apis/v1alpha1"
)

// A minimal Environment that no controller can start quickly matters not
// here: these specs are about the API server's contract.
const apiEnv = `apiVersion: berth.dev/v1alpha1
kind: Environment
metadata:
  name: api-contract
spec:
  services:
  - name: web
    image: berth-testapp:dev
    env:
    - name: MODE
      value: one
`

// holdFinalizer keeps an object in Terminating whatever the controller
// does, so the deletionTimestamp contract can be observed.
const holdFinalizer = "e2e.berth.dev/hold"

var _ = Describe("API server", Ordered, func() {
	var (
		m       *managerProcess
		dataDir string
		tmp     string
		ctx     context.Context
	)

	BeforeAll(func() {
		dataDir = GinkgoT().TempDir()
		tmp = GinkgoT().TempDir()
		m = startManager(dataDir)
		ctx = context.Background()
	})

	// The controller runs these Environments for real: delete them all
	// and wait until their containers and networks are gone.
	AfterAll(func() {
		if m.exited() {
			return
		}
		_, errOut, err := m.berth("", "delete", "environments", "--all", "--timeout=3m")
		Expect(err).NotTo(HaveOccurred(), errOut)
	})

	generation := func(name string) int64 {
		GinkgoHelper()
		env, err := m.clientset().BerthV1alpha1().Environments().Get(ctx, name, metav1.GetOptions{})
		Expect(err).NotTo(HaveOccurred())
		return env.Generation
	}

	It("writes its credentials with 0600 permissions", func() {
		for _, f := range []string{"kubeconfig", "token", "apiserver.crt", "apiserver.key"} {
			st, err := os.Stat(filepath.Join(dataDir, f))
			Expect(err).NotTo(HaveOccurred())
			Expect(st.Mode().Perm()).To(Equal(os.FileMode(0o600)), f)
		}
	})

	It("starts generation at 1, keeps it on a re-apply and bumps it on a spec change", func() {
		file := writeFile(tmp, "env.yaml", apiEnv)
		m.mustBerth("apply", "-f", file)
		Expect(m.mustBerth("get", "environment", "api-contract", "-o", "jsonpath={.metadata.generation}")).To(Equal("1"))

		Expect(m.mustBerth("apply", "-f", file)).To(ContainSubstring("unchanged"))
		Expect(generation("api-contract")).To(Equal(int64(1)))

		changed := writeFile(tmp, "env2.yaml", strings.Replace(apiEnv, "value: one", "value: two", 1))
		m.mustBerth("apply", "-f", changed)
		Expect(generation("api-contract")).To(Equal(int64(2)))
	})

	It("adds berth's finalizer on create", func() {
		env, err := m.clientset().BerthV1alpha1().Environments().Get(ctx, "api-contract", metav1.GetOptions{})
		Expect(err).NotTo(HaveOccurred())
		Expect(env.Finalizers).To(ContainElement(v1alpha1.Finalizer))
	})

	It("writes status only through the status subresource, without a generation bump", func() {
		envs := m.clientset().BerthV1alpha1().Environments()
		// Let the controller finish its own status writes for this
		// generation first, so the writes below don't race them.
		Eventually(func() bool {
			env, err := envs.Get(ctx, "api-contract", metav1.GetOptions{})
			return err == nil && env.Status.ObservedGeneration == env.Generation &&
				apimeta.IsStatusConditionTrue(env.Status.Conditions, v1alpha1.ConditionReady)
		}, 2*time.Minute, 200*time.Millisecond).Should(BeTrue())
		before := generation("api-contract")

		Expect(retry.RetryOnConflict(retry.DefaultRetry, func() error {
			env, err := envs.Get(ctx, "api-contract", metav1.GetOptions{})
			if err != nil {
				return err
			}
			env.Status.Phase = v1alpha1.PhaseDegraded
			env.Status.Ready = "0/1"
			_, err = envs.UpdateStatus(ctx, env, metav1.UpdateOptions{})
			return err
		})).To(Succeed())

		env, err := envs.Get(ctx, "api-contract", metav1.GetOptions{})
		Expect(err).NotTo(HaveOccurred())
		Expect(env.Status.Phase).To(Equal(v1alpha1.PhaseDegraded))
		Expect(env.Generation).To(Equal(before))

		// A status change sent to the main resource is dropped.
		env.Status.Phase = v1alpha1.PhaseFailed
		_, err = envs.Update(ctx, env, metav1.UpdateOptions{})
		Expect(err).NotTo(HaveOccurred())
		env, err = envs.Get(ctx, "api-contract", metav1.GetOptions{})
		Expect(err).NotTo(HaveOccurred())
		Expect(env.Status.Phase).To(Equal(v1alpha1.PhaseDegraded))

		// And a spec change sent to the status subresource is dropped.
		env.Spec.Services[0].Image = "berth-testapp:other"
		_, err = envs.UpdateStatus(ctx, env, metav1.UpdateOptions{})
		Expect(err).NotTo(HaveOccurred())
		env, err = envs.Get(ctx, "api-contract", metav1.GetOptions{})
		Expect(err).NotTo(HaveOccurred())
		Expect(env.Spec.Services[0].Image).To(Equal("berth-testapp:dev"))
		Expect(env.Generation).To(Equal(before))
	})

	It("applies JSON merge patches", func() {
		_, err := m.clientset().BerthV1alpha1().Environments().Patch(ctx, "api-contract", types.MergePatchType,
			[]byte(`{"metadata":{"labels":{"team":"payments"}},"spec":{"ttlSecondsAfterReady":600}}`), metav1.PatchOptions{})
		Expect(err).NotTo(HaveOccurred())
		env, err := m.clientset().BerthV1alpha1().Environments().Get(ctx, "api-contract", metav1.GetOptions{})
		Expect(err).NotTo(HaveOccurred())
		Expect(env.Labels).To(HaveKeyWithValue("team", "payments"))
		Expect(env.Spec.TTLSecondsAfterReady).To(HaveValue(Equal(int64(600))))
	})

	It("refuses invalid files with the field path and stores nothing", func() {
		bad := writeFile(tmp, "bad.yaml", `apiVersion: berth.dev/v1alpha1
kind: Environment
metadata:
  name: bad-one
spec:
  services:
  - name: web
    image: berth-testapp:dev
    dependsOn: [{service: nothere}]
    ports: [{name: http, containerPort: 70000}]
`)
		_, errOut, err := m.berth("", "apply", "-f", bad)
		Expect(err).To(HaveOccurred())
		Expect(errOut).To(ContainSubstring("spec.services[0].ports[0].containerPort"))
		Expect(errOut).To(ContainSubstring("spec.services[0].dependsOn[0].service"))

		unknown := writeFile(tmp, "unknown.yaml", strings.Replace(apiEnv, "name: api-contract", "name: bad-two", 1)+"    imagePolicy: Always\n")
		_, errOut, err = m.berth("", "apply", "-f", unknown)
		Expect(err).To(HaveOccurred())
		Expect(errOut).To(ContainSubstring("imagePolicy"))

		for _, name := range []string{"bad-one", "bad-two"} {
			_, err := m.clientset().BerthV1alpha1().Environments().Get(ctx, name, metav1.GetOptions{})
			Expect(apierrors.IsNotFound(err)).To(BeTrue(), "%s must not be stored: %v", name, err)
		}
	})

	It("applies multi-document YAML from stdin and from a directory", func() {
		docs := strings.Replace(apiEnv, "api-contract", "multi-a", 1) + "---\n" + strings.Replace(apiEnv, "api-contract", "multi-b", 1)
		_, errOut, err := m.berth(docs, "apply", "-f", "-")
		Expect(err).NotTo(HaveOccurred(), errOut)
		dir := filepath.Join(tmp, "dir")
		Expect(os.Mkdir(dir, 0o700)).To(Succeed())
		writeFile(dir, "c.yaml", strings.Replace(apiEnv, "api-contract", "multi-c", 1))
		m.mustBerth("apply", "-f", dir)
		out := m.mustBerth("get", "env", "-o", "name")
		for _, n := range []string{"multi-a", "multi-b", "multi-c"} {
			Expect(out).To(ContainSubstring("environment.berth.dev/" + n))
		}
	})

	It("prints a table with NAME, PHASE, READY and AGE", func() {
		out := m.mustBerth("get", "environments")
		header := strings.Fields(strings.SplitN(out, "\n", 2)[0])
		Expect(header).To(Equal([]string{"NAME", "PHASE", "READY", "AGE"}))
		Expect(out).To(MatchRegexp(`api-contract\s+\S+\s+\d+/1\s+`))
	})

	It("keeps a deleted object with deletionTimestamp until its finalizers are removed", func() {
		envs := m.clientset().BerthV1alpha1().Environments()
		_, err := envs.Patch(ctx, "multi-a", types.MergePatchType,
			[]byte(`{"metadata":{"finalizers":["`+v1alpha1.Finalizer+`","`+holdFinalizer+`"]}}`), metav1.PatchOptions{})
		Expect(err).NotTo(HaveOccurred())
		Expect(envs.Delete(ctx, "multi-a", metav1.DeleteOptions{})).To(Succeed())

		env, err := envs.Get(ctx, "multi-a", metav1.GetOptions{})
		Expect(err).NotTo(HaveOccurred())
		Expect(env.DeletionTimestamp).NotTo(BeNil())

		_, err = envs.Patch(ctx, "multi-a", types.MergePatchType, []byte(`{"metadata":{"finalizers":null}}`), metav1.PatchOptions{})
		Expect(err).NotTo(HaveOccurred())
		Eventually(func() bool {
			_, err := envs.Get(ctx, "multi-a", metav1.GetOptions{})
			return apierrors.IsNotFound(err)
		}, 10*time.Second, 100*time.Millisecond).Should(BeTrue())
	})

	It("streams ADDED, MODIFIED and DELETED to a watch", func() {
		envs := m.clientset().BerthV1alpha1().Environments()
		w, err := envs.Watch(ctx, metav1.ListOptions{FieldSelector: "metadata.name=watched"})
		Expect(err).NotTo(HaveOccurred())
		defer w.Stop()

		file := writeFile(tmp, "watched.yaml", strings.Replace(apiEnv, "api-contract", "watched", 1))
		m.mustBerth("apply", "-f", file)
		_, err = envs.Patch(ctx, "watched", types.MergePatchType, []byte(`{"metadata":{"labels":{"x":"y"}}}`), metav1.PatchOptions{})
		Expect(err).NotTo(HaveOccurred())
		_, err = envs.Patch(ctx, "watched", types.MergePatchType, []byte(`{"metadata":{"finalizers":null}}`), metav1.PatchOptions{})
		Expect(err).NotTo(HaveOccurred())
		Expect(envs.Delete(ctx, "watched", metav1.DeleteOptions{})).To(Succeed())

		seen := map[watch.EventType]bool{}
		Eventually(func() map[watch.EventType]bool {
			for {
				select {
				case ev := <-w.ResultChan():
					seen[ev.Type] = true
				default:
					return seen
				}
			}
		}, 20*time.Second, 50*time.Millisecond).Should(And(
			HaveKey(watch.Added), HaveKey(watch.Modified), HaveKey(watch.Deleted)))
	})

	It("refuses requests without the token with 401", func() {
		caPEM, err := os.ReadFile(filepath.Join(dataDir, "apiserver.crt"))
		Expect(err).NotTo(HaveOccurred())
		pool := x509.NewCertPool()
		Expect(pool.AppendCertsFromPEM(caPEM)).To(BeTrue())
		client := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{
			TLSClientConfig: &tls.Config{RootCAs: pool, ServerName: "localhost"},
		}}
		for _, token := range []string{"", "wrong-token"} {
			Expect(statusWithToken(client, m.apiHost+"/apis/berth.dev/v1alpha1/environments", token)).To(Equal(http.StatusUnauthorized), "token %q", token)
		}
	})

	It("works with stock kubectl", func() {
		kubectl, err := exec.LookPath("kubectl")
		if err != nil {
			Skip("kubectl is not installed")
		}
		cmd := exec.Command(kubectl, "get", "env", "api-contract", "-o", "jsonpath={.metadata.name}")
		cmd.Env = append(os.Environ(), "KUBECONFIG="+m.kubeconfig)
		out, err := cmd.CombinedOutput()
		Expect(err).NotTo(HaveOccurred(), string(out))
		Expect(string(out)).To(Equal("api-contract"))

		file := writeFile(tmp, "kubectl.yaml", strings.Replace(apiEnv, "api-contract", "via-kubectl", 1))
		cmd = exec.Command(kubectl, "apply", "--validate=strict", "-f", file)
		cmd.Env = append(os.Environ(), "KUBECONFIG="+m.kubeconfig)
		out, err = cmd.CombinedOutput()
		Expect(err).NotTo(HaveOccurred(), string(out))
	})

	It("refuses a second manager on the same data dir", func() {
		cmd := exec.Command(filepath.Join(binDir, "manager"), "--data-dir", dataDir,
			"--api-listen", "127.0.0.1:0", "--dashboard-listen", "127.0.0.1:0")
		out, err := cmd.CombinedOutput()
		Expect(err).To(HaveOccurred())
		Expect(string(out)).To(ContainSubstring("already using data dir"))
	})

	It("keeps every object across a SIGTERM and a restart", func() {
		before, err := m.clientset().BerthV1alpha1().Environments().List(ctx, metav1.ListOptions{})
		Expect(err).NotTo(HaveOccurred())
		Expect(before.Items).NotTo(BeEmpty())
		m.stop()

		m = startManager(dataDir)
		after, err := m.clientset().BerthV1alpha1().Environments().List(ctx, metav1.ListOptions{})
		Expect(err).NotTo(HaveOccurred())
		names := func(l []v1alpha1.Environment) []string {
			var n []string
			for _, e := range l {
				n = append(n, e.Name+"/"+string(e.UID))
			}
			return n
		}
		Expect(names(after.Items)).To(ConsistOf(names(before.Items)))
	})
})
