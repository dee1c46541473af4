package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"berth.dev/berth/apis/v1alpha1"
)

var _ = Describe("Dashboard HTTP", Ordered, func() {
	const env = "dash-http"
	var m *managerProcess

	BeforeAll(func() {
		m = startManager(GinkgoT().TempDir(), "--profiling")
		dashApply(m, dashEnv(env))
		m.mustBerth("wait", "--for=condition=Ready", "environment/"+env, "--timeout=120s")
		DeferCleanup(func() { _, _, _ = m.berth("", "delete", "environment", env, "--timeout=120s") })
	})

	It("prints a one-time sign-in URL and refuses everything without the token, on loopback too", func() {
		tokenBytes, err := os.ReadFile(filepath.Join(m.dataDir, "token"))
		Expect(err).NotTo(HaveOccurred())
		Expect(m.token).To(Equal(strings.TrimSpace(string(tokenBytes))), "the sign-in URL carries the API token")
		Expect(m.output.String()).To(ContainSubstring("dashboard: http://" + m.httpAddr + "/?token=" + m.token + "\n"))
		Expect(m.httpAddr).To(HavePrefix("127.0.0.1:"))

		// No token, no cookie: 401 and a page saying how to sign in, never
		// the data (a spec's env values may hold passwords).
		for _, path := range []string{"/", "/env/" + env, "/engine", "/events/overview", "/env/" + env + "/logs/web?follow=0", "/env/" + env + "/memory", "/metrics", "/debug/pprof/heap?debug=1"} {
			code, body, h := dashGet(m, path, "Authorization", "")
			Expect(code).To(Equal(http.StatusUnauthorized), "GET %s without a token on loopback", path)
			Expect(body).To(ContainSubstring("?token="), "GET %s: the 401 page says how to sign in", path)
			Expect(body).NotTo(ContainSubstring(env), "GET %s: the 401 page shows no data", path)
			Expect(h.Get("WWW-Authenticate")).To(ContainSubstring("Bearer"))
		}
		code, _, _ := dashGet(m, "/", "Authorization", "Bearer not-the-token")
		Expect(code).To(Equal(http.StatusUnauthorized))
		// --profiling: the runtime's profiles, with the token only.
		code, body, _ := dashGet(m, "/debug/pprof/heap?debug=1")
		Expect(code).To(Equal(http.StatusOK))
		Expect(body).To(ContainSubstring("heap profile:"))
		req, err := http.NewRequest(http.MethodPost, "http://"+m.httpAddr+"/env/"+env+"/restart/web", nil)
		Expect(err).NotTo(HaveOccurred())
		req.Header.Set("X-Berth-Dashboard", "1")
		resp, err := http.DefaultClient.Do(req)
		Expect(err).NotTo(HaveOccurred())
		resp.Body.Close()
		Expect(resp.StatusCode).To(Equal(http.StatusUnauthorized), "a restart without the token")

		// The printed URL: a cookie (HttpOnly, SameSite=Strict, Path=/,
		// not the token) and a redirect to the same address without it.
		u, err := url.Parse(m.signInURL)
		Expect(err).NotTo(HaveOccurred())
		code, _, h := dashGet(m, u.RequestURI(), "Authorization", "")
		Expect(code).To(Equal(http.StatusSeeOther))
		Expect(h.Get("Location")).To(Equal("/"))
		cookies := (&http.Response{Header: h}).Cookies()
		Expect(cookies).To(HaveLen(1))
		Expect(cookies[0].HttpOnly).To(BeTrue())
		Expect(cookies[0].SameSite).To(Equal(http.SameSiteStrictMode))
		Expect(cookies[0].Path).To(Equal("/"))
		Expect(cookies[0].Value).NotTo(ContainSubstring(m.token))
		code, body, _ = dashGet(m, "/", "Authorization", "", "Cookie", cookies[0].Name+"="+cookies[0].Value)
		Expect(code).To(Equal(http.StatusOK))
		Expect(body).To(ContainSubstring(`data-name="` + env + `"`))
		// /metrics takes the bearer token, as Prometheus sends it.
		code, _, _ = dashGet(m, "/metrics")
		Expect(code).To(Equal(http.StatusOK))

		// DNS rebinding: only localhost, loopback IPs and the bound
		// address; a *.localhost name is not proof of this machine.
		for _, host := range []string{"attacker.example", "app.localhost:" + strings.Split(m.httpAddr, ":")[1]} {
			code, _, _ = dashGet(m, "/", "Host", host)
			Expect(code).To(Equal(http.StatusMisdirectedRequest), "Host %s", host)
		}
		code, _, _ = dashGet(m, "/", "Host", "localhost:"+strings.Split(m.httpAddr, ":")[1])
		Expect(code).To(Equal(http.StatusOK))
	})

	It("prints its address and serves every page", func() {

		code, body, h := dashGet(m, "/")
		Expect(code).To(Equal(http.StatusOK))
		Expect(h.Get("Content-Type")).To(HavePrefix("text/html"))
		Expect(body).To(ContainSubstring(`data-name="` + env + `"`))
		// The dashboard has its own watch: it may see Ready a moment
		// after the CLI's wait did.
		Eventually(func() string { _, body, _ := dashGet(m, "/"); return body }, 30*time.Second, 200*time.Millisecond).
			Should(MatchRegexp(`<b>1</b> Ready`))

		Eventually(func() string {
			code, body, _ := dashGet(m, "/env/"+env)
			Expect(code).To(Equal(http.StatusOK))
			return body
		}, 30*time.Second, 200*time.Millisecond).Should(And(
			ContainSubstring(`data-service="web"`), ContainSubstring(">running<"), ContainSubstring("AllServicesReady"),
			ContainSubstring("image: berth-testapp:dev"), MatchRegexp(`href="http://127\.0\.0\.1:\d+"`)))

		code, body, _ = dashGet(m, "/engine")
		Expect(code).To(Equal(http.StatusOK))
		Expect(body).To(ContainSubstring("In flight vs limit"))
		Expect(body).To(ContainSubstring("Workqueue depth"))
		Expect(body).To(MatchRegexp(`<b id="reserved">48 MiB</b>`))
		// Disk use is read (once a minute at most): the test image alone
		// makes images non-zero.
		Expect(body).To(MatchRegexp(`<dd id="disk-use">[0-9.]+ [KMG]?i?B <span class="muted">\(images [0-9.]+ [KMG]i?B`))

		code, _, _ = dashGet(m, "/env/dash-no-such-env")
		Expect(code).To(Equal(http.StatusNotFound))
		code, _, _ = dashGet(m, "/healthz")
		Expect(code).To(Equal(http.StatusOK))

		// Assets: linked from the page with a content hash, cached for good.
		for _, re := range []string{`/static/app\.css\?v=[0-9a-f]+`, `/static/app\.js\?v=[0-9a-f]+`} {
			link := regexp.MustCompile(re).FindString(body)
			Expect(link).NotTo(BeEmpty(), "page links %s", re)
			code, asset, h := dashGet(m, link)
			Expect(code).To(Equal(http.StatusOK))
			Expect(asset).NotTo(BeEmpty())
			Expect(h.Get("Cache-Control")).To(ContainSubstring("immutable"))
		}
		// DNS rebinding: a foreign Host name is refused on loopback.
		code, _, _ = dashGet(m, "/", "Host", "attacker.example")
		Expect(code).To(Equal(http.StatusMisdirectedRequest))
	})

	It("streams the overview, an Environment and the engine", func() {
		ev := readEvents(m, "/events/overview", 30*time.Second, func(e sseEvent) bool { return e.name == "summary" })
		Expect(ev).To(HaveLen(2))
		Expect(ev[0].name).To(Equal("rows"))
		Expect(ev[0].data).To(ContainSubstring(`"reset":true`))
		Expect(ev[0].data).To(ContainSubstring(`data-name=\"` + env + `\"`))

		ev = readEvents(m, "/events/env/"+env, 30*time.Second, func(e sseEvent) bool { return e.name == "env" })
		Expect(ev[len(ev)-1].data).To(ContainSubstring("env-services"))

		ev = readEvents(m, "/events/engine", 30*time.Second, func(e sseEvent) bool { return e.name == "engine" })
		Expect(ev[len(ev)-1].data).To(ContainSubstring("<svg"))

		ev = readEvents(m, "/events/env/dash-no-such-env", 30*time.Second, func(e sseEvent) bool { return e.name == "gone" })
		Expect(ev[len(ev)-1].name).To(Equal("gone"))
	})

	It("streams a service's logs and reads its memory once", func() {
		ev := readEvents(m, "/env/"+env+"/logs/web?tail=5&follow=0", 60*time.Second, func(e sseEvent) bool { return e.name == "end" })
		Expect(ev[0].name).To(Equal("meta"))
		var out []string
		for _, e := range ev {
			if e.name == "out" {
				out = append(out, e.data)
			}
		}
		Expect(strings.Join(out, "\n")).To(ContainSubstring("testapp"))
		Expect(ev[len(ev)-1].data).To(Equal("end of log"))

		// Follow: new lines keep arriving (--log-every=1s).
		lines := 0
		readEvents(m, "/env/"+env+"/logs/web?tail=1&follow=1", 60*time.Second, func(e sseEvent) bool {
			if e.name == "out" {
				lines++
			}
			return lines >= 3
		})
		Expect(lines).To(BeNumerically(">=", 3))

		code, body, _ := dashGet(m, "/env/"+env+"/memory")
		Expect(code).To(Equal(http.StatusOK))
		Expect(body).To(MatchRegexp(`<td class="num used">[0-9.]+ (KiB|MiB)</td><td class="num">48 MiB</td>`))
	})

	It("restarts one service gracefully through the reconciler", func() {
		before := dashDocker("inspect", "-f", "{{.Id}}", v1alpha1.ContainerName(env, "web"))
		code, _ := dashPost(m, "/env/"+env+"/restart/web", false)
		Expect(code).To(Equal(http.StatusForbidden), "an action without the dashboard's header is refused")
		code, _ = dashPost(m, "/env/"+env+"/restart/nope", true)
		Expect(code).To(Equal(http.StatusNotFound))

		code, body := dashPost(m, "/env/"+env+"/restart/web", true)
		Expect(code).To(Equal(http.StatusAccepted), body)
		Eventually(func() string {
			out, _ := dashExec("docker", "inspect", "-f", "{{.Id}} {{index .Config.Labels \"berth.dev/restarted-at\"}}", v1alpha1.ContainerName(env, "web"))
			return out
		}, 120*time.Second, 500*time.Millisecond).Should(MatchRegexp(`^[0-9a-f]{64} \d{4}-\d\d-\d\dT`))
		Expect(dashDocker("inspect", "-f", "{{.Id}}", v1alpha1.ContainerName(env, "web"))).NotTo(Equal(before))
		m.mustBerth("wait", "--for=condition=Ready", "environment/"+env, "--timeout=120s")
		e, err := m.clientset().BerthV1alpha1().Environments().Get(context.Background(), env, metav1.GetOptions{})
		Expect(err).NotTo(HaveOccurred())
		Expect(e.Status.Events).To(ContainElement(HaveField("Message", ContainSubstring("restart web: requested at"))))
	})

	It("exports the named metric families in Prometheus text format", func() {
		code, body, h := dashGet(m, "/metrics")
		Expect(code).To(Equal(http.StatusOK))
		Expect(h.Get("Content-Type")).To(HavePrefix("text/plain"))
		parser := expfmt.NewTextParser(model.UTF8Validation)
		families, err := parser.TextToMetricFamilies(strings.NewReader(body))
		Expect(err).NotTo(HaveOccurred())
		for _, name := range []string{
			"berth_docker_calls_total", "berth_docker_in_flight", "berth_docker_concurrency_limit",
			"berth_docker_call_duration_seconds", "berth_docker_limiter_wait_seconds",
			"workqueue_depth", "workqueue_adds_total", "workqueue_retries_total", "workqueue_longest_running_processor_seconds",
			"workqueue_queue_duration_seconds", "workqueue_work_duration_seconds",
			"berth_reconcile_total", "berth_reconcile_duration_seconds",
			"berth_environments", "berth_containers",
			"berth_probe_total", "berth_probe_duration_seconds",
		} {
			Expect(families).To(HaveKey(name), "/metrics lacks %s", name)
		}
		// Counter vectors show a family only once a series exists: no
		// retry, no berth_docker_retries_total. When present it must
		// carry its operation label.
		if f, ok := families["berth_docker_retries_total"]; ok {
			Expect(f.GetMetric()[0].GetLabel()).To(ContainElement(HaveField("GetName()", "operation")))
		}

		// Every family the Grafana dashboard queries is one berth exports
		// (or one of those that appear after their first event).
		grafana, err := os.ReadFile("../../config/grafana/berth.json")
		Expect(err).NotTo(HaveOccurred())
		var dash struct {
			Panels []struct {
				Title   string
				Targets []struct{ Expr string }
			}
		}
		Expect(json.Unmarshal(grafana, &dash)).To(Succeed(), "config/grafana/berth.json is not valid JSON")
		later := map[string]bool{"berth_docker_retries_total": true, "berth_docker_limit_changes_total": true}
		queried := 0
		for _, p := range dash.Panels {
			for _, t := range p.Targets {
				for _, name := range regexp.MustCompile(`\b(berth|workqueue|process)_[a-z_]+`).FindAllString(t.Expr, -1) {
					family := regexp.MustCompile(`_(bucket|sum|count)$`).ReplaceAllString(name, "")
					if _, ok := families[family]; !ok && !later[family] {
						Fail(fmt.Sprintf("Grafana panel %q queries %s, which /metrics does not export", p.Title, name))
					}
					queried++
				}
			}
		}
		Expect(queried).To(BeNumerically(">", 20))
		Eventually(func() string {
			_, body, _ := dashGet(m, "/metrics")
			return body
		}, 30*time.Second, time.Second).Should(ContainSubstring(`berth_environments{phase="Ready"} 1`))
	})

	It("refuses a non-loopback listener without the API token", func() {
		ip := nonLoopbackIPv4()
		if ip == "" {
			Skip("this machine has no non-loopback address; internal/dashboard's TestProtectNonLoopbackNeedsToken covers the rule")
		}
		dataDir := GinkgoT().TempDir()
		open := startManager(dataDir, "--dashboard-listen", ip+":0")
		Expect(open.httpAddr).To(HavePrefix(ip + ":"))
		tokenBytes, err := os.ReadFile(filepath.Join(dataDir, "token"))
		Expect(err).NotTo(HaveOccurred())
		token := strings.TrimSpace(string(tokenBytes))

		Expect(open.token).To(Equal(token))
		for _, path := range []string{"/", "/engine", "/metrics", "/events/overview"} {
			code, _, h := dashGet(open, path, "Authorization", "")
			Expect(code).To(Equal(http.StatusUnauthorized), "GET %s without a token", path)
			Expect(h.Get("WWW-Authenticate")).To(ContainSubstring("Bearer"))
		}
		code, _, _ := dashGet(open, "/", "Authorization", "Bearer not-the-token")
		Expect(code).To(Equal(http.StatusUnauthorized))
		code, _, _ = dashGet(open, "/", "Authorization", "", "Cookie", "berth_dashboard=forged")
		Expect(code).To(Equal(http.StatusUnauthorized))

		code, _, _ = dashGet(open, "/metrics", "Authorization", "Bearer "+token)
		Expect(code).To(Equal(http.StatusOK))
		code, _, h := dashGet(open, "/?token="+token, "Authorization", "")
		Expect(code).To(Equal(http.StatusSeeOther))
		cookie := h.Get("Set-Cookie")
		Expect(cookie).NotTo(BeEmpty())
		Expect(cookie).NotTo(ContainSubstring(token))
		code, _, _ = dashGet(open, "/", "Authorization", "", "Cookie", strings.Split(cookie, ";")[0])
		Expect(code).To(Equal(http.StatusOK))
		code, _, _ = dashGet(open, "/healthz")
		Expect(code).To(Equal(http.StatusOK))
		open.stop()
	})
})
