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
})
