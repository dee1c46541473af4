package e2e

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/moby/moby/client"
	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"berth.dev/berth/apis/v1alpha1"
	"berth.dev/berth/internal/dockertest"
)

// A second Docker host on this machine: a dockerd of the spec's own
// (internal/dockertest: its own socket, data root, bridge berthbrN,
// --iptables=false) and a manager serving only it. What that manager
// converges lands on the second daemon and nowhere else; the main daemon,
// its docker0 and a decoy there named and labelled like the spec's own
// container are untouched.
var _ = Describe("Second Docker daemon", Ordered, func() {
	var (
		d      *dockertest.Daemon
		m      *managerProcess
		dir    string
		env    string
		decoy  string
		decoyT string // the decoy's StartedAt
	)

	// onSecond lists the second daemon's containers of env.
	onSecond := func() []string {
		GinkgoHelper()
		ctx, cancel := dockerCtx()
		defer cancel()
		f := make(client.Filters)
		f.Add("label", v1alpha1.LabelEnvironment+"="+env)
		res, err := d.Client.ContainerList(ctx, client.ContainerListOptions{All: true, Filters: f})
		Expect(err).NotTo(HaveOccurred())
		var out []string
		for _, c := range res.Items {
			out = append(out, fmt.Sprintf("%s %s %s", c.Names, c.State, c.Labels[v1alpha1.LabelManagedBy]))
		}
		return out
	}

	BeforeAll(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
		defer cancel()
		ensureTestImage()
		env = uniqueName("host2")
		dir = GinkgoT().TempDir()

		var err error
		d, err = dockertest.Start(ctx, dockertest.Options{Logf: func(f string, a ...any) { fmt.Fprintf(GinkgoWriter, f+"\n", a...) }})
		if errors.Is(err, dockertest.ErrUnavailable) {
			Skip(err.Error())
		}
		Expect(err).NotTo(HaveOccurred())
		DeferCleanup(func() { Expect(d.Stop()).To(Succeed()) })

		// The decoy before the manager: it has the very name and labels berth gives the
		// spec's container, but on the main daemon and by another manager.
		decoy = v1alpha1.ContainerName(env, "web")
		runForeignDecoy(decoy, env)
		DeferCleanup(func() {
			_, _ = dockerCLI("stop", "--timeout", "5", decoy)
			_, _ = dockerCLI("rm", decoy)
		})
		decoyT = mustInspect(decoy).State.StartedAt

		begin := time.Now()
		Expect(d.LoadImages(ctx, testImage)).To(Succeed())
		dk, cd, _ := d.RSS()
		fmt.Fprintf(GinkgoWriter, "second daemon %s answering after %s (%s), %s loaded in %s, RSS dockerd %d KiB + containerd %d KiB\n",
			d.Host, d.Started.Round(time.Millisecond), d.StorageDriver, testImage, time.Since(begin).Round(time.Millisecond), dk, cd)

		m = launchManager(binDir, dir,
			"--docker-host", d.Host,
			"--docker-address-pool", d.AddressPool.String(),
			"--default-memory-limit", "32Mi", "--default-memory-reservation", "16Mi")
	})

	It("converges an Environment on the second daemon only", func() {
		apply(m, dir, "env.yaml", environment(env, service("web")))
		m.waitReady(2*time.Minute, env)

		Expect(onSecond()).To(ConsistOf(ContainSubstring("running " + m.identity())))
		Expect(containersLabelled(v1alpha1.LabelManagedBy+"="+m.identity())).To(BeEmpty(),
			"the manager of the second daemon made containers on the main one")
		Expect(networkExists(v1alpha1.NetworkName(env))).To(BeFalse(),
			"the Environment's network is on the main daemon")
		ctx, cancel := dockerCtx()
		defer cancel()
		_, err := d.Client.NetworkInspect(ctx, v1alpha1.NetworkName(env), client.NetworkInspectOptions{})
		Expect(err).NotTo(HaveOccurred(), "the Environment's network is not on the second daemon")
	})

	It("tears it down on the second daemon and leaves the main one's decoy alone", func() {
		m.mustBerth("delete", "environment", env, "--timeout=2m")
		m.waitGone(2*time.Minute, env)
		Eventually(onSecond).WithTimeout(time.Minute).Should(BeEmpty())
		Eventually(func() error {
			ctx, cancel := dockerCtx()
			defer cancel()
			_, err := d.Client.NetworkInspect(ctx, v1alpha1.NetworkName(env), client.NetworkInspectOptions{})
			return err
		}).WithTimeout(time.Minute).Should(HaveOccurred(), "the Environment's network is left on the second daemon")

		c := mustInspect(decoy)
		Expect(c.State.Running).To(BeTrue(), "decoy %s on the main daemon was stopped", decoy)
		Expect(c.State.StartedAt).To(Equal(decoyT), "decoy %s on the main daemon was restarted", decoy)
	})

	It("stops without touching docker0 or the main daemon", func() {
		m.stop()
		stopSecondDaemon(d)
		ctx, cancel := dockerCtx()
		defer cancel()
		_, err := dockerc().Ping(ctx, client.PingOptions{})
		Expect(err).NotTo(HaveOccurred(), "the main daemon does not answer")
		Expect(mustInspect(decoy).State.Running).To(BeTrue())
	})
})
