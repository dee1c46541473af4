package e2e

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	"github.com/onsi/gomega/gbytes"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/apimachinery/pkg/watch"

	"berth.dev/berth/apis/v1alpha1"
	"berth.dev/berth/controllers/plan"
)

// runResult is one finished `berth run`.
type runResult struct {
	stdout, stderr string
	code           int
}

// berthRunCmd is bin/berth run ARGS with env as its whole environment.
func berthRunCmd(env []string, args ...string) (*exec.Cmd, *gbytes.Buffer, *gbytes.Buffer) {
	cmd := exec.Command(filepath.Join(binDir, "berth"), append([]string{"run"}, args...)...)
	cmd.Env = env
	stdout, stderr := gbytes.NewBuffer(), gbytes.NewBuffer()
	cmd.Stdout = stdout
	cmd.Stderr = stderr
	return cmd, stdout, stderr
}

// berthRun runs `berth run ARGS` to its end.
func berthRun(env []string, args ...string) runResult {
	GinkgoHelper()
	cmd, stdout, stderr := berthRunCmd(env, args...)
	err := cmd.Run()
	fmt.Fprintf(GinkgoWriter, "$ berth run %s\n%s%s", strings.Join(args, " "), stdout.Contents(), stderr.Contents())
	code := 0
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		code = ee.ExitCode()
	} else {
		Expect(err).NotTo(HaveOccurred())
	}
	return runResult{stdout: string(stdout.Contents()), stderr: string(stderr.Contents()), code: code}
}

// withoutBerthVars is this process's environment without berth's own
// variables, so a spec decides which manager berth finds.
func withoutBerthVars(extra ...string) []string {
	var out []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "BERTH_") {
			out = append(out, kv)
		}
	}
	return append(out, extra...)
}

// variables reads KEY=VALUE lines (what `env` prints) into a map.
func variables(out string) map[string]string {
	vars := map[string]string{}
	for _, line := range strings.Split(out, "\n") {
		if k, v, ok := strings.Cut(line, "="); ok {
			vars[k] = v
		}
	}
	return vars
}

// createdName is the Environment name berth run reported.
func createdName(stderr string) string {
	GinkgoHelper()
	m := regexp.MustCompile(`berth: created Environment (\S+)`).FindStringSubmatch(stderr)
	Expect(m).NotTo(BeNil(), "no 'created Environment' line in:\n%s", stderr)
	return m[1]
}

// expectEnvGone checks the API has no Environment name and Docker nothing
// of it.
func expectEnvGone(m *managerProcess, name string) {
	GinkgoHelper()
	Eventually(func() error {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_, err := m.clientset().BerthV1alpha1().Environments().Get(ctx, name, metav1.GetOptions{})
		return err
	}).WithTimeout(2*time.Minute).WithPolling(500*time.Millisecond).Should(Satisfy(apierrors.IsNotFound), "Environment %s still exists", name)
	expectNothingLeft(m, name)
}

// watchLast watches the Environment name and returns the last version
// seen, which outlives its deletion (its events say why it went).
func watchLast(m *managerProcess, name string) func() *v1alpha1.Environment {
	GinkgoHelper()
	ctx, cancel := context.WithCancel(context.Background())
	DeferCleanup(cancel)
	w, err := m.clientset().BerthV1alpha1().Environments().Watch(ctx, metav1.ListOptions{
		FieldSelector: fields.OneTermEqualSelector("metadata.name", name).String(),
	})
	Expect(err).NotTo(HaveOccurred())
	var mu sync.Mutex
	var last *v1alpha1.Environment
	go func() {
		for ev := range w.ResultChan() {
			if env, ok := ev.Object.(*v1alpha1.Environment); ok && ev.Type != watch.Error {
				mu.Lock()
				last = env
				mu.Unlock()
			}
		}
	}()
	return func() *v1alpha1.Environment {
		mu.Lock()
		defer mu.Unlock()
		return last
	}
}

// runEnvDoc is the Environment the specs run: web-app (a dash, to check
// the variable names) with a named HTTP port and an unnamed TCP one,
// both published on free ports.
func runEnvDoc(name string, webArgs ...string) M {
	web := withHTTPProbe(service("web-app", append([]string{"--tcp-port=9000"}, webArgs...)...), 30)
	web["ports"] = []M{
		{"name": "http", "containerPort": 8080, "hostPort": 0},
		{"containerPort": 9000, "hostPort": 0},
	}
	return environment(name, web)
}

var _ = Describe("berth run", Ordered, ContinueOnFailure, func() {
	var (
		m       *managerProcess
		dir     string
		envFile string
		checker string
		env     []string
		created []string
	)

	BeforeAll(func() {
		m = startControllerManager()
		dir = GinkgoT().TempDir()
		envFile = writeFile(dir, "runenv.yaml", render(runEnvDoc("runenv")))
		env = withoutBerthVars("BERTH_KUBECONFIG=" + m.kubeconfig)
		DeferCleanup(func() { sweepLeftovers(created) })
		// The testapp binary built for this host is CMD's client: it
		// dials a published port as any test would (no curl needed).
		checker = filepath.Join(dir, "testapp")
		build := exec.Command("go", "build", "-o", checker, "./hack/testapp")
		build.Dir, _ = filepath.Abs("../..")
		out, err := build.CombinedOutput()
		Expect(err).NotTo(HaveOccurred(), "build testapp: %s", out)
	})

	It("runs a command against the demo sample and leaves nothing behind", func() {
		demo, err := filepath.Abs("../../config/samples/demo.yaml")
		Expect(err).NotTo(HaveOccurred())
		r := berthRun(env, "-f", demo, "--", "sh", "-c", checker+` check --http "http://$BERTH_API_HTTP/healthz"`)
		name := createdName(r.stderr)
		created = append(created, name)
		Expect(r.code).To(Equal(0), r.stderr)
		Expect(name).To(MatchRegexp(`^demo-[a-z0-9]{5}$`))
		expectEnvGone(m, name)
	})

	It("exports every published endpoint to CMD, then tears down", func() {
		r := berthRun(env, "-f", envFile, "--", "env")
		Expect(r.code).To(Equal(0), r.stderr)
		name := createdName(r.stderr)
		created = append(created, name)
		vars := variables(r.stdout)
		Expect(name).To(MatchRegexp(`^runenv-[a-z0-9]{5}$`), "a unique name from the Environment's")
		Expect(vars).To(HaveKeyWithValue("BERTH_ENV", name))
		Expect(vars).To(HaveKeyWithValue("BERTH_KUBECONFIG", m.kubeconfig))
		for _, port := range []string{"BERTH_WEB_APP_HTTP", "BERTH_WEB_APP_9000"} {
			Expect(vars).To(HaveKeyWithValue(port, MatchRegexp(`^127\.0\.0\.1:[0-9]+$`)), "variables: %v", vars)
			Expect(vars).To(HaveKeyWithValue(port+"_HOST", "127.0.0.1"))
			Expect(vars[port]).To(Equal("127.0.0.1:" + vars[port+"_PORT"]))
		}
		Expect(vars["BERTH_WEB_APP_HTTP"]).NotTo(Equal(vars["BERTH_WEB_APP_9000"]))
		Expect(r.stderr).To(ContainSubstring(name + " is Ready"))
		Expect(r.stderr).To(ContainSubstring(name + " torn down"))
		expectEnvGone(m, name)
	})

	It("lets CMD reach a service through its variable", func() {
		r := berthRun(env, "-f", envFile, "--", "sh", "-c", checker+` check --http "http://$BERTH_WEB_APP_HTTP/healthz" && `+checker+` check --tcp "$BERTH_WEB_APP_9000"`)
		created = append(created, createdName(r.stderr))
		Expect(r.code).To(Equal(0), r.stderr)
		// And a port nothing listens on fails the same check: the
		// variable, not luck, made the first one pass.
		r = berthRun(env, "-f", envFile, "--", "sh", "-c", checker+` check --timeout 2s --http "http://$BERTH_WEB_APP_HTTP_HOST:1/healthz"`)
		created = append(created, createdName(r.stderr))
		Expect(r.code).To(Equal(1), r.stderr)
	})

	It("exits with CMD's code and prints each service's log tail when CMD fails", func() {
		r := berthRun(env, "-f", envFile, "--log-lines", "5", "--", "sh", "-c", "echo from-cmd >&2; exit 3")
		name := createdName(r.stderr)
		created = append(created, name)
		Expect(r.code).To(Equal(3), r.stderr)
		Expect(r.stderr).To(ContainSubstring("from-cmd"))
		Expect(r.stderr).To(ContainSubstring("sh exited with code 3"))
		Expect(r.stderr).To(ContainSubstring("---- last 5 lines of " + name + "/web-app ----"))
		Expect(r.stderr).To(MatchRegexp(`(?s)last 5 lines of ` + name + `/web-app ----\n.*testapp: ready http=`))
		expectEnvGone(m, name)
	})

	It("keeps the Environment with --keep, without a lease", func() {
		r := berthRun(env, "-f", envFile, "--name", "runenv-kept", "--keep", "--", "true")
		Expect(r.code).To(Equal(0), r.stderr)
		created = append(created, "runenv-kept")
		Expect(r.stderr).To(ContainSubstring("kept Environment runenv-kept"))
		got := m.getEnv("runenv-kept")
		Expect(isReady(got)).To(BeTrue(), describeStatus(got))
		Expect(got.Spec.Lease).To(BeNil(), "--keep releases the lease, or the manager would delete the Environment")
		m.mustBerth("delete", "env", "runenv-kept")
		expectEnvGone(m, "runenv-kept")
	})

	It("refuses a name that is taken, touching nothing", func() {
		r := berthRun(env, "-f", envFile, "--name", "runenv-taken", "--keep", "--", "true")
		Expect(r.code).To(Equal(0), r.stderr)
		created = append(created, "runenv-taken")
		before := m.getEnv("runenv-taken")
		r = berthRun(env, "-f", envFile, "--name", "runenv-taken", "--", "true")
		Expect(r.code).To(Equal(125), r.stderr)
		Expect(r.stderr).To(ContainSubstring("already exists"))
		after := m.getEnv("runenv-taken")
		Expect(after.UID).To(Equal(before.UID))
		Expect(after.DeletionTimestamp).To(BeNil(), "the failed run must not tear down an Environment it did not create")
		m.mustBerth("delete", "env", "runenv-taken")
	})

	It("gives two parallel runs of one file two Environments", func() {
		var wg sync.WaitGroup
		results := make([]runResult, 2)
		for i := range results {
			wg.Add(1)
			go func() {
				defer GinkgoRecover()
				defer wg.Done()
				results[i] = berthRun(env, "-f", envFile, "--", "sh", "-c", `echo "$BERTH_ENV $BERTH_WEB_APP_HTTP"`)
			}()
		}
		wg.Wait()
		var names, addrs []string
		for _, r := range results {
			Expect(r.code).To(Equal(0), r.stderr)
			f := strings.Fields(r.stdout)
			Expect(f).To(HaveLen(2), r.stdout)
			names, addrs = append(names, f[0]), append(addrs, f[1])
		}
		created = append(created, names...)
		Expect(names[0]).NotTo(Equal(names[1]))
		Expect(addrs[0]).NotTo(Equal(addrs[1]))
		for _, n := range names {
			expectEnvGone(m, n)
		}
	})

	It("tears down and exits 143 on SIGTERM while CMD runs, passing the signal to CMD", func() {
		cmd, stdout, stderr := berthRunCmd(env, "-f", envFile, "--", "sh", "-c",
			`trap 'echo cmd-got-term; exit 0' TERM; echo cmd-started; while :; do sleep 0.2; done`)
		Expect(cmd.Start()).To(Succeed())
		done := make(chan error, 1)
		go func() { done <- cmd.Wait() }()
		Eventually(stdout).WithTimeout(3 * time.Minute).Should(gbytes.Say("cmd-started"))
		name := createdName(string(stderr.Contents()))
		created = append(created, name)
		Expect(cmd.Process.Signal(syscall.SIGTERM)).To(Succeed())
		var err error
		Eventually(done).WithTimeout(3 * time.Minute).Should(Receive(&err))
		fmt.Fprintf(GinkgoWriter, "%s%s", stdout.Contents(), stderr.Contents())
		var ee *exec.ExitError
		Expect(errors.As(err, &ee)).To(BeTrue(), "berth run exited 0 after SIGTERM")
		Expect(ee.ExitCode()).To(Equal(143))
		Expect(string(stdout.Contents())).To(ContainSubstring("cmd-got-term"))
		Expect(string(stderr.Contents())).To(ContainSubstring(name + " torn down"))
		expectEnvGone(m, name)
	})

	It("leaves nothing behind once its lease runs out after a kill -9", func() {
		cmd, stdout, stderr := berthRunCmd(env, "-f", envFile, "--lease-duration", "5s", "--", "sh", "-c", `echo cmd-started $$; exec sleep 600`)
		Expect(cmd.Start()).To(Succeed())
		done := make(chan error, 1)
		go func() { done <- cmd.Wait() }()
		Eventually(stdout).WithTimeout(3 * time.Minute).Should(gbytes.Say(`cmd-started (\d+)`))
		var cmdPid int
		_, err := fmt.Sscanf(strings.TrimSpace(string(stdout.Contents())), "cmd-started %d", &cmdPid)
		Expect(err).NotTo(HaveOccurred())
		name := createdName(string(stderr.Contents()))
		created = append(created, name)
		Expect(m.getEnv(name).Spec.Lease).NotTo(BeNil())
		last := watchLast(m, name)
		Expect(cmd.Process.Signal(syscall.SIGKILL)).To(Succeed())
		// The orphan holds berth's output pipes open; end it too, so
		// Wait returns (the lease does not care either way).
		_ = syscall.Kill(cmdPid, syscall.SIGKILL)
		<-done
		expectEnvGone(m, name)
		// The manager says why it went: the lease, not someone's delete.
		Eventually(func() []string {
			var reasons []string
			if env := last(); env != nil {
				for _, e := range env.Status.Events {
					reasons = append(reasons, e.Reason)
				}
			}
			return reasons
		}).Should(ContainElement(plan.EventLeaseExpired))
	})

	It("does not run CMD when the Environment fails, and says why", func() {
		marker := filepath.Join(dir, "cmd-ran")
		// An image that is absent and may not be pulled: the manager
		// calls that Failed at once (no retry can fix it).
		failing := environment("runfail", M{
			"name": "job", "image": "berth-e2e-absent:never", "imagePullPolicy": "Never",
			"terminationGracePeriodSeconds": 1,
		})
		file := writeFile(dir, "runfail.yaml", render(failing))
		r := berthRun(env, "-f", file, "--", "touch", marker)
		name := createdName(r.stderr)
		created = append(created, name)
		Expect(r.code).To(Equal(125), r.stderr)
		Expect(r.stderr).To(ContainSubstring("Environment " + name + " failed"))
		Expect(r.stderr).To(ContainSubstring("waiting on job"))
		Expect(r.stderr).To(ContainSubstring("---- last 50 lines of " + name + "/job ----"))
		Expect(marker).NotTo(BeAnExistingFile())
		expectEnvGone(m, name)
	})
})
