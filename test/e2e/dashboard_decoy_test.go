package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"strings"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
)

// A status is writable by anyone who may write status: its containerID can
// name any container on the daemon. berth streams the logs of its own
// containers only, whatever a status says.
var _ = Describe("Dashboard and API logs of a container berth does not own", Ordered, func() {
	var (
		m       *managerProcess
		name    string
		decoyID string
	)

	BeforeAll(func() {
		m = startManager(GinkgoT().TempDir())
		suffix := fmt.Sprintf("%06x", rand.IntN(1<<24))
		name = "decoy-logs-" + suffix
		// The decoy: the test's own container, no berth labels at all,
		// printing lines that must never reach a berth client.
		decoy := "e2e-unowned-decoy-" + suffix
		decoyID = dashDocker("run", "-d", "--name", decoy, "--network", "none", "--memory", "32m", "-e", "TESTAPP_NAME=decoy-"+suffix,
			"berth-testapp:dev", "--http-port", "0", "--log-lines", "5", "--log-every", "500ms")
		DeferCleanup(func() {
			_, _ = dashExec("docker", "stop", "-t", "5", decoyID)
			_, _ = dashExec("docker", "rm", decoyID)
		})
		Expect(dashDocker("inspect", "-f", "{{json .Config.Labels}}", decoyID)).NotTo(ContainSubstring("berth.dev/managed-by"))
		Eventually(func() string { out, _ := dashExec("docker", "logs", decoyID); return out }, 30*time.Second).
			Should(ContainSubstring("testapp"), "the decoy logs something to steal")

		// An Environment whose service never gets a container (its image is
		// absent), so nothing of berth's own stands in for the decoy.
		dashApply(m, `apiVersion: berth.dev/v1alpha1
kind: Environment
metadata:
  name: `+name+`
spec:
  services:
  - name: app
    image: berth-e2e-decoy-absent:none
    imagePullPolicy: Never
`)
		DeferCleanup(func() { _, _, _ = m.berth("", "delete", "env", name, "--ignore-not-found", "--timeout=2m") })
	})

	// pointStatusAtDecoy writes the decoy's ID into the service's status
	// through the status subresource, as any holder of status write may.
	pointStatusAtDecoy := func() {
		GinkgoHelper()
		patch, err := json.Marshal(map[string]any{"status": map[string]any{
			"services": []map[string]any{{"name": "app", "containerID": decoyID, "state": "running"}},
		}})
		Expect(err).NotTo(HaveOccurred())
		_, err = m.clientset().BerthV1alpha1().Environments().Patch(context.Background(), name, types.MergePatchType, patch, metav1.PatchOptions{}, "status")
		Expect(err).NotTo(HaveOccurred())
	}

	It("the dashboard's log stream refuses it", func() {
		// The controller rewrites status too: write it again until the
		// dashboard's stream is seen picking the decoy up from status.
		var events []sseEvent
		Eventually(func() string {
			pointStatusAtDecoy()
			events = readEvents(m, "/env/"+name+"/logs/app?follow=0&tail=100", 60*time.Second, func(e sseEvent) bool { return e.name == "end" })
			if len(events) > 0 && events[0].name == "meta" {
				return events[0].data
			}
			return ""
		}, 60*time.Second, 200*time.Millisecond).Should(Equal(decoyID[:12]), "the dashboard takes the container from status")
		for _, e := range events {
			Expect(e.name).NotTo(BeElementOf("out", "err"), "a line of the decoy reached the dashboard: %q", e.data)
		}
		end := events[len(events)-1]
		Expect(end.name).To(Equal("end"))
		Expect(end.data).To(ContainSubstring("not managed by this berth manager"))
	})

	It("the API's log subresource refuses it", func() {
		pointStatusAtDecoy()
		out, errOut, err := m.berth("", "logs", name, "app", "--tail", "100")
		Expect(err).To(HaveOccurred(), "berth logs streamed something:\n%s", out)
		Expect(out + errOut).NotTo(ContainSubstring("testapp"))
		Expect(out + errOut).NotTo(ContainSubstring(decoyID[:12]))
		// And the decoy was left alone.
		Expect(dashDocker("inspect", "-f", "{{.State.Running}}", decoyID)).To(Equal("true"))
		Expect(strings.TrimSpace(errOut)).NotTo(BeEmpty())
	})
})
