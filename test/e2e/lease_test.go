package e2e

import (
	"bufio"
	"context"
	"net"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"berth.dev/berth/apis/v1alpha1"
	"berth.dev/berth/controllers/plan"
	"berth.dev/berth/internal/lease"
)

// Session leases against the real manager and engine. Holders use
// internal/lease, as berth run and the Go package do: a separate process
// (leaseholder) killed -9, or this test process, where a cancelled context
// stops renewals without a release, as a crash would.
var _ = Describe("Session leases", Ordered, ContinueOnFailure, func() {
	const d = 5 * time.Second // the shortest lease validation allows
	var (
		envs        []string
		leaseholder string
	)

	BeforeAll(func() {
		ensureTestImage()
		DeferCleanup(func() { sweepLeftovers(envs) })
		leaseholder = filepath.Join(GinkgoT().TempDir(), "leaseholder")
		root, err := filepath.Abs("../..")
		Expect(err).NotTo(HaveOccurred())
		cmd := exec.Command("go", "build", "-o", leaseholder, "./test/e2e/leaseholder")
		cmd.Dir = root
		out, err := cmd.CombinedOutput()
		Expect(err).NotTo(HaveOccurred(), "build leaseholder: %s", out)
	})

	// holdFrom starts a leaseholder process on env and waits until it
	// holds the lease.
	holdFrom := func(m *managerProcess, env, holder string) *exec.Cmd {
		GinkgoHelper()
		cmd := exec.Command(leaseholder, "--kubeconfig", m.kubeconfig, "--env", env, "--holder", holder, "--duration", d.String())
		cmd.Stderr = GinkgoWriter
		stdout, err := cmd.StdoutPipe()
		Expect(err).NotTo(HaveOccurred())
		Expect(cmd.Start()).To(Succeed())
		DeferCleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
		line, err := bufio.NewReader(stdout).ReadString('\n')
		Expect(err).NotTo(HaveOccurred(), "leaseholder ended before holding")
		Expect(line).To(Equal("holding " + env + "\n"))
		return cmd
	}

	// applyHeld applies a one-service Environment bound to holder in the
	// create itself (lease.Bind), as berth run does.
	applyHeld := func(m *managerProcess, name, holder string) {
		GinkgoHelper()
		envs = append(envs, name)
		doc := environment(name, service("web", "--http-port=0"))
		doc["spec"].(M)["lease"] = M{"holderIdentity": holder, "durationSeconds": int(d / time.Second)}
		apply(m, GinkgoT().TempDir(), name+".yaml", doc)
		DeferCleanup(func() {
			if !m.exited() {
				_, _, _ = m.berth("", "delete", "environment", name, "--ignore-not-found", "--timeout=3m")
			}
		})
	}

	expectLeaseExpired := func(env *v1alpha1.Environment, holder string) {
		GinkgoHelper()
		Expect(env).NotTo(BeNil())
		var found *v1alpha1.EnvironmentEvent
		for i := range env.Status.Events {
			if env.Status.Events[i].Reason == plan.EventLeaseExpired {
				found = &env.Status.Events[i]
			}
		}
		Expect(found).NotTo(BeNil(), "no %s event in %v", plan.EventLeaseExpired, env.Status.Events)
		Expect(found.Type).To(Equal(plan.EventWarning))
		Expect(found.Message).To(HavePrefix("lease held by " + holder + " expired: not renewed for "))
	}

	It("tears an Environment down gracefully once its holder stops renewing, and keeps one that is renewed", func() {
		p := startProxy()
		m := startControllerManager("--docker-host", p.Host())
		cs := m.clientset()
		dead, alive := uniqueName("lease-dead"), uniqueName("lease-alive")
		applyHeld(m, dead, "holder-dead")
		applyHeld(m, alive, "holder-alive")
		m.waitReady(2*time.Minute, dead, alive)

		holderProc := holdFrom(m, dead, "holder-dead")
		hAlive, err := lease.Hold(context.Background(), cs, alive, "holder-alive", d)
		Expect(err).NotTo(HaveOccurred())
		defer func() { _ = hAlive.Stop() }()

		rec, err := cs.BerthV1alpha1().EnvironmentLeases().Get(context.Background(), dead, metav1.GetOptions{})
		Expect(err).NotTo(HaveOccurred())
		Expect(rec.Spec.HolderIdentity).To(Equal("holder-dead"))
		Expect(rec.OwnerReferences).To(HaveLen(1))
		Expect(rec.OwnerReferences[0].UID).To(Equal(m.getEnv(dead).UID))
		generation := m.getEnv(alive).Generation

		seen := watchLast(m, dead)
		By("the holder of " + dead + " is killed -9: its renewals stop, nothing is released")
		Expect(holderProc.Process.Signal(syscall.SIGKILL)).To(Succeed())
		m.waitGone(3*time.Minute, dead)
		expectLeaseExpired(seen(), "holder-dead")
		expectNothingLeft(m, dead)
		_, err = cs.BerthV1alpha1().EnvironmentLeases().Get(context.Background(), dead, metav1.GetOptions{})
		Expect(apierrors.IsNotFound(err)).To(BeTrue(), "the lease record went with its Environment: %v", err)
		Expect(forcedRemovals(p.Requests())).To(BeEmpty())

		By(alive + " was renewed all along: still there, Ready, its generation untouched by renewals")
		env := m.getEnv(alive)
		Expect(env.DeletionTimestamp).To(BeNil())
		Expect(isReady(env)).To(BeTrue(), describeStatus(env))
		Expect(env.Generation).To(Equal(generation))
		Expect(hAlive.Expired()).NotTo(BeClosed())
		rec, err = cs.BerthV1alpha1().EnvironmentLeases().Get(context.Background(), alive, metav1.GetOptions{})
		Expect(err).NotTo(HaveOccurred())
		Expect(rec.Spec.RenewTime.Time).To(BeTemporally(">", rec.Spec.AcquireTime.Time), "renewed after it was acquired")

		By("get shows the holder")
		Expect(m.mustBerth("get", "envlease", alive)).To(MatchRegexp(`(?m)^` + alive + `\s+holder-alive\s`))
		Expect(m.mustBerth("get", "env", alive, "-o", "wide")).To(MatchRegexp(`(?m)^` + alive + `\s.*\sholder-alive(\s|$)`))

		By("Stop releases: the Environment stays, unbound, and outlives the duration")
		Expect(hAlive.Stop()).To(Succeed())
		Expect(m.getEnv(alive).Spec.Lease).To(BeNil())
		_, err = cs.BerthV1alpha1().EnvironmentLeases().Get(context.Background(), alive, metav1.GetOptions{})
		Expect(apierrors.IsNotFound(err)).To(BeTrue(), "released record: %v", err)
		Consistently(func() *metav1.Time { return m.getEnv(alive).DeletionTimestamp }).
			WithTimeout(2 * d).WithPolling(500 * time.Millisecond).Should(BeNil())
	})

	It("expires an Environment whose holder died before its first renewal", func() {
		m := startControllerManager()
		name := uniqueName("lease-never")
		seen := watchLast(m, name)
		applyHeld(m, name, "holder-never")
		m.waitGone(3*time.Minute, name)
		expectLeaseExpired(seen(), "holder-never")
		expectNothingLeft(m, name)
	})

	It("does not count its own downtime: a manager killed -9 and restarted after longer than the duration keeps a lease renewed again after the restart", func() {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		Expect(err).NotTo(HaveOccurred())
		port := ln.Addr().(*net.TCPAddr).Port
		Expect(ln.Close()).To(Succeed())
		// The same API address before and after the restart, so the
		// holder's client reaches the new manager with nothing changed.
		apiArg := []string{"--api-listen", "127.0.0.1:" + strconv.Itoa(port)}
		dataDir := GinkgoT().TempDir()
		args := append([]string{"--default-memory-limit", "32Mi", "--default-memory-reservation", "16Mi"}, apiArg...)
		m := startManager(dataDir, args...)
		name := uniqueName("lease-restart")
		applyHeld(m, name, "holder-restart")
		m.waitReady(2*time.Minute, name)
		holderCtx, crash := context.WithCancel(context.Background())
		defer crash()
		h, err := lease.Hold(holderCtx, m.clientset(), name, "holder-restart", d)
		Expect(err).NotTo(HaveOccurred())

		m.kill()
		By("the manager stays down for three durations; the holder's renewals fail meanwhile")
		time.Sleep(3 * d)
		restarted := time.Now()
		m2 := startManager(dataDir, args...)
		Expect(m2.apiHost).To(HaveSuffix(":" + strconv.Itoa(port)))
		DeferCleanup(func() {
			if !m2.exited() {
				_, _, _ = m2.berth("", "delete", "environment", name, "--ignore-not-found", "--timeout=3m")
			}
		})
		cs := m2.clientset()
		By("the holder renews against the new manager; the lease, older than its duration by the wall clock, stands")
		Consistently(func(g Gomega) {
			env := m2.getEnv(name)
			g.Expect(env.DeletionTimestamp).To(BeNil(), describeStatus(env))
		}).WithTimeout(3 * d).WithPolling(250 * time.Millisecond).Should(Succeed())
		Expect(h.Expired()).NotTo(BeClosed())
		rec, err := cs.BerthV1alpha1().EnvironmentLeases().Get(context.Background(), name, metav1.GetOptions{})
		Expect(err).NotTo(HaveOccurred())
		Expect(rec.Spec.RenewTime.Time).To(BeTemporally(">", restarted), "renewed again after the restart")

		By("the holder crashes after all: the restarted manager expires the lease")
		seen := watchLast(m2, name)
		crash()
		m2.waitGone(3*time.Minute, name)
		expectLeaseExpired(seen(), "holder-restart")
		expectNothingLeft(m2, name)
		Expect(strings.Count(m2.output.String(), "lease expired: deleting the Environment")).To(Equal(1))
	})
})
