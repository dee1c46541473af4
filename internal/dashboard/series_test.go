package dashboard

import (
	"math"
	"strings"
	"testing"
	"time"

	"k8s.io/apimachinery/pkg/util/intstr"

	"berth.dev/berth/apis/v1alpha1"
)

func TestQuantileInterpolatesLikePromQL(t *testing.T) {
	// 10 observations ≤ 0.1, 10 more ≤ 1, none above.
	h := histogram{bounds: []float64{0.1, 1, 10}, counts: []float64{10, 20, 20}, count: 20}
	for q, want := range map[float64]float64{0.25: 0.05, 0.5: 0.1, 0.75: 0.55, 1: 1} {
		if got := quantile(q, h); math.Abs(got-want) > 1e-9 {
			t.Errorf("quantile(%g) = %g, want %g", q, got, want)
		}
	}
	if got := quantile(0.5, histogram{bounds: []float64{1}, counts: []float64{0}}); !math.IsNaN(got) {
		t.Errorf("empty histogram: %g, want NaN", got)
	}
	above := histogram{bounds: []float64{1}, counts: []float64{0}, count: 3}
	if got := quantile(0.5, above); got != 1 {
		t.Errorf("all above the last bucket: %g, want the last bound", got)
	}
}

func TestRateAndWindows(t *testing.T) {
	t0 := time.Unix(1000, 0)
	mk := func(sec int, calls, retries float64, lat histogram) sample {
		return sample{at: t0.Add(time.Duration(sec) * time.Second), calls: map[string]float64{"container_start": calls}, retries: retries, latency: lat}
	}
	h := func(fast, slow float64) histogram {
		return histogram{bounds: []float64{0.01, 1}, counts: []float64{fast, fast + slow}, count: fast + slow}
	}
	ss := []sample{mk(0, 0, 5, h(0, 0)), mk(2, 4, 5, h(4, 0)), mk(4, 4, 2, h(4, 0)), mk(6, 10, 2, h(4, 6))}
	r := rate(ss, func(s sample) float64 { return s.calls["container_start"] })
	if !math.IsNaN(r[0]) || r[1] != 2 || r[2] != 0 || r[3] != 3 {
		t.Errorf("rate = %v, want [NaN 2 0 3]", r)
	}
	if rr := rate(ss, func(s sample) float64 { return s.retries }); rr[2] != 0 {
		t.Errorf("a counter reset must read 0, not %g", rr[2])
	}
	p := latencyQuantile(ss, 0.5, 1)
	if !math.IsNaN(p[2]) {
		t.Errorf("no calls between samples 1 and 2: p50 %g, want a gap", p[2])
	}
	if p[1] <= 0 || p[1] > 10 || p[3] <= 10 {
		t.Errorf("p50 ms = %v: want fast calls under 10 ms at 1, slow ones above at 3", p)
	}
	if ops := topOps(ss, 10, 3); len(ops) != 1 || ops[0] != "container_start" {
		t.Errorf("topOps = %v", ops)
	}
}

func TestChartSVG(t *testing.T) {
	c := chart{Title: "Docker latency", Unit: "ms", Slots: 10, Series: []series{
		{Name: "p50", Points: []float64{math.NaN(), 1, 2, math.NaN(), 4}},
		{Name: "p99", Points: []float64{math.NaN(), 3, 7, 9, 8}, Dashed: true},
	}}
	out := string(c.svg())
	for _, want := range []string{`<svg viewBox="0 0 300 90"`, `aria-label="Docker latency: p50 4 ms, p99 8 ms"`, `class="s1 dashed"`, `>10 ms</span>`, "M"} {
		if !strings.Contains(out, want) {
			t.Errorf("chart lacks %q:\n%s", want, out)
		}
	}
	// The p50 line is broken at the gap: two subpaths.
	p50 := out[strings.Index(out, `class="s0"`):]
	p50 = p50[:strings.Index(p50, "/>")]
	if strings.Count(p50, "M") != 2 {
		t.Errorf("p50 path %q: want two subpaths around the gap", p50)
	}
	if strings.Contains(string(chart{Title: "<x>"}.svg()), "<x>") {
		t.Errorf("title not escaped")
	}
}

func TestNiceCeilAndFormat(t *testing.T) {
	for v, want := range map[float64]float64{0: 1, 0.3: 0.5, 1: 1, 1.2: 2, 3: 5, 7: 10, 420: 500} {
		if got := niceCeil(v); math.Abs(got-want) > 1e-9 {
			t.Errorf("niceCeil(%g) = %g, want %g", v, got, want)
		}
	}
	for v, want := range map[float64]string{0: "0 ms", 1.5: "1.5 ms", 12.34: "12.3 ms", 250: "250 ms", 0.005: "0.005 ms"} {
		if got := formatValue(v, "ms"); got != want {
			t.Errorf("formatValue(%g) = %q, want %q", v, got, want)
		}
	}
	if got := formatValue(math.NaN(), ""); got != "–" {
		t.Errorf("NaN: %q", got)
	}
}

func TestPortLinks(t *testing.T) {
	svc := &v1alpha1.Service{Name: "api", ReadinessProbe: &v1alpha1.Probe{HTTPGet: &v1alpha1.HTTPGetAction{Port: intstr.FromString("admin")}}}
	st := v1alpha1.ServiceStatus{Ports: []v1alpha1.PortStatus{
		{Name: "http", ContainerPort: 8080, HostIP: "127.0.0.1", HostPort: 32001},
		{Name: "web", ContainerPort: 80, HostIP: "0.0.0.0", HostPort: 32002},
		{Name: "admin", ContainerPort: 9000, HostPort: 32003},
		{Name: "sql", ContainerPort: 5432, HostIP: "127.0.0.1", HostPort: 32004},
		{Name: "dns", ContainerPort: 53, Protocol: v1alpha1.ProtocolUDP, HostIP: "127.0.0.1", HostPort: 32005},
		{Name: "internal", ContainerPort: 7000},
	}}
	v := serviceViewOf(svc, st)
	want := []portView{
		{Text: "http://127.0.0.1:32001", URL: "http://127.0.0.1:32001"},
		{Text: "http://127.0.0.1:32002", URL: "http://127.0.0.1:32002"},
		{Text: "http://127.0.0.1:32003", URL: "http://127.0.0.1:32003"},
		{Text: "127.0.0.1:32004→5432"},
		{Text: "127.0.0.1:32005→53"},
	}
	if len(v.Ports) != len(want) {
		t.Fatalf("ports %+v, want %+v", v.Ports, want)
	}
	for i := range want {
		if v.Ports[i] != want[i] {
			t.Errorf("port %d: %+v, want %+v", i, v.Ports[i], want[i])
		}
	}
	byNumber := &v1alpha1.Service{ReadinessProbe: &v1alpha1.Probe{HTTPGet: &v1alpha1.HTTPGetAction{Port: intstr.FromInt32(5000)}}}
	if got := portScheme(byNumber, v1alpha1.PortStatus{Name: "x", ContainerPort: 5000}); got != "http" {
		t.Errorf("httpGet probe by port number: %q, want http", got)
	}
}
