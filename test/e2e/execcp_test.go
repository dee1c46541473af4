package e2e

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	"github.com/creack/pty"
	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	"golang.org/x/sys/unix"
	"k8s.io/client-go/rest"

	"berth.dev/berth/apis/v1alpha1"
)

// exitCode is the exit status of a finished berth, 0 on success.
func exitCode(err error) int {
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		return ee.ExitCode()
	}
	Expect(err).NotTo(HaveOccurred())
	return 0
}

// berth exec and berth cp go through the manager's API (environments/exec
// over the Kubernetes remotecommand protocol, environments/archive over
// Docker's archive API) into a FROM scratch testapp: no shell, no tar.
var _ = Describe("berth exec and berth cp", Ordered, func() {
	var (
		m    *managerProcess
		tmp  string
		name string
	)

	BeforeAll(func() {
		// The testapp subcommands these specs run (cat, print, tty, stat)
		// must be in the image: rebuild it when the source changed (a
		// no-op otherwise).
		root, _ := filepath.Abs("../..")
		build := exec.Command(filepath.Join(root, "hack", "build-images.sh"))
		build.Dir, build.Env = root, append(os.Environ(), "BERTH_DEBIAN_IMAGES=0")
		out, err := build.CombinedOutput()
		Expect(err).NotTo(HaveOccurred(), "hack/build-images.sh: %s", out)

		tmp = GinkgoT().TempDir()
		m = startControllerManager()
		name = fmt.Sprintf("execcp-%06x", rand.IntN(1<<24))
		DeferCleanup(func() { _, _, _ = m.berth("", "delete", "env", name, "--ignore-not-found", "--timeout=3m") })
		apply(m, tmp, "env.yaml", environment(name, service("app", "--http-port", "0")))
		m.waitReady(2*time.Minute, name)
	})

	It("propagates the exit code and keeps stdout and stderr apart", func() {
		for _, code := range []int{0, 3, 42} {
			out, errOut, err := m.berth("", "exec", name, "app", "--", "/testapp", "print", "--stdout", "to-out", "--stderr", "to-err", "--exit", fmt.Sprint(code))
			Expect(exitCode(err)).To(Equal(code))
			Expect(out).To(Equal("to-out"))
			Expect(errOut).To(Equal("to-err"))
		}
		// A program that does not exist: Docker's own code (126/127), not 0.
		_, _, err := m.berth("", "exec", name, "--", "/no-such-program")
		Expect(exitCode(err)).To(BeNumerically(">=", 126))
	})

	It("passes stdin with -i only", func() {
		input := strings.Repeat("a line for cat\n", 5000)
		out, _, err := m.berth(input, "exec", "-i", name, "app", "--", "/testapp", "cat")
		Expect(exitCode(err)).To(Equal(0))
		Expect(out).To(Equal(input))
		out, _, err = m.berth(input, "exec", name, "app", "--", "/testapp", "cat")
		Expect(exitCode(err)).To(Equal(0))
		Expect(out).To(BeEmpty(), "stdin reached the command without -i")
	})

	It("refuses bad arguments before sending anything", func() {
		_, errOut, err := m.berth("", "exec", name, "app", "/testapp", "cat")
		Expect(exitCode(err)).To(Equal(1))
		Expect(errOut).To(ContainSubstring(`"--"`))
		_, errOut, err = m.berth("", "exec", name, "nope", "--", "/testapp", "cat")
		Expect(exitCode(err)).To(Equal(1))
		Expect(errOut).To(ContainSubstring("has no service nope"))
		_, errOut, err = m.berth("", "exec", "--replica", "1", name, "app", "--", "/testapp", "cat")
		Expect(exitCode(err)).To(Equal(1))
		Expect(errOut).To(ContainSubstring("replica"))

		// Without the token: 401, nothing runs, nothing is copied. The CA
		// is the kubeconfig's; only the bearer token is left out.
		anon := rest.AnonymousClientConfig(m.restConfig())
		anonClient, err := rest.HTTPClientFor(anon)
		Expect(err).NotTo(HaveOccurred())
		for _, r := range []struct{ method, path string }{
			{"POST", "/exec?command=/testapp&command=print&command=--stdout&command=anon&stdout=true"},
			{"GET", "/archive?path=/testapp"},
			{"PUT", "/archive?path=/"},
		} {
			req, err := http.NewRequest(r.method, anon.Host+"/apis/berth.dev/v1alpha1/environments/"+name+r.path, strings.NewReader(""))
			Expect(err).NotTo(HaveOccurred())
			resp, err := anonClient.Do(req)
			Expect(err).NotTo(HaveOccurred())
			resp.Body.Close()
			Expect(resp.StatusCode).To(Equal(http.StatusUnauthorized), "%s %s", r.method, r.path)
		}

		// The API itself answers bad options with 422 and the field path.
		rc := m.clientset().BerthV1alpha1().RESTClient()
		res := rc.Post().Resource("environments").Name(name).SubResource("exec").Param("stdout", "true").Do(context.Background())
		var code int
		res.StatusCode(&code)
		Expect(code).To(Equal(422))
		Expect(res.Error()).To(MatchError(ContainSubstring("command: Required value")))
		res = rc.Get().Resource("environments").Name(name).SubResource("archive").Param("path", "etc/passwd").Do(context.Background())
		res.StatusCode(&code)
		Expect(code).To(Equal(422))
		Expect(res.Error()).To(MatchError(ContainSubstring(`path: Invalid value: "etc/passwd": must be absolute`)))
	})

	It("-t runs the command on a terminal of the local terminal's size; -it is interactive", func() {
		run := func(args ...string) (*exec.Cmd, *os.File) {
			GinkgoHelper()
			cmd := exec.Command(filepath.Join(binDir, "berth"), append([]string{"--kubeconfig", m.kubeconfig}, args...)...)
			tty, err := pty.StartWithSize(cmd, &pty.Winsize{Cols: 123, Rows: 45})
			Expect(err).NotTo(HaveOccurred())
			DeferCleanup(func() { _ = cmd.Process.Kill(); _ = tty.Close() })
			return cmd, tty
		}
		readAll := func(tty *os.File) *syncBuffer {
			buf := &syncBuffer{}
			go func() { _, _ = io.Copy(io.MultiWriter(buf, GinkgoWriter), tty) }()
			return buf
		}

		cmd, tty := run("exec", "-t", name, "app", "--", "/testapp", "tty")
		out := readAll(tty)
		Expect(cmd.Wait()).To(Succeed())
		Eventually(out.String, 10*time.Second).Should(ContainSubstring("tty 123x45"))

		// Without -t the same command sees no terminal, even from one.
		cmd, tty = run("exec", name, "app", "--", "/testapp", "tty")
		out = readAll(tty)
		Expect(exitCode(cmd.Wait())).To(Equal(1))
		Eventually(out.String, 10*time.Second).Should(ContainSubstring("not a tty"))

		cmd, tty = run("exec", "-it", name, "app", "--", "/testapp", "cat")
		out = readAll(tty)
		// Type only once berth has put the terminal in raw mode: before,
		// the local line discipline would echo and eat ^D itself.
		Eventually(func() bool {
			t, err := unix.IoctlGetTermios(int(tty.Fd()), unix.TCGETS)
			return err == nil && t.Lflag&unix.ICANON == 0
		}, 20*time.Second, 20*time.Millisecond).Should(BeTrue(), "berth never made the terminal raw")
		_, err := tty.Write([]byte("ping-through-the-terminal\r"))
		Expect(err).NotTo(HaveOccurred())
		// Twice: the remote terminal's echo, then cat's copy; a raw local
		// terminal echoes nothing itself.
		Eventually(func() int { return strings.Count(out.String(), "ping-through-the-terminal") }, 20*time.Second).Should(Equal(2))
		// ^D on the remote terminal ends cat's input: it exits 0, so does berth.
		_, err = tty.Write([]byte{4})
		Expect(err).NotTo(HaveOccurred())
		done := make(chan error, 1)
		go func() { done <- cmd.Wait() }()
		Eventually(done, 30*time.Second).Should(Receive(BeNil()))
	})

	It("copies a directory tree both ways with its modes, and single files", func() {
		src := filepath.Join(tmp, "tree")
		Expect(os.MkdirAll(filepath.Join(src, "sub"), 0o755)).To(Succeed())
		Expect(os.WriteFile(filepath.Join(src, "a.txt"), []byte("alpha\n"), 0o644)).To(Succeed())
		Expect(os.WriteFile(filepath.Join(src, "sub", "run.sh"), []byte("#!/bin/false\n"), 0o750)).To(Succeed())
		Expect(os.Chmod(filepath.Join(src, "sub", "run.sh"), 0o750)).To(Succeed())
		Expect(os.Chmod(filepath.Join(src, "sub"), 0o700)).To(Succeed())
		Expect(os.Symlink("a.txt", filepath.Join(src, "link"))).To(Succeed())

		// /data does not exist: the tree is copied as /data.
		m.mustBerth("cp", src, name+"/app:/data")
		out := m.mustBerth("exec", name, "app", "--", "/testapp", "stat", "/data", "/data/a.txt", "/data/sub", "/data/sub/run.sh", "/data/link")
		Expect(strings.Split(strings.TrimSpace(out), "\n")).To(Equal([]string{
			"d0755 4096 /data", "f0644 6 /data/a.txt", "d0700 4096 /data/sub", "f0750 13 /data/sub/run.sh", "l0777 5 /data/link",
		}))
		Expect(m.mustBerth("exec", name, "app", "--", "/testapp", "cat", "/data/sub/run.sh")).To(Equal("#!/bin/false\n"))
		// /data exists now: a second copy goes into it.
		m.mustBerth("cp", src, name+"/app:/data")
		Expect(m.mustBerth("exec", name, "app", "--", "/testapp", "cat", "/data/tree/a.txt")).To(Equal("alpha\n"))

		// Back out: as ./back (absent), then into ./back (present).
		back := filepath.Join(tmp, "back")
		m.mustBerth("cp", name+"/app:/data", back)
		for p, mode := range map[string]os.FileMode{"a.txt": 0o644, "sub": 0o700 | os.ModeDir, "sub/run.sh": 0o750, "tree/a.txt": 0o644} {
			fi, err := os.Lstat(filepath.Join(back, p))
			Expect(err).NotTo(HaveOccurred())
			Expect(fi.Mode()).To(Equal(mode), p)
		}
		Expect(os.Readlink(filepath.Join(back, "link"))).To(Equal("a.txt"))
		m.mustBerth("cp", name+"/app:/data/sub", back)
		Expect(os.ReadFile(filepath.Join(back, "sub", "run.sh"))).To(Equal([]byte("#!/bin/false\n")))

		// A single file, renamed on the way both ways.
		m.mustBerth("cp", filepath.Join(src, "a.txt"), name+"/app:/data/renamed.txt")
		Expect(m.mustBerth("exec", name, "app", "--", "/testapp", "cat", "/data/renamed.txt")).To(Equal("alpha\n"))
		m.mustBerth("cp", name+"/app:/testapp", filepath.Join(tmp, "testapp-binary"))
		fi, err := os.Stat(filepath.Join(tmp, "testapp-binary"))
		Expect(err).NotTo(HaveOccurred())
		Expect(fi.Size()).To(BeNumerically(">", 1<<20), "the testapp binary came out whole")

		// A missing path is a clear error, and nothing is written.
		_, errOut, err := m.berth("", "cp", name+"/app:/no/such", filepath.Join(tmp, "nothing"))
		Expect(exitCode(err)).To(Equal(1))
		Expect(errOut).To(ContainSubstring("/no/such: no such file or directory"))
		Expect(filepath.Join(tmp, "nothing")).NotTo(BeAnExistingFile())
	})

	It("lets go of the Docker session when berth goes away, even from a silent command", func() {
		streams := openLogStreams(m)
		before, err := streams()
		Expect(err).NotTo(HaveOccurred())
		// A second testapp server in the container: it prints its start
		// lines, then nothing, and never ends on its own.
		session := startBerth(m, "exec", name, "app", "--", "/testapp", "--http-port", "0")
		Eventually(session.out.String, 20*time.Second).Should(ContainSubstring("testapp: ready"))
		Expect(streams()).To(Equal(before+1), "one Docker stream for the exec session")
		Expect(session.cmd.Process.Kill()).To(Succeed())
		Eventually(session.done, 10*time.Second).Should(BeClosed())
		Eventually(streams, 20*time.Second).Should(Equal(before), "the manager's Docker session ends with its client")

		// Copies hold their stream only while they run.
		m.mustBerth("cp", name+"/app:/testapp", filepath.Join(tmp, "again"))
		Eventually(streams, 10*time.Second).Should(Equal(before))
	})

	It("reaches each replica with --replica", func() {
		reps := fmt.Sprintf("execcp-reps-%06x", rand.IntN(1<<24))
		DeferCleanup(func() { _, _, _ = m.berth("", "delete", "env", reps, "--ignore-not-found", "--timeout=3m") })
		web := service("web", "--http-port", "0")
		web["replicas"] = 2
		apply(m, tmp, "reps.yaml", environment(reps, web))
		m.waitReady(2*time.Minute, reps)
		// A file copied into replica 1 is there and not in replica 0.
		marker := filepath.Join(tmp, "marker")
		Expect(os.WriteFile(marker, []byte("replica one"), 0o644)).To(Succeed())
		m.mustBerth("cp", "--replica", "1", marker, reps+"/web:/marker")
		Expect(m.mustBerth("exec", "--replica", "1", reps, "web", "--", "/testapp", "cat", "/marker")).To(Equal("replica one"))
		_, _, err := m.berth("", "exec", "--replica", "0", reps, "web", "--", "/testapp", "stat", "/marker")
		Expect(exitCode(err)).To(Equal(1), "replica 0 got the copy meant for replica 1")
		m.mustBerth("cp", "--replica", "1", reps+"/web:/marker", filepath.Join(tmp, "marker-back"))
		Expect(os.ReadFile(filepath.Join(tmp, "marker-back"))).To(Equal([]byte("replica one")))
		_, errOut, err := m.berth("", "cp", "--replica", "0", reps+"/web:/marker", filepath.Join(tmp, "marker-0"))
		Expect(exitCode(err)).To(Equal(1))
		Expect(errOut).To(ContainSubstring("/marker: no such file or directory"))
		_, errOut, err = m.berth("", "exec", "--replica", "2", reps, "web", "--", "/testapp", "cat", "/marker")
		Expect(exitCode(err)).To(Equal(1))
		Expect(errOut).To(ContainSubstring("has 2 replica(s)"))
	})

	It("refuses a container with the service's labels that this manager does not own", func() {
		suffix := fmt.Sprintf("%06x", rand.IntN(1<<24))
		decoyEnv := "execcp-decoy-" + suffix
		// The service's image is absent: berth's own container never
		// exists, so only the decoy could answer.
		Expect(os.WriteFile(filepath.Join(tmp, "decoy.yaml"), []byte(fmt.Sprintf(`apiVersion: berth.dev/v1alpha1
kind: Environment
metadata:
  name: %s
spec:
  services:
  - name: app
    image: berth-e2e-decoy-absent:none
    imagePullPolicy: Never
`, decoyEnv)), 0o600)).To(Succeed())
		m.mustBerth("apply", "-f", filepath.Join(tmp, "decoy.yaml"))
		DeferCleanup(func() { _, _, _ = m.berth("", "delete", "env", decoyEnv, "--ignore-not-found", "--timeout=2m") })
		decoyID := dashDocker("run", "-d", "--name", "e2e-execcp-decoy-"+suffix, "--network", "none", "--memory", "32m",
			"--label", v1alpha1.LabelManagedBy+"=someone-else", "--label", v1alpha1.LabelEnvironment+"="+decoyEnv,
			"--label", v1alpha1.LabelService+"=app", "berth-testapp:dev", "--http-port", "0")
		DeferCleanup(func() {
			_, _ = dashExec("docker", "stop", "-t", "5", decoyID)
			_, _ = dashExec("docker", "rm", decoyID)
		})

		out, errOut, err := m.berth("", "exec", decoyEnv, "app", "--", "/testapp", "print", "--stdout", "ran-in-the-decoy")
		Expect(exitCode(err)).To(Equal(1))
		Expect(out).NotTo(ContainSubstring("ran-in-the-decoy"))
		Expect(errOut).To(ContainSubstring("no container"))

		planted := filepath.Join(tmp, "planted")
		Expect(os.WriteFile(planted, []byte("x"), 0o644)).To(Succeed())
		_, _, err = m.berth("", "cp", planted, decoyEnv+"/app:/planted")
		Expect(exitCode(err)).To(Equal(1))
		_, _, err = m.berth("", "cp", decoyEnv+"/app:/testapp", filepath.Join(tmp, "stolen"))
		Expect(exitCode(err)).To(Equal(1))
		Expect(filepath.Join(tmp, "stolen")).NotTo(BeAnExistingFile())

		var stat bytes.Buffer
		check := exec.Command("docker", "exec", decoyID, "/testapp", "stat", "/planted")
		check.Stdout, check.Stderr = &stat, &stat
		Expect(check.Run()).NotTo(Succeed(), "the refused copy reached the decoy: %s", stat.String())
		Expect(dashDocker("inspect", "-f", "{{.State.Running}}", decoyID)).To(Equal("true"))
	})
})
