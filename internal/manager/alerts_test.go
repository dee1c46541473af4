package manager

import (
	"os"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"sigs.k8s.io/yaml"

	"berth.dev/berth/internal/admission"
	"berth.dev/berth/internal/governor"
)

// alertRules is the part of a Prometheus rule file the test reads.
type alertRules struct {
	Groups []struct {
		Name  string `json:"name"`
		Rules []struct {
			Alert       string            `json:"alert"`
			Expr        string            `json:"expr"`
			For         string            `json:"for"`
			Labels      map[string]string `json:"labels"`
			Annotations map[string]string `json:"annotations"`
		} `json:"rules"`
	} `json:"groups"`
}

// TestAlertRulesNameRegisteredMetrics: every expression in
// config/prometheus/alerts.yaml queries only metrics berth registers, as
// the real collectors (the governor's and admission's) register them; a
// renamed metric would otherwise leave an alert that never fires.
func TestAlertRulesNameRegisteredMetrics(t *testing.T) {
	b, err := os.ReadFile("../../config/prometheus/alerts.yaml")
	if err != nil {
		t.Fatal(err)
	}
	var rules alertRules
	if err := yaml.UnmarshalStrict(b, &rules); err != nil {
		t.Fatalf("alerts.yaml: %v", err)
	}

	reg := prometheus.NewRegistry()
	if _, err := governor.New(governor.Config{Registerer: reg}); err != nil {
		t.Fatal(err)
	}
	if err := admission.RegisterMetrics(reg, admission.NewLedger(2<<30, 0.9)); err != nil {
		t.Fatal(err)
	}
	fams, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	registered := map[string]bool{}
	for _, f := range fams {
		registered[f.GetName()] = true
	}

	metric := regexp.MustCompile(`\bberth_[a-z_]+\b`)
	seen := map[string]bool{}
	n := 0
	for _, g := range rules.Groups {
		for _, r := range g.Rules {
			n++
			if r.Alert == "" || strings.TrimSpace(r.Expr) == "" || r.Labels["severity"] == "" || r.Annotations["summary"] == "" {
				t.Errorf("rule %+v lacks alert, expr, severity or summary", r)
			}
			if r.For != "" {
				if _, err := time.ParseDuration(r.For); err != nil {
					t.Errorf("%s: for %q: %v", r.Alert, r.For, err)
				}
			}
			names := metric.FindAllString(r.Expr, -1)
			if len(names) == 0 {
				t.Errorf("%s queries no berth metric: %s", r.Alert, r.Expr)
			}
			for _, name := range names {
				if !registered[name] {
					t.Errorf("%s queries %s, which berth does not register", r.Alert, name)
				}
				seen[name] = true
			}
		}
	}
	// The rules the issue asks for: memory pressure, a queue that does not
	// move, daemon restarts.
	for _, want := range []string{"berth_memory_used_bytes", "berth_memory_total_bytes", "berth_admission_queue_length", "berth_docker_daemon_outages_total"} {
		if !seen[want] {
			t.Errorf("no rule watches %s", want)
		}
	}
	if n < 3 {
		t.Errorf("%d rules", n)
	}
}
