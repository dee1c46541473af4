package e2e

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// processRunning reports whether pid is a live process (a zombie left for
// a PID 1 that does not reap counts as gone).
func processRunning(pid int) bool {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return false
	}
	// pid (comm) STATE ...; comm may hold spaces, so cut at the last ')'.
	s := string(b)
	i := strings.LastIndexByte(s, ')')
	return i >= 0 && i+2 < len(s) && s[i+2] != 'Z'
}

var _ = Describe("berth run without a manager", func() {
	It("starts one in the background on the default data dir, which two concurrent runs share", func() {
		ensureTestImage()
		xdg := GinkgoT().TempDir()
		dataDir := filepath.Join(xdg, "berth")
		kubeconfig := filepath.Join(dataDir, "kubeconfig")
		env := withoutBerthVars("XDG_DATA_HOME="+xdg,
			"BERTH_MANAGER_FLAGS=--docker-address-pool "+e2eAddressPool+" --default-memory-limit 32Mi --default-memory-reservation 16Mi")
		file := writeFile(GinkgoT().TempDir(), "auto.yaml", render(runEnvDoc("auto")))
		// The manager berth starts is no child of this test: stop it at
		// the end whatever happened, gracefully, once its Environments
		// are gone.
		m := &managerProcess{dataDir: dataDir, kubeconfig: kubeconfig}
		var created []string
		DeferCleanup(func() {
			pid := lockHolderPid(dataDir)
			if pid == 0 || !processRunning(pid) {
				return
			}
			if _, err := os.Stat(kubeconfig); err == nil {
				ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
				defer cancel()
				list, err := m.clientset().BerthV1alpha1().Environments().List(ctx, metav1.ListOptions{})
				if err == nil {
					for _, e := range list.Items {
						_, _, _ = m.berth("", "delete", "env", e.Name, "--timeout=2m")
					}
				}
			}
			_ = syscall.Kill(pid, syscall.SIGTERM)
			Eventually(func() bool { return processRunning(pid) }).WithTimeout(time.Minute).Should(BeFalse(), "manager %d did not stop on SIGTERM", pid)
			sweepLeftovers(created)
		})

		results := make([]runResult, 2)
		var wg sync.WaitGroup
		for i := range results {
			wg.Add(1)
			go func() {
				defer GinkgoRecover()
				defer wg.Done()
				results[i] = berthRun(env, "-f", file, "--", "sh", "-c", `echo "$BERTH_KUBECONFIG $BERTH_WEB_APP_HTTP"`)
			}()
		}
		wg.Wait()
		starts := 0
		var startLine string
		for _, r := range results {
			created = append(created, createdName(r.stderr))
			Expect(r.code).To(Equal(0), r.stderr)
			Expect(strings.Fields(r.stdout)).To(HaveLen(2))
			Expect(strings.Fields(r.stdout)[0]).To(Equal(kubeconfig), "both runs use the default data dir's manager")
			if strings.Contains(r.stderr, "no manager was running: started") {
				starts++
				startLine = r.stderr
			}
		}
		Expect(starts).To(Equal(1), "exactly one run starts the manager:\n%s\n%s", results[0].stderr, results[1].stderr)

		// It says what it started and how to stop it, and that process
		// holds the data dir.
		match := regexp.MustCompile(`stop it with: kill (\d+) `).FindStringSubmatch(startLine)
		Expect(match).NotTo(BeNil(), startLine)
		pid, _ := strconv.Atoi(match[1])
		Expect(lockHolderPid(dataDir)).To(Equal(pid))
		Expect(processRunning(pid)).To(BeTrue())
		Expect(startLine).To(ContainSubstring(filepath.Join(dataDir, "manager.log")))
		for _, name := range created {
			expectEnvGone(m, name)
		}

		// A later run finds it and starts nothing.
		r := berthRun(env, "-f", file, "--", "true")
		created = append(created, createdName(r.stderr))
		Expect(r.code).To(Equal(0), r.stderr)
		Expect(r.stderr).NotTo(ContainSubstring("no manager was running"))
		Expect(lockHolderPid(dataDir)).To(Equal(pid))
		expectEnvGone(m, created[len(created)-1])

		// Stopped gracefully, it says so last.
		Expect(syscall.Kill(pid, syscall.SIGTERM)).To(Succeed())
		Eventually(func() bool { return processRunning(pid) }).WithTimeout(time.Minute).Should(BeFalse())
		log, err := os.ReadFile(filepath.Join(dataDir, "manager.log"))
		Expect(err).NotTo(HaveOccurred())
		Expect(string(log)).To(ContainSubstring(`msg="manager stopped"`))
	})
})

// lockHolderPid is the pid in the data dir's manager.lock, 0 when none.
func lockHolderPid(dataDir string) int {
	b, err := os.ReadFile(filepath.Join(dataDir, "manager.lock"))
	if err != nil {
		return 0
	}
	pid, _ := strconv.Atoi(strings.TrimSpace(string(b)))
	return pid
}
