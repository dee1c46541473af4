package dashboard

import (
	"bytes"
	"strings"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"berth.dev/berth/apis/v1alpha1"
	"berth.dev/berth/internal/docker"
	"berth.dev/berth/internal/governor"
	"berth.dev/berth/internal/informer"
)

// TestPagesRender renders every page and fragment from fixtures, so a
// template mistake fails here rather than as a 500 in a browser.
func TestPagesRender(t *testing.T) {
	p, err := newPages()
	if err != nil {
		t.Fatal(err)
	}
	exit := int32(137)
	env := &v1alpha1.Environment{
		ObjectMeta: metav1.ObjectMeta{Name: "shop", Generation: 2, Labels: map[string]string{"team": "payments"},
			CreationTimestamp: metav1.NewTime(time.Now().Add(-3 * time.Hour))},
		Spec: v1alpha1.EnvironmentSpec{Services: []v1alpha1.Service{{Name: "api", Image: "berth-testapp:dev",
			Ports: []v1alpha1.ServicePort{{Name: "http", ContainerPort: 8080}}}}},
		Status: v1alpha1.EnvironmentStatus{
			Phase: v1alpha1.PhaseDegraded, Ready: "0/1", ObservedGeneration: 1, Host: "docker-2",
			Conditions: []metav1.Condition{{Type: "Ready", Status: "False", Reason: "ServiceFailing", Message: "api <exited>"}},
			Services: []v1alpha1.ServiceStatus{{Name: "api", ContainerID: strings.Repeat("ab", 32), State: "exited", LastExitCode: &exit,
				Ports: []v1alpha1.PortStatus{{Name: "http", ContainerPort: 8080, HostIP: "127.0.0.1", HostPort: 40001}}}},
			Events: []v1alpha1.EnvironmentEvent{{Time: metav1.Now(), Type: "Warning", Reason: "Restarted", Service: "api", Message: "restart api"}},
		},
	}
	render := func(page string, d pageData) string {
		t.Helper()
		var b bytes.Buffer
		if err := p.sets[page].ExecuteTemplate(&b, "layout", d); err != nil {
			t.Fatalf("render %s: %v", page, err)
		}
		return b.String()
	}

	out := render("overview", pageData{Page: "overview", Data: overviewData{Summary: countPhases([]*v1alpha1.Environment{env}), Rows: []envRow{rowOf(env)}}})
	for _, want := range []string{`data-name="shop"`, `<span class="badge warn">Degraded</span>`, `<b>1</b> Degraded`, "ServiceFailing: api &lt;exited&gt;", "3h", `<td class="host">docker-2</td>`} {
		if !strings.Contains(out, want) {
			t.Errorf("overview lacks %q", want)
		}
	}

	out = render("env", pageData{Page: "env", Env: "shop", Data: envData{View: viewOf(env)}})
	for _, want := range []string{`<code>abababababab</code>`, `<span class="badge bad">exited</span>`, `>137<`,
		`href="http://127.0.0.1:40001"`, "(observed 1)", `data-service="api"`, "containerPort: 8080", "Restarted", `<dd class="host">docker-2</dd>`} {
		if !strings.Contains(out, want) {
			t.Errorf("env page lacks %q", want)
		}
	}

	live := buildEngineLive(nil, 120, governor.Stats{Profile: "desktop", Limit: 3, MaxLimit: 3}, informer.Stats{Synced: true})
	out = render("engine", pageData{Page: "engine", Data: engineData{InfoErr: "daemon down", Live: live}})
	for _, want := range []string{"Docker does not answer: daemon down", "<b>desktop</b> profile", "Workqueue depth", "No Docker calls yet."} {
		if !strings.Contains(out, want) {
			t.Errorf("engine page lacks %q", want)
		}
	}
	out = render("engine", pageData{Page: "engine", Data: engineData{Info: docker.DaemonInfo{ServerVersion: "29.0.0", MemTotal: 8 << 30},
		Reserved: reservation{Containers: 2, Limit: 1 << 30}, ReservedPct: 12.5, Live: live}})
	if !strings.Contains(out, `<b id="reserved">1 GiB</b>`) || !strings.Contains(out, "against 8 GiB daemon memory (12%)") {
		t.Errorf("engine page reservation wrong")
	}

	if _, err := p.render("env", "memory", memoryData{Rows: []memoryRow{{Service: "api", Used: 3 << 20, Limit: 48 << 20, Percent: 6.25, Class: "ok"}}, At: time.Now()}); err != nil {
		t.Errorf("memory fragment: %v", err)
	}
	render("error", pageData{Page: "error", Data: map[string]string{"Title": "Not found", "Message": "gone"}})
}
