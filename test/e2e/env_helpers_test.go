package e2e

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/yaml"

	"berth.dev/berth/apis/v1alpha1"
)

// M is a YAML object under construction: the specs write Environments the
// way users do, as documents, and apply them with bin/berth.
type M = map[string]any

// environment is an Environment document.
func environment(name string, services ...M) M {
	return M{
		"apiVersion": "berth.dev/v1alpha1",
		"kind":       "Environment",
		"metadata":   M{"name": name},
		"spec":       M{"services": services},
	}
}

// service is a testapp service with a short grace period (testapp exits at
// once on SIGTERM anyway) and the given testapp flags.
func service(name string, args ...string) M {
	s := M{
		"name":                          name,
		"image":                         testImage,
		"imagePullPolicy":               "IfNotPresent",
		"terminationGracePeriodSeconds": 1,
	}
	if len(args) > 0 {
		s["args"] = args
	}
	return s
}

func withEnv(s M, kv ...string) M {
	var env []M
	for i := 0; i+1 < len(kv); i += 2 {
		env = append(env, M{"name": kv[i], "value": kv[i+1]})
	}
	s["env"] = env
	return s
}

func withDeps(s M, deps ...string) M {
	var out []M
	for _, d := range deps {
		name, cond, _ := strings.Cut(d, ":")
		if cond == "" {
			cond = "Started"
		}
		out = append(out, M{"service": name, "condition": cond})
	}
	s["dependsOn"] = out
	return s
}

// withHTTPProbe gives s testapp's HTTP port and a readiness probe on it.
func withHTTPProbe(s M, failureThreshold int) M {
	s["ports"] = []M{{"name": "http", "containerPort": 8080}}
	s["readinessProbe"] = M{
		"httpGet":          M{"path": "/healthz", "port": "http"},
		"periodSeconds":    1,
		"failureThreshold": failureThreshold,
	}
	return s
}

// render turns documents into one multi-document YAML file.
func render(docs ...M) string {
	GinkgoHelper()
	var parts []string
	for _, d := range docs {
		b, err := yaml.Marshal(d)
		Expect(err).NotTo(HaveOccurred())
		parts = append(parts, string(b))
	}
	return strings.Join(parts, "---\n")
}

// apply writes docs to a file in dir and runs berth apply -f on it.
func apply(m *managerProcess, dir, file string, docs ...M) string {
	GinkgoHelper()
	path := writeFile(dir, file, render(docs...))
	m.mustBerth("apply", "-f", path)
	return path
}

// startControllerManager starts a manager for the controller specs: small
// default memory limits (testapp needs a few MiB) and its own data dir.
func startControllerManager(extraArgs ...string) *managerProcess {
	GinkgoHelper()
	ensureTestImage()
	args := append([]string{"--default-memory-limit", "32Mi", "--default-memory-reservation", "16Mi"}, extraArgs...)
	return startManager(GinkgoT().TempDir(), args...)
}

// identity is the manager's managed-by value, from its data dir.
func (m *managerProcess) identity() string {
	GinkgoHelper()
	b, err := os.ReadFile(filepath.Join(m.dataDir, "manager-id"))
	Expect(err).NotTo(HaveOccurred())
	return strings.TrimSpace(string(b))
}

func (m *managerProcess) getEnv(name string) *v1alpha1.Environment {
	GinkgoHelper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	env, err := m.clientset().BerthV1alpha1().Environments().Get(ctx, name, metav1.GetOptions{})
	Expect(err).NotTo(HaveOccurred())
	return env
}

func condition(env *v1alpha1.Environment, t string) *metav1.Condition {
	return meta.FindStatusCondition(env.Status.Conditions, t)
}

func serviceStatus(env *v1alpha1.Environment, name string) *v1alpha1.ServiceStatus {
	for i := range env.Status.Services {
		if env.Status.Services[i].Name == name {
			return &env.Status.Services[i]
		}
	}
	return nil
}

// isReady: the controller has seen the current generation and says Ready.
func isReady(env *v1alpha1.Environment) bool {
	c := condition(env, v1alpha1.ConditionReady)
	return env.Status.ObservedGeneration == env.Generation && c != nil && c.Status == metav1.ConditionTrue &&
		c.ObservedGeneration == env.Generation && env.Status.Phase == v1alpha1.PhaseReady
}

func describeStatus(env *v1alpha1.Environment) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s gen %d observed %d phase %s ready %s\n", env.Name, env.Generation, env.Status.ObservedGeneration, env.Status.Phase, env.Status.Ready)
	for _, c := range env.Status.Conditions {
		fmt.Fprintf(&b, "  %s=%s %s: %s\n", c.Type, c.Status, c.Reason, c.Message)
	}
	for _, s := range env.Status.Services {
		fmt.Fprintf(&b, "  %s %s ready=%t restarts=%d %s\n", s.Name, s.State, s.Ready, s.RestartCount, s.Message)
	}
	return b.String()
}

// waitReady waits until every named Environment is Ready for its current
// generation.
func (m *managerProcess) waitReady(timeout time.Duration, names ...string) {
	GinkgoHelper()
	for _, name := range names {
		Eventually(func(g Gomega) {
			env := m.getEnv(name)
			g.Expect(isReady(env)).To(BeTrue(), describeStatus(env))
		}).WithTimeout(timeout).WithPolling(250*time.Millisecond).Should(Succeed(), "manager output:\n%s", m.tail())
	}
}

// waitGone waits until the Environment object has disappeared.
func (m *managerProcess) waitGone(timeout time.Duration, names ...string) {
	GinkgoHelper()
	for _, name := range names {
		Eventually(func() bool {
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			_, err := m.clientset().BerthV1alpha1().Environments().Get(ctx, name, metav1.GetOptions{})
			return apierrors.IsNotFound(err)
		}).WithTimeout(timeout).WithPolling(250*time.Millisecond).Should(BeTrue(), "%s still exists; manager output:\n%s", name, m.tail())
	}
}

// tail is the end of the manager's output, for failure messages.
func (m *managerProcess) tail() string {
	s := m.output.String()
	if len(s) > 6000 {
		s = "…" + s[len(s)-6000:]
	}
	return s
}

// scrape GETs /metrics with the bearer token, as Prometheus does.
func (m *managerProcess) scrape() (*http.Response, error) {
	req, err := http.NewRequest(http.MethodGet, "http://"+m.httpAddr+"/metrics", nil)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Authorization", "Bearer "+m.token)
	return http.DefaultClient.Do(req)
}

// metrics scrapes the manager's /metrics.
func (m *managerProcess) metrics() map[string]*dto.MetricFamily {
	GinkgoHelper()
	resp, err := m.scrape()
	Expect(err).NotTo(HaveOccurred())
	defer resp.Body.Close()
	Expect(resp.StatusCode).To(Equal(http.StatusOK))
	parser := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := parser.TextToMetricFamilies(resp.Body)
	Expect(err).NotTo(HaveOccurred())
	return fams
}

// samples flattens one metric family into "label=value,..." → value.
func samples(fams map[string]*dto.MetricFamily, name string) map[string]float64 {
	out := map[string]float64{}
	f, ok := fams[name]
	if !ok {
		return out
	}
	for _, mt := range f.GetMetric() {
		var labels []string
		for _, l := range mt.GetLabel() {
			labels = append(labels, l.GetName()+"="+l.GetValue())
		}
		v := mt.GetCounter().GetValue() + mt.GetGauge().GetValue()
		out[strings.Join(labels, ",")] = v
	}
	return out
}

func sum(m map[string]float64) float64 {
	t := 0.0
	for _, v := range m {
		t += v
	}
	return t
}
