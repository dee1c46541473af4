package e2e

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"berth.dev/berth/apis/v1alpha1"
)

// legacyNamingCommit is the last commit whose berth named Docker objects
// berth-<env>[-<name>], names two Environments could share.
const legacyNamingCommit = "46a5b2b"

// volumeService is a testapp service that mounts volume at /data and
// leaves a file named marker there when it starts.
func volumeService(name, volume, marker string) M {
	s := service(name, "--touch-file=/data/"+marker)
	s["volumeMounts"] = []M{{"name": volume, "mountPath": "/data"}}
	return s
}

func withVolumes(env M, names ...string) M {
	var vols []M
	for _, n := range names {
		vols = append(vols, M{"name": n})
	}
	env["spec"].(M)["volumes"] = vols
	return env
}

// hasFile reports whether the container sees path (testapp's own check,
// the image has no shell).
func hasFile(container, path string) bool {
	_, err := dockerCLI("exec", container, "/testapp", "check", "--file", path)
	return err == nil
}

// mountedVolumes are the named volumes a container mounts.
func mountedVolumes(id string) []string {
	GinkgoHelper()
	var out []string
	for _, m := range mustInspect(id).Mounts {
		if m.Name != "" {
			out = append(out, m.Name)
		}
	}
	return out
}

var _ = Describe("Docker names", Ordered, ContinueOnFailure, func() {
	var tmp string
	var envs []string
	BeforeAll(func() {
		ensureTestImage()
		tmp = GinkgoT().TempDir()
		DeferCleanup(func() { sweepLeftovers(envs) })
	})

	// Issue 8: Environment a with service and volume b-data and
	// Environment a-b with data met at berth-a-b-data: a-b mounted a's
	// volume and wrote into it, and deleting a got stuck.
	It("keeps the colliding pair a + b-data and a-b + data apart: own volumes, independent deletes", func() {
		m := startControllerManager()
		a := uniqueName("pair")
		ab := a + "-b"
		envs = append(envs, a, ab)
		DeferCleanup(func() {
			if !m.exited() {
				_, _, _ = m.berth("", "delete", "environment", a, ab, "--ignore-not-found", "--timeout=3m")
			}
		})
		apply(m, tmp, "pair.yaml",
			withVolumes(environment(a, volumeService("b-data", "b-data", "written-by-a")), "b-data"),
			withVolumes(environment(ab, volumeService("data", "data", "written-by-a-b")), "data"))
		m.waitReady(3*time.Minute, a, ab)

		idsA, idsAB := containerIDs(a, m.identity()), containerIDs(ab, m.identity())
		Expect(idsA).To(HaveLen(1))
		Expect(idsAB).To(HaveLen(1))
		Expect(idsA["b-data"]).NotTo(Equal(idsAB["data"]))
		Expect(mustInspect(idsA["b-data"]).Name).To(Equal("/" + v1alpha1.ContainerName(a, "b-data")))
		Expect(mustInspect(idsAB["data"]).Name).To(Equal("/" + v1alpha1.ContainerName(ab, "data")))

		By("each mounts its own volume and sees only its own data")
		Expect(mountedVolumes(idsA["b-data"])).To(ConsistOf(v1alpha1.VolumeName(a, "b-data")))
		Expect(mountedVolumes(idsAB["data"])).To(ConsistOf(v1alpha1.VolumeName(ab, "data")))
		Expect(hasFile(idsA["b-data"], "/data/written-by-a")).To(BeTrue())
		Expect(hasFile(idsAB["data"], "/data/written-by-a-b")).To(BeTrue())
		Expect(hasFile(idsA["b-data"], "/data/written-by-a-b")).To(BeFalse(), "a sees a-b's data")
		Expect(hasFile(idsAB["data"], "/data/written-by-a")).To(BeFalse(), "a-b sees a's data")
		Expect(envNetworks(a)).To(ConsistOf(v1alpha1.NetworkName(a)))
		Expect(envNetworks(ab)).To(ConsistOf(v1alpha1.NetworkName(ab)))

		By("deleting a completes, and a-b stays Ready with its container and data")
		m.mustBerth("delete", "environment", a, "--timeout=2m")
		m.waitGone(time.Minute, a)
		expectNothingLeft(m, a)
		Consistently(func(g Gomega) {
			env := m.getEnv(ab)
			g.Expect(isReady(env)).To(BeTrue(), describeStatus(env))
			g.Expect(containerIDs(ab, m.identity())).To(Equal(idsAB))
		}).WithTimeout(3 * time.Second).WithPolling(500 * time.Millisecond).Should(Succeed())
		Expect(hasFile(idsAB["data"], "/data/written-by-a-b")).To(BeTrue())

		By("deleting a-b completes too")
		m.mustBerth("delete", "environment", ab, "--timeout=2m")
		m.waitGone(time.Minute, ab)
		expectNothingLeft(m, ab)
	})

	// An older berth's objects, under the colliding names and labelled as
	// it labelled them, met by this one on the same data dir: the volume is
	// adopted with its data, each container replaced once under its new
	// name, the old network removed; delete leaves nothing.
	It("upgrades a running Environment from the old names without duplicates or orphans", func() {
		legacyBin := buildLegacyManager()
		dataDir := GinkgoT().TempDir()
		args := []string{"--default-memory-limit", "32Mi", "--default-memory-reservation", "16Mi"}
		name := uniqueName("upg")
		envs = append(envs, name)
		doc := withVolumes(environment(name,
			volumeService("db", "data", "written-before-upgrade"),
			withDeps(service("app"), "db:Started")), "data")

		old := startManagerFrom(legacyBin, dataDir, args...)
		apply(old, tmp, name+".yaml", doc)
		old.waitReady(3*time.Minute, name)
		oldIDs := containerIDs(name, old.identity())
		Expect(oldIDs).To(HaveLen(2))
		legacyNet, legacyVol := "berth-"+name, "berth-"+name+"-data"
		Expect(mustInspect(oldIDs["db"]).Name).To(Equal("/berth-" + name + "-db"))
		Expect(networkExists(legacyNet)).To(BeTrue())
		Expect(mountedVolumes(oldIDs["db"])).To(ConsistOf(legacyVol))
		Expect(hasFile(oldIDs["db"], "/data/written-before-upgrade")).To(BeTrue())
		old.stop()

		m := startManager(dataDir, args...)
		DeferCleanup(func() {
			if !m.exited() {
				_, _, _ = m.berth("", "delete", "environment", name, "--ignore-not-found", "--timeout=3m")
			}
		})
		Expect(m.identity()).NotTo(BeEmpty())
		By("every container is replaced under its new name, never two for one service")
		Eventually(func(g Gomega) {
			ids := containerIDs(name, m.identity()) // fails on two for one service
			g.Expect(ids).To(HaveLen(2))
			for svc, id := range ids {
				g.Expect(id).NotTo(Equal(oldIDs[svc]), "%s not replaced", svc)
				c := mustInspect(id)
				g.Expect(c.Name).To(Equal("/" + v1alpha1.ContainerName(name, svc)))
				g.Expect(c.State.Running).To(BeTrue(), "%s not running", svc)
			}
			env := m.getEnv(name)
			g.Expect(isReady(env)).To(BeTrue(), describeStatus(env))
		}).WithTimeout(3*time.Minute).WithPolling(250*time.Millisecond).Should(Succeed(), "manager output:\n%s", m.tail())
		ids := containerIDs(name, m.identity())
		Expect(envContainers(name, "")).To(HaveLen(2), "containers of %s besides the new ones", name)

		By("the volume is adopted with its data; the old network is gone")
		Expect(mountedVolumes(ids["db"])).To(ConsistOf(legacyVol))
		Expect(hasFile(ids["db"], "/data/written-before-upgrade")).To(BeTrue(), "data lost in the upgrade")
		Expect(envVolumes(name)).To(ConsistOf(legacyVol))
		Eventually(func() []string { return envNetworks(name) }).WithTimeout(time.Minute).Should(ConsistOf(v1alpha1.NetworkName(name)))

		By("delete leaves nothing behind, the adopted volume included")
		m.mustBerth("delete", "environment", name, "--timeout=2m")
		m.waitGone(time.Minute, name)
		expectNothingLeft(m, name)
		Expect(envVolumes(name)).To(BeEmpty())
	})
})

// buildLegacyManager builds bin/manager as of legacyNamingCommit, once per
// run, from this repository's history.
func buildLegacyManager() string {
	GinkgoHelper()
	root, err := filepath.Abs("../..")
	Expect(err).NotTo(HaveOccurred())
	dir := filepath.Join(os.TempDir(), "berth-e2e-legacy-"+legacyNamingCommit)
	bin := filepath.Join(dir, "bin")
	if _, err := os.Stat(filepath.Join(bin, "manager")); err == nil {
		return bin
	}
	if out, err := exec.Command("git", "-C", root, "cat-file", "-e", legacyNamingCommit+"^{commit}").CombinedOutput(); err != nil {
		Skip("commit " + legacyNamingCommit + " (the old naming) is not in this checkout: " + strings.TrimSpace(string(out)))
	}
	src := filepath.Join(dir, "src")
	Expect(os.RemoveAll(dir)).To(Succeed())
	Expect(os.MkdirAll(src, 0o755)).To(Succeed())
	archive := exec.Command("sh", "-c", `git -C "$1" archive "$2" | tar -x -C "$3"`, "sh", root, legacyNamingCommit, src)
	out, err := archive.CombinedOutput()
	Expect(err).NotTo(HaveOccurred(), "git archive: %s", out)
	build := exec.Command("go", "build", "-o", filepath.Join(bin, "manager"), "./cmd/manager")
	build.Dir = src
	out, err = build.CombinedOutput()
	Expect(err).NotTo(HaveOccurred(), "build the legacy manager: %s", out)
	return bin
}
