package e2e

import (
	"context"
	"os"
	"strings"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"

	"berth.dev/berth/apis/v1alpha1"
)

// Warm pools against the real manager and engine: a pool of 2, three
// claims (two bind at once, the third converges from the template), the
// refill, logs and exec following the binding, teardown through the
// claimant, and kill -9 of the manager between the binding and the
// unpause.
var _ = Describe("Warm pools", Ordered, ContinueOnFailure, func() {
	var (
		m       *managerProcess
		dataDir string
		pool    string
		claims  []string
		seen    = map[string]bool{} // every standby name met, for the sweep
	)

	template := func() M {
		web := withHTTPProbe(service("web", "--http-port=8080"), 3)
		web["ports"] = []M{{"name": "http", "containerPort": 8080, "hostPort": 0}}
		return M{"services": []M{web, service("worker")}}
	}

	standbys := func() []v1alpha1.Environment {
		GinkgoHelper()
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		list, err := m.clientset().BerthV1alpha1().Environments().List(ctx, metav1.ListOptions{
			LabelSelector: labels.Set{v1alpha1.LabelPool: pool}.String()})
		Expect(err).NotTo(HaveOccurred())
		for _, e := range list.Items {
			seen[e.Name] = true
		}
		return list.Items
	}

	getPool := func(g Gomega) *v1alpha1.EnvironmentPool {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		p, err := m.clientset().BerthV1alpha1().EnvironmentPools().Get(ctx, pool, metav1.GetOptions{})
		g.Expect(err).NotTo(HaveOccurred())
		return p
	}

	waitAvailable := func(n int32) {
		GinkgoHelper()
		Eventually(func(g Gomega) {
			g.Expect(getPool(g).Status.Available).To(Equal(n))
		}).WithTimeout(3 * time.Minute).WithPolling(500 * time.Millisecond).Should(Succeed())
	}

	claimDoc := func(name string) M {
		return M{"apiVersion": "berth.dev/v1alpha1", "kind": "Environment", "metadata": M{"name": name},
			"spec": M{"poolRef": M{"name": pool}}}
	}

	waitReady := func(name string) *v1alpha1.Environment {
		GinkgoHelper()
		var env *v1alpha1.Environment
		Eventually(func(g Gomega) {
			env = m.getEnv(name)
			c := condition(env, v1alpha1.ConditionReady)
			g.Expect(c).NotTo(BeNil())
			g.Expect(c.Status).To(Equal(metav1.ConditionTrue), "%s: %s", c.Reason, c.Message)
			g.Expect(env.Status.ObservedGeneration).To(Equal(env.Generation))
		}).WithTimeout(3 * time.Minute).WithPolling(200 * time.Millisecond).Should(Succeed())
		return env
	}

	// pausedOf says, for each container of env, whether Docker has it paused.
	pausedOf := func(env string) map[string]bool {
		GinkgoHelper()
		out := map[string]bool{}
		for _, c := range envContainers(env, m.identity()) {
			out[strings.TrimPrefix(c.Names[0], "/")] = c.State == "paused"
		}
		return out
	}

	BeforeAll(func() {
		dataDir = GinkgoT().TempDir()
		ensureTestImage()
		m = startManager(dataDir, "--default-memory-limit", "32Mi", "--default-memory-reservation", "16Mi")
		pool = uniqueName("pool")
		DeferCleanup(func() {
			if !m.exited() {
				for _, c := range claims {
					_, _, _ = m.berth("", "delete", "environment", c, "--ignore-not-found", "--timeout=3m")
				}
				_, _, _ = m.berth("", "delete", "environmentpool", pool, "--ignore-not-found")
				Eventually(func() []v1alpha1.Environment { return standbys() }).WithTimeout(3 * time.Minute).Should(BeEmpty())
			}
			var names []string
			for n := range seen {
				names = append(names, n)
			}
			sweepLeftovers(append(names, claims...))
		})
	})

	It("refuses a bad pool and a bad claim with the field's path", func() {
		dir := GinkgoT().TempDir()
		bad := M{"apiVersion": "berth.dev/v1alpha1", "kind": "EnvironmentPool", "metadata": M{"name": pool},
			"spec": M{"size": 99, "standby": "Frozen", "template": template()}}
		_, errOut, err := m.berth("", "apply", "-f", writeFile(dir, "bad.yaml", render(bad)))
		Expect(err).To(HaveOccurred())
		Expect(errOut).To(ContainSubstring("spec.size"))
		Expect(errOut).To(ContainSubstring("spec.standby"))
		withServices := claimDoc("bad-claim")
		withServices["spec"].(M)["services"] = []M{service("web")}
		_, errOut, err = m.berth("", "apply", "-f", writeFile(dir, "claim.yaml", render(withServices)))
		Expect(err).To(HaveOccurred())
		Expect(errOut).To(ContainSubstring("spec.services"))
	})

	It("keeps two standbys converged and paused", func() {
		doc := M{"apiVersion": "berth.dev/v1alpha1", "kind": "EnvironmentPool", "metadata": M{"name": pool},
			"spec": M{"size": 2, "template": template()}}
		apply(m, GinkgoT().TempDir(), "pool.yaml", doc)
		waitAvailable(2)
		sbs := standbys()
		Expect(sbs).To(HaveLen(2))
		for _, sb := range sbs {
			Expect(sb.Name).To(HavePrefix(pool + "-"))
			p := pausedOf(sb.Name)
			Expect(p).To(HaveLen(2), "containers of standby %s", sb.Name)
			for name, paused := range p {
				Expect(paused).To(BeTrue(), "container %s of standby %s is not paused", name, sb.Name)
			}
		}
		out := m.mustBerth("get", "envpool", pool)
		Expect(out).To(ContainSubstring(pool))
	})

	It("binds two claims at once and converges the third from the template", func() {
		before := map[string]bool{}
		for _, sb := range standbys() {
			before[sb.Name] = true
		}
		claims = []string{uniqueName("claim-a"), uniqueName("claim-b"), uniqueName("claim-c")}
		var docs []M
		for _, c := range claims {
			docs = append(docs, claimDoc(c))
		}
		apply(m, GinkgoT().TempDir(), "claims.yaml", docs...)
		bound := map[string]string{} // claimant -> standby
		var ordinary []string
		for _, c := range claims {
			env := waitReady(c)
			if env.Spec.PoolRef.Standby != "" {
				Expect(env.Spec.Services).To(BeEmpty())
				bound[c] = env.Spec.PoolRef.Standby
			} else {
				Expect(env.Spec.Services).To(HaveLen(2), "a claimant with no standby copies the template")
				ordinary = append(ordinary, c)
			}
		}
		Expect(bound).To(HaveLen(2), "two claims bind")
		Expect(ordinary).To(HaveLen(1), "the third converges on its own")
		standbyOf := map[string]string{}
		for c, sb := range bound {
			Expect(before).To(HaveKey(sb), "claim %s bound to a standby that was not waiting", c)
			Expect(standbyOf).NotTo(HaveKey(sb), "standby %s bound twice", sb)
			standbyOf[sb] = c
			s := m.getEnv(sb)
			Expect(s.Spec.Standby.ClaimRef).NotTo(BeNil())
			Expect(s.Spec.Standby.ClaimRef.Name).To(Equal(c))
			// Docker names and labels stay the standby's, now running.
			for name, paused := range pausedOf(sb) {
				Expect(name).To(HavePrefix("berth_" + sb + "_"))
				Expect(paused).To(BeFalse(), "container %s of a claimed standby is still paused", name)
			}
			Expect(envContainers(c, m.identity())).To(BeEmpty(), "a bound claimant has containers of its own")
			env := m.getEnv(c)
			Expect(serviceStatus(env, "web")).NotTo(BeNil())
			Expect(serviceStatus(env, "web").Ports).NotTo(BeEmpty(), "the claimant mirrors the standby's endpoints")
			Expect(serviceStatus(env, "web").Ports[0].HostPort).NotTo(BeZero(), "the claimant mirrors the published port")
			// logs and exec follow the binding.
			out := m.mustBerth("exec", c, "web", "--", "/testapp", "print", "--stdout", "through-the-binding")
			Expect(out).To(ContainSubstring("through-the-binding"))
			desc := m.mustBerth("describe", "env", c)
			Expect(desc).To(ContainSubstring("bound to standby " + sb))
			Expect(desc).To(ContainSubstring("worker"))
			logs := m.mustBerth("logs", c, "web")
			Expect(logs).To(ContainSubstring("testapp: ready"))
			// The dashboard follows the binding too: the claimant's page
			// lists the standby's services, its log pane streams theirs.
			code, page, _ := dashGet(m, "/env/"+c)
			Expect(code).To(Equal(200))
			Expect(page).To(ContainSubstring("worker"))
			Expect(page).To(ContainSubstring("bound to standby " + sb))
			evs := readEvents(m, "/env/"+c+"/logs/web?follow=0&tail=20", 30*time.Second, func(e sseEvent) bool { return e.name == "end" })
			var streamed []string
			for _, e := range evs {
				streamed = append(streamed, e.data)
			}
			Expect(strings.Join(streamed, "\n")).To(ContainSubstring("testapp: ready"))
		}
		Expect(pausedOf(ordinary[0])).To(HaveLen(2), "the third claimant's own containers")
	})

	It("refills the pool in the background", func() {
		waitAvailable(2)
		unbound := 0
		for _, sb := range standbys() {
			if sb.Spec.Standby.ClaimRef == nil {
				unbound++
			}
		}
		Expect(unbound).To(Equal(2))
	})

	It("tears the standby down with its claimant", func() {
		env := m.getEnv(claims[0])
		sb := env.Spec.PoolRef.Standby
		if sb == "" {
			env = m.getEnv(claims[1])
			sb = env.Spec.PoolRef.Standby
		}
		m.mustBerth("delete", "environment", env.Name, "--timeout=3m")
		expectNothingLeft(m, sb)
		Eventually(func() bool {
			for _, s := range standbys() {
				if s.Name == sb {
					return true
				}
			}
			return false
		}).WithTimeout(time.Minute).Should(BeFalse(), "standby %s outlived its claimant", sb)
	})

	It("berth run --pool claims a standby and tears it down after the command", func() {
		waitAvailable(2)
		before := map[string]bool{} // the two waiting standbys
		for _, sb := range standbys() {
			if sb.Spec.Standby.ClaimRef == nil {
				before[sb.Name] = true
			}
		}
		Expect(before).To(HaveLen(2))
		out, errOut, err := m.berth("", "run", "--pool", pool, "--", "sh", "-c", `test -n "$BERTH_WEB_HTTP" && echo "env=$BERTH_ENV"`)
		Expect(err).NotTo(HaveOccurred(), "berth run --pool: %s", errOut)
		Expect(out).To(ContainSubstring("env=" + pool))
		name := strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(out), "env="))
		Expect(errOut).To(ContainSubstring(name + " is Ready"))
		// The claimed standby went with the run's Environment.
		Eventually(func() int {
			n := 0
			for _, sb := range standbys() {
				if before[sb.Name] {
					n++
				}
			}
			return n
		}).WithTimeout(2*time.Minute).Should(Equal(1), "one of the two standbys was claimed and torn down")
	})

	It("replaces unbound standbys when the template changes", func() {
		waitAvailable(2)
		before := map[string]bool{}
		for _, sb := range standbys() {
			if sb.Spec.Standby.ClaimRef == nil {
				before[sb.Name] = true
			}
		}
		t := template()
		t["services"].([]M)[1]["env"] = []M{{"name": "GENERATION", "value": "2"}}
		apply(m, GinkgoT().TempDir(), "pool.yaml", M{"apiVersion": "berth.dev/v1alpha1", "kind": "EnvironmentPool",
			"metadata": M{"name": pool}, "spec": M{"size": 2, "template": t}})
		Eventually(func(g Gomega) {
			g.Expect(getPool(g).Status.Available).To(Equal(int32(2)))
			for _, sb := range standbys() {
				if sb.Spec.Standby.ClaimRef == nil && sb.DeletionTimestamp == nil {
					g.Expect(before).NotTo(HaveKey(sb.Name), "standby of the old template still waiting")
					g.Expect(sb.Spec.Services[1].Env).To(HaveLen(1))
				}
			}
		}).WithTimeout(3 * time.Minute).WithPolling(500 * time.Millisecond).Should(Succeed())
		for old := range before {
			expectNothingLeft(m, old)
		}
	})

	It("survives kill -9 between the binding and the unpause", func() {
		waitAvailable(2)
		m.stop()
		Expect(os.Setenv("BERTH_TEST_HOLD_BEFORE_UNPAUSE", "1")).To(Succeed())
		m = startManager(dataDir, "--default-memory-limit", "32Mi", "--default-memory-reservation", "16Mi")
		Expect(os.Unsetenv("BERTH_TEST_HOLD_BEFORE_UNPAUSE")).To(Succeed())
		c := uniqueName("claim-k")
		claims = append(claims, c)
		apply(m, GinkgoT().TempDir(), "claim-k.yaml", claimDoc(c))
		var sb string
		Eventually(func(g Gomega) {
			env := m.getEnv(c)
			g.Expect(env.Spec.PoolRef.Standby).NotTo(BeEmpty())
			sb = env.Spec.PoolRef.Standby
		}).WithTimeout(time.Minute).Should(Succeed())
		Expect(m.getEnv(sb).Spec.Standby.ClaimRef.Name).To(Equal(c))
		Consistently(func() map[string]bool { return pausedOf(sb) }).WithTimeout(2*time.Second).
			Should(And(HaveLen(2), Not(ContainElement(false))), "the hook holds the unpause")
		Expect(condition(m.getEnv(c), v1alpha1.ConditionReady).Status).To(Equal(metav1.ConditionFalse), "Ready before the unpause")
		m.kill()

		m = startManager(dataDir, "--default-memory-limit", "32Mi", "--default-memory-reservation", "16Mi")
		env := waitReady(c)
		Expect(env.Spec.PoolRef.Standby).To(Equal(sb))
		// Exactly one claimant per standby, both ways; nothing duplicated.
		named := map[string]string{}
		for _, s := range standbys() {
			if ref := s.Spec.Standby.ClaimRef; ref != nil {
				Expect(named).NotTo(HaveKey(ref.Name), "claimant %s named by two standbys", ref.Name)
				named[ref.Name] = s.Name
				Expect(m.getEnv(ref.Name).Spec.PoolRef.Standby).To(Equal(s.Name), "standby %s names %s, which does not name it back", s.Name, ref.Name)
			}
		}
		Expect(named[c]).To(Equal(sb))
		Expect(pausedOf(sb)).To(And(HaveLen(2), Not(ContainElement(true))))
		Expect(envContainers(c, m.identity())).To(BeEmpty())
		waitAvailable(2)
	})
})
