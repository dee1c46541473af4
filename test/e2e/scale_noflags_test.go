package e2e

import (
	"fmt"
	"net/netip"
	"regexp"
	"strings"
	"time"

	"github.com/moby/moby/client"
	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"berth.dev/berth/apis/v1alpha1"
)

// scaleNoFlagsEnvs is more Environments than Docker's default address
// pools hold networks (~31): on main, 10 of 40 stayed Pending for good.
const scaleNoFlagsEnvs = 40

var addressPoolLine = regexp.MustCompile(`(?m)^address pool: (\S+)$`)

// "Scale without flags" runs a manager of its own started without
// --docker-address-pool: berth's own default pool must carry it.
var _ = Describe("Scale without flags", Ordered, ContinueOnFailure, func() {
	var tmp string
	var envs []string
	var m *managerProcess
	var pool netip.Prefix
	BeforeAll(func() {
		ensureTestImage()
		tmp = GinkgoT().TempDir()
		DeferCleanup(func() { sweepLeftovers(envs) })
		m = launchManager(binDir, GinkgoT().TempDir(), "--default-memory-limit", "32Mi", "--default-memory-reservation", "16Mi")
		Eventually(m.output.String).WithTimeout(time.Minute).Should(MatchRegexp(addressPoolLine.String()), "the manager prints the pool it chose")
		var err error
		pool, err = netip.ParsePrefix(addressPoolLine.FindStringSubmatch(m.output.String())[1])
		Expect(err).NotTo(HaveOccurred())
		Expect(pool.Bits()).To(Equal(16), "a default pool is a /16")
	})

	It("makes 40 Environments applied at once Ready, each network a /24 of the printed pool, and tears them all down", func() {
		var names []string
		var docs []M
		for range scaleNoFlagsEnvs {
			name := uniqueName("noflags")
			names = append(names, name)
			docs = append(docs, environment(name, service("app")))
		}
		envs = append(envs, names...)
		DeferCleanup(func() {
			if !m.exited() {
				_, _, _ = m.berth("", append([]string{"delete", "environment", "--ignore-not-found", "--timeout=10m"}, names...)...)
			}
		})
		apply(m, tmp, "noflags.yaml", docs...)
		m.waitReady(10*time.Minute, names...)

		ctx, cancel := dockerCtx()
		defer cancel()
		seen := map[netip.Prefix]string{}
		for _, name := range names {
			n, err := dockerc().NetworkInspect(ctx, v1alpha1.NetworkName(name), client.NetworkInspectOptions{})
			Expect(err).NotTo(HaveOccurred())
			Expect(n.Network.IPAM.Config).To(HaveLen(1), "network of %s", name)
			subnet := n.Network.IPAM.Config[0].Subnet
			Expect(subnet.Bits()).To(Equal(24), "network of %s", name)
			Expect(pool.Contains(subnet.Addr())).To(BeTrue(), "subnet %s of %s is outside the pool %s", subnet, name, pool)
			Expect(seen).NotTo(HaveKey(subnet), "%s and %s share a subnet", seen[subnet], name)
			seen[subnet] = name
		}

		m.mustBerth(append([]string{"delete", "environment", "--timeout=10m"}, names...)...)
		expectNothingLeft(m, names...)
	})

	It("says in Ready, in get -o wide and in berth wait that an image is missing", func() {
		name := uniqueName("noimage")
		envs = append(envs, name)
		DeferCleanup(func() {
			if !m.exited() {
				_, _, _ = m.berth("", "delete", "environment", name, "--ignore-not-found", "--timeout=3m")
			}
		})
		image := "berth-missing-" + name + ":dev"
		svc := service("app")
		svc["image"] = image
		apply(m, tmp, name+".yaml", environment(name, svc))

		Eventually(func(g Gomega) {
			env := m.getEnv(name)
			c := condition(env, v1alpha1.ConditionReady)
			g.Expect(c).NotTo(BeNil())
			g.Expect(c.Status).To(Equal(metav1.ConditionFalse))
			g.Expect(c.Reason).To(Equal("ImagePullFailed"), describeStatus(env))
			g.Expect(c.Message).To(ContainSubstring(image), describeStatus(env))
		}).WithTimeout(2 * time.Minute).WithPolling(500 * time.Millisecond).Should(Succeed())

		wide := m.mustBerth("get", "env", name, "-o", "wide")
		Expect(wide).To(MatchRegexp(`(?m)^NAME\s.*\sREASON\s+MESSAGE\s`))
		Expect(wide).To(MatchRegexp(`(?m)^` + name + `\s.*\sImagePullFailed\s.*` + regexp.QuoteMeta(image)))

		_, errOut, err := m.berth("", "wait", "--for=condition=Ready", "env/"+name, "--timeout=5s")
		Expect(err).To(HaveOccurred(), "the wait cannot succeed")
		Expect(errOut).To(ContainSubstring(fmt.Sprintf("berth: environment/%s is not Ready: ImagePullFailed: ", name)))
		Expect(errOut).To(ContainSubstring("timed out"))
		Expect(strings.Count(errOut, image)).To(BeNumerically(">=", 1))

		m.mustBerth("delete", "environment", name, "--timeout=3m")
		expectNothingLeft(m, name)
	})

	It("says in Ready and Progressing that a network create keeps failing, and recovers when it can", func() {
		// A pool of one /24: the first Environment takes it, the second
		// cannot get a network until the first is gone.
		one := freeSubnet(netip.MustParsePrefix("10.198.0.0/16"))
		small := launchManager(binDir, GinkgoT().TempDir(), "--docker-address-pool", one.String(),
			"--default-memory-limit", "32Mi", "--default-memory-reservation", "16Mi")
		first, second := uniqueName("onepool"), uniqueName("onepool")
		envs = append(envs, first, second)
		DeferCleanup(func() {
			if !small.exited() {
				_, _, _ = small.berth("", "delete", "environment", first, second, "--ignore-not-found", "--timeout=3m")
			}
		})
		apply(small, tmp, first+".yaml", environment(first, service("app")))
		small.waitReady(3*time.Minute, first)
		apply(small, tmp, second+".yaml", environment(second, service("app")))
		Eventually(func(g Gomega) {
			env := small.getEnv(second)
			ready, progressing := condition(env, v1alpha1.ConditionReady), condition(env, v1alpha1.ConditionProgressing)
			g.Expect(ready).NotTo(BeNil())
			g.Expect(ready.Reason).To(Equal("NetworkCreateFailed"), describeStatus(env))
			g.Expect(ready.Message).To(ContainSubstring("has no free /24 left"), describeStatus(env))
			g.Expect(progressing.Status).To(Equal(metav1.ConditionTrue), describeStatus(env))
			g.Expect(progressing.Reason).To(Equal("NetworkCreateFailed"), describeStatus(env))
			g.Expect(env.Status.Phase).To(Equal(v1alpha1.PhasePending))
		}).WithTimeout(2 * time.Minute).WithPolling(500 * time.Millisecond).Should(Succeed())

		small.mustBerth("delete", "environment", first, "--timeout=3m")
		small.waitReady(5*time.Minute, second)
		small.mustBerth("delete", "environment", second, "--timeout=3m")
		expectNothingLeft(small, first, second)
	})
})

// freeSubnet is the first /24 of within that no Docker network uses now.
func freeSubnet(within netip.Prefix) netip.Prefix {
	GinkgoHelper()
	ctx, cancel := dockerCtx()
	defer cancel()
	res, err := dockerc().NetworkList(ctx, client.NetworkListOptions{})
	Expect(err).NotTo(HaveOccurred())
	base := within.Addr().As4()
	for i := 0; i < 256; i++ {
		cand := netip.PrefixFrom(netip.AddrFrom4([4]byte{base[0], base[1], byte(i), 0}), 24)
		used := false
		for _, n := range res.Items {
			for _, c := range n.IPAM.Config {
				used = used || c.Subnet.Overlaps(cand)
			}
		}
		if !used {
			return cand
		}
	}
	Fail("no free /24 in " + within.String())
	return netip.Prefix{}
}
