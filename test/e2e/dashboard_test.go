package e2e

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"
	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"berth.dev/berth/apis/v1alpha1"
)

// The dashboard in a real browser: headless Chromium driven over the
// DevTools protocol. Everything the spec waits for arrives over the
// page's event streams; a marker set on window at the start proves the
// page was never reloaded.
var _ = Describe("Dashboard in a browser", Ordered, func() {
	const env = "dash-browser"
	var (
		m       *managerProcess
		browser context.Context
	)

	BeforeAll(func() {
		exe := chromiumPath()
		if exe == "" {
			Skip("no Chromium on PATH: run hack/ensure-chromium.sh (CI does) to run the dashboard's browser spec")
		}
		m = startManager(GinkgoT().TempDir())
		opts := append(chromedp.DefaultExecAllocatorOptions[:],
			chromedp.ExecPath(exe),
			chromedp.NoSandbox, // root in CI containers
			chromedp.DisableGPU,
			chromedp.WindowSize(1280, 900),
			chromedp.Flag("hide-scrollbars", true),
		)
		alloc, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
		DeferCleanup(cancelAlloc)
		var cancel context.CancelFunc
		browser, cancel = chromedp.NewContext(alloc, chromedp.WithLogf(func(f string, a ...any) { fmt.Fprintf(GinkgoWriter, "chromedp: "+f+"\n", a...) }))
		DeferCleanup(cancel)
		// The first Run starts the browser, with no timeout of its own.
		_, err := chromedp.Run(browser, chromedp.Evaluate[bool](`true`))
		Expect(err).NotTo(HaveOccurred(), "start Chromium")
		// Accept the page's confirm() dialogs (delete, restart) as a user
		// clicking OK would.
		dialogs := chromedp.Events(browser, page.JavascriptDialogOpening)
		go func() {
			for ev, err := range dialogs {
				if err != nil {
					return
				}
				fmt.Fprintf(GinkgoWriter, "dialog: %q (accepted)\n", ev.Message)
				_, _ = chromedp.Call(browser, page.HandleJavaScriptDialog, page.HandleJavaScriptDialogParams{Accept: true})
			}
		}()
		DeferCleanup(func() { _, _, _ = m.berth("", "delete", "environment", env, "--timeout=120s") })
	})

	do := func(timeout time.Duration, steps ...chromedp.Action[chromedp.Void]) {
		GinkgoHelper()
		ctx, cancel := context.WithTimeout(browser, timeout)
		defer cancel()
		Expect(chromedp.Do(ctx, steps...)).To(Succeed())
	}
	// waitFor polls a JavaScript condition in the page. Errors count as
	// "not yet": the page may be navigating (after a delete it returns to
	// the overview on its own).
	waitFor := func(what, js string) {
		GinkgoHelper()
		Eventually(func() (bool, error) {
			ctx, cancel := context.WithTimeout(browser, 10*time.Second)
			defer cancel()
			return chromedp.Run(ctx, chromedp.Evaluate[bool](`!!(`+js+`)`))
		}, 120*time.Second, 100*time.Millisecond).Should(BeTrue(), "waiting for %s (%s)", what, js)
	}
	eval := func(js string) bool {
		GinkgoHelper()
		ctx, cancel := context.WithTimeout(browser, 30*time.Second)
		defer cancel()
		v, err := chromedp.Run(ctx, chromedp.Evaluate[bool](js))
		Expect(err).NotTo(HaveOccurred(), "evaluate %s", js)
		return v
	}
	text := func(sel string) string {
		GinkgoHelper()
		ctx, cancel := context.WithTimeout(browser, 30*time.Second)
		defer cancel()
		s, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS(sel)))
		Expect(err).NotTo(HaveOccurred(), "text of %s", sel)
		return strings.TrimSpace(s)
	}
	clearFilter := func() {
		GinkgoHelper()
		Expect(eval(`(() => { const f = document.querySelector('#filter'); f.value = ''; f.dispatchEvent(new Event('input')); return true })()`)).To(BeTrue())
	}
	markPage := func() { Expect(eval(`(window.__berthMarker = true)`)).To(BeTrue()) }
	notReloaded := func() {
		GinkgoHelper()
		Expect(eval(`window.__berthMarker === true`)).To(BeTrue(), "the page was reloaded")
	}
	screenshot := func(name string) {
		GinkgoHelper()
		ctx, cancel := context.WithTimeout(browser, 30*time.Second)
		defer cancel()
		png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
		Expect(err).NotTo(HaveOccurred())
		Expect(os.MkdirAll("artifacts", 0o755)).To(Succeed())
		Expect(os.WriteFile(filepath.Join("artifacts", name), png, 0o644)).To(Succeed())
	}
	row := `document.querySelector('#rows tr[data-name="` + env + `"]')`
	svcRow := `document.querySelector('#env-services tr[data-service="web"]')`

	It("signs in through the URL the manager printed", func() {
		// Not signed in yet: the sign-in page, no data.
		do(60*time.Second, chromedp.Navigate("http://"+m.httpAddr+"/"), chromedp.WaitVisible(chromedp.CSS(`h1`)))
		Expect(text("h1")).To(ContainSubstring("Sign in"))
		Expect(eval(`document.querySelector('#rows') === null`)).To(BeTrue())

		do(60*time.Second, chromedp.Navigate(m.signInURL), chromedp.WaitVisible(chromedp.CSS(`#rows`)))
		// The token is gone from the address (and so from history), and
		// the cookie that replaced it is out of the page script's reach.
		Expect(eval(`location.href === 'http://`+m.httpAddr+`/'`)).To(BeTrue(), "the address still carries the token")
		Expect(eval(`!location.href.includes('token')`)).To(BeTrue())
		Expect(eval(`document.cookie === ''`)).To(BeTrue(), "the session cookie must be HttpOnly")
		// The cookie keeps the browser signed in.
		do(60*time.Second, chromedp.Navigate("http://"+m.httpAddr+"/engine"), chromedp.WaitVisible(chromedp.CSS(`body`)))
		Expect(eval(`document.querySelector('h1') === null || !document.querySelector('h1').textContent.includes('Sign in')`)).To(BeTrue())
	})

	It("shows a new Environment appear and turn Ready without a reload", func() {
		do(60*time.Second, chromedp.Navigate("http://"+m.httpAddr+"/"), chromedp.WaitVisible(chromedp.CSS(`#rows`)))
		markPage()
		waitFor("the overview's stream", `document.querySelector('#conn').dataset.state === 'live'`)
		Expect(text("#empty")).To(ContainSubstring("No Environments yet"))

		dashApply(m, dashEnv(env))
		waitFor("the row", row+` !== null`)
		waitFor("Ready", row+`.dataset.phase === 'Ready' && `+row+`.querySelector('.ready').textContent.trim() === '1/1'`)
		Expect(text(`#summary [data-phase="Ready"]`)).To(Equal("1 Ready"))

		// Filter by label and by name; the row hides and comes back.
		do(10*time.Second, chromedp.SendKeys(chromedp.CSS(`#filter`), "team=nobody"))
		waitFor("the filter to hide the row", row+`.hidden === true`)
		clearFilter()
		do(10*time.Second, chromedp.SendKeys(chromedp.CSS(`#filter`), "team=payments browser"))
		waitFor("the filter to show the row", row+`.hidden === false`)
		clearFilter()
		waitFor("every row shown again", `document.querySelector('#shown').textContent === ''`)
		notReloaded()
		screenshot("dashboard-overview.png")
	})

	It("follows a killed container going down and coming back on the Environment page", func() {
		do(60*time.Second, chromedp.Click(chromedp.CSS(`#rows tr[data-name="`+env+`"] a`)), chromedp.WaitVisible(chromedp.CSS(`#env-services`)))
		markPage()
		waitFor("the page's stream", `document.querySelector('#conn').dataset.state === 'live'`)
		waitFor("web running", svcRow+`.querySelector('.state').textContent.trim() === 'running'`)
		Expect(text(`#env-services tr[data-service="web"] .restarts`)).To(Equal("0"))
		Expect(text(`#env-services tr[data-service="web"] a[href^="http://127.0.0.1:"]`)).To(MatchRegexp(`^http://127\.0\.0\.1:\d+$`))

		// Kill it behind berth's back: the page shows the exit and the
		// restart, with no reload.
		dashDocker("kill", v1alpha1.ContainerName(env, "web"))
		waitFor("the restart count", svcRow+`.querySelector('.restarts').textContent.trim() === '1'`)
		waitFor("the exit code", svcRow+`.querySelector('.exit').textContent.trim() === '137'`)
		waitFor("running and ready again", svcRow+`.querySelector('.state').textContent.trim() === 'running' && `+
			svcRow+`.querySelector('.ready').textContent.trim() === 'yes'`)
		waitFor("the event record", `document.querySelector('#env-events').textContent.includes('web')`)
		notReloaded()

		// Logs stream into the pane; memory is read once on request.
		do(30*time.Second, chromedp.Click(chromedp.CSS(`#logs button[data-service="web"]`)))
		waitFor("log lines", `document.querySelector('#log-out').textContent.includes('testapp')`)
		do(30*time.Second, chromedp.Click(chromedp.CSS(`#memory-read`)))
		waitFor("memory use", `document.querySelector('#env-memory td.used') !== null`)
		Expect(text(`#env-memory td.used`)).To(MatchRegexp(`^[0-9.]+ (KiB|MiB)$`))
		screenshot("dashboard-environment.png")
	})

	It("restarts a service from the page", func() {
		before := text(`#env-services tr[data-service="web"] code`)
		do(30*time.Second, chromedp.Click(chromedp.CSS(`#env-services button.restart[data-service="web"]`)))
		waitFor("a new container", svcRow+`.querySelector('code').textContent.trim() !== '`+before+`' && `+
			svcRow+`.querySelector('.state').textContent.trim() === 'running'`)
		notReloaded()
	})

	It("deletes the Environment from the page and sees it disappear", func() {
		do(30*time.Second, chromedp.Click(chromedp.CSS(`#delete`)))
		waitFor("Terminating or gone", `(document.querySelector('#env-head .badge') || {}).textContent === 'Terminating' || !document.querySelector('#gone').hidden || location.pathname === '/'`)
		// The page notices the Environment is gone and returns to the
		// overview, where its row is absent.
		waitFor("the overview", `location.pathname === '/' && document.querySelector('#rows') !== null`)
		waitFor("the row to be gone", row+` === null && document.querySelector('#conn').dataset.state === 'live'`)
		_, err := m.clientset().BerthV1alpha1().Environments().Get(context.Background(), env, metav1.GetOptions{})
		Expect(apierrors.IsNotFound(err)).To(BeTrue(), "Environment still stored: %v", err)
		out, _ := dashExec("docker", "ps", "-a", "-q", "--filter", "name="+v1alpha1.ContainerName(env, ""))
		Expect(out).To(BeEmpty(), "containers left behind")
	})
})
