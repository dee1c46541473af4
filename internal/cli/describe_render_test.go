package cli

import (
	"regexp"
	"strings"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"

	"berth.dev/berth/apis/v1alpha1"
)

var fixtureNow = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

func ago(d time.Duration) metav1.Time { return metav1.NewTime(fixtureNow.Add(-d)) }

func ptr[T any](v T) *T { return &v }

// fixtureEnvironment is a Degraded three-service Environment: a completed
// job, a ready database, and an api that keeps restarting.
func fixtureEnvironment() *v1alpha1.Environment {
	return &v1alpha1.Environment{
		TypeMeta: metav1.TypeMeta{APIVersion: "berth.dev/v1alpha1", Kind: "Environment"},
		ObjectMeta: metav1.ObjectMeta{
			Name:              "checkout-it",
			Labels:            map[string]string{"team": "payments", "tier": "it"},
			Annotations:       map[string]string{lastAppliedAnnotation: `{"huge":"json"}`},
			Generation:        3,
			CreationTimestamp: ago(10 * time.Minute),
		},
		Spec: v1alpha1.EnvironmentSpec{
			Services: []v1alpha1.Service{
				{Name: "migrate", Image: "berth-testapp:dev", RestartPolicy: v1alpha1.RestartNever},
				{Name: "db", Image: "postgres:16-alpine",
					VolumeMounts: []v1alpha1.VolumeMount{{Name: "pgdata", MountPath: "/var/lib/postgresql/data"}}},
				{Name: "api", Image: "berth-testapp:dev"},
				{Name: "cache", Image: "redis:7"},
			},
			Volumes:              []v1alpha1.Volume{{Name: "pgdata"}},
			Teardown:             v1alpha1.Teardown{RetainVolumes: true},
			TTLSecondsAfterReady: ptr(int64(3600)),
		},
		Status: v1alpha1.EnvironmentStatus{
			Phase:              v1alpha1.PhaseDegraded,
			ObservedGeneration: 2,
			Ready:              "1/4",
			FirstReadyTime:     ptr(ago(8 * time.Minute)),
			Conditions: []metav1.Condition{
				{Type: "Ready", Status: metav1.ConditionFalse, Reason: "ServicesNotReady",
					Message: "1/4 services ready:\napi is restarting", LastTransitionTime: ago(5 * time.Minute)},
				{Type: "Degraded", Status: metav1.ConditionTrue, Reason: "CrashLoop", LastTransitionTime: ago(90 * time.Second)},
			},
			Services: []v1alpha1.ServiceStatus{
				{Name: "migrate", ContainerID: "aaaaaaaaaaaa1111", State: "exited", LastExitCode: ptr(int32(0))},
				{Name: "db", ContainerID: "bbbbbbbbbbbb2222", State: "running", Ready: true,
					Ports: []v1alpha1.PortStatus{{Name: "sql", ContainerPort: 5432}}},
				{Name: "api", ContainerID: "0123456789abcdef0123", State: "running", RestartCount: 2,
					LastExitCode: ptr(int32(137)), Message: "probe failed:\n connection refused",
					Ports: []v1alpha1.PortStatus{
						{Name: "http", ContainerPort: 8080, Protocol: v1alpha1.ProtocolTCP, HostIP: "127.0.0.1", HostPort: 32768},
						{Name: "dns", ContainerPort: 53, Protocol: v1alpha1.ProtocolUDP, HostIP: "127.0.0.1", HostPort: 32769},
					}},
				{Name: "old", ContainerID: "cccccccccccc3333", State: "exited", Message: "removed from spec"},
			},
			Events: []v1alpha1.EnvironmentEvent{
				{Time: ago(9 * time.Minute), Type: "Normal", Reason: "Created", Service: "db", Message: "created container berth_checkout-it_db"},
				{Time: ago(2 * time.Minute), Type: "Warning", Reason: "Restarted", Service: "api", Message: "container exited with 137, restarted"},
				{Time: ago(30 * time.Second), Type: "Normal", Reason: "Progressing", Message: "generation 3 observed"},
			},
		},
	}
}

// hasLine reports whether out has a line whose fields, split on runs of
// two or more spaces (the table's column gaps), are exactly want.
func hasLine(out string, want ...string) bool {
	gap := regexp.MustCompile(` {2,}`)
	for _, line := range strings.Split(out, "\n") {
		got := gap.Split(strings.TrimSpace(line), -1)
		if strings.Join(got, "|") == strings.Join(want, "|") {
			return true
		}
	}
	return false
}

func TestRenderEnvironment(t *testing.T) {
	out, err := RenderEnvironment(fixtureEnvironment(), true, fixtureNow)
	if err != nil {
		t.Fatalf("RenderEnvironment: %v", err)
	}
	t.Log("\n" + out)

	want := [][]string{
		{"Name:", "checkout-it"},
		{"Labels:", "team=payments"},
		{"tier=it"},
		{"Annotations:", "<none>"},
		{"Phase:", "Degraded"},
		{"Ready:", "1/4"},
		{"Generation:", "3"},
		{"Observed Generation:", "2 (generation 3 not observed yet)"},
		{"Network:", "berth_checkout-it"},
		{"TTL:", "60m after first Ready (expires in 52m)"},
		// services, in spec order, then the one only status knows
		{"Name", "State", "Ready", "Restarts", "Container", "Ports", "Last Exit", "Message"},
		{"migrate", "exited", "false", "0", "aaaaaaaaaaaa", "-", "0", "-"},
		{"db", "running", "true", "0", "bbbbbbbbbbbb", "5432/tcp", "-", "-"},
		{"api", "running", "false", "2", "0123456789ab",
			"127.0.0.1:32768->8080/tcp, 127.0.0.1:32769->53/udp", "137", "probe failed: connection refused"},
		{"cache", "-", "false", "0", "-", "-", "-", "-"},
		{"old", "exited", "false", "0", "cccccccccccc", "-", "-", "removed from spec"},
		{"pgdata", "berth_checkout-it_pgdata", "retained", "db:/var/lib/postgresql/data"},
		{"Type", "Status", "Reason", "Message", "Last Transition"},
		{"Ready", "False", "ServicesNotReady", "1/4 services ready: api is restarting", "5m ago"},
		{"Degraded", "True", "CrashLoop", "-", "90s ago"},
		{"Age", "Type", "Reason", "Service", "Message"},
		{"9m", "Normal", "Created", "db", "created container berth_checkout-it_db"},
		{"2m", "Warning", "Restarted", "api", "container exited with 137, restarted"},
		{"30s", "Normal", "Progressing", "-", "generation 3 observed"},
	}
	for _, w := range want {
		if !hasLine(out, w...) {
			t.Errorf("no line %q in the output", strings.Join(w, "  "))
		}
	}

	// Sections come in kubectl's order: details, then tables, events last.
	order := []string{"Name:", "Services:", "Volumes:", "Conditions:", "Events:"}
	last := -1
	for _, s := range order {
		i := strings.Index(out, "\n"+s)
		if s == "Name:" {
			i = strings.Index(out, s)
		}
		if i <= last {
			t.Errorf("section %q out of order", s)
		}
		last = i
	}
	if strings.Contains(out, "huge") {
		t.Error("the last-applied-configuration annotation was printed")
	}
}

func TestRenderEnvironmentEmptyAndTerminating(t *testing.T) {
	env := &v1alpha1.Environment{ObjectMeta: metav1.ObjectMeta{
		Name:              "bare",
		CreationTimestamp: ago(time.Hour),
		DeletionTimestamp: ptr(ago(20 * time.Second)),
		Finalizers:        []string{v1alpha1.Finalizer},
	}}
	env.Spec.TTLSecondsAfterReady = ptr(int64(60))
	out, err := RenderEnvironment(env, true, fixtureNow)
	if err != nil {
		t.Fatalf("RenderEnvironment: %v", err)
	}
	t.Log("\n" + out)
	for _, w := range [][]string{
		{"Labels:", "<none>"},
		{"Phase:", "<none>"},
		{"Services:", "<none>"},
		{"Volumes:", "<none>"},
		{"Conditions:", "<none>"},
		{"Events:", "<none>"},
		{"TTL:", "60s after first Ready (not Ready yet)"},
	} {
		if !hasLine(out, w...) {
			t.Errorf("no line %q in the output", strings.Join(w, "  "))
		}
	}
	if !regexp.MustCompile(`(?m)^Terminating: +since .* \(20s ago\) \(finalizers: berth\.dev/teardown\)$`).MatchString(out) {
		t.Error("no Terminating line naming the finalizer")
	}

	quiet, err := RenderEnvironment(env, false, fixtureNow)
	if err != nil {
		t.Fatalf("RenderEnvironment: %v", err)
	}
	if strings.Contains(quiet, "Events:") {
		t.Error("--show-events=false still printed Events")
	}
}

func TestTTLExpired(t *testing.T) {
	env := fixtureEnvironment()
	env.Spec.TTLSecondsAfterReady = ptr(int64(60))
	if got, want := ttl(env, fixtureNow), "60s after first Ready (expired 7m ago)"; got != want {
		t.Errorf("ttl = %q, want %q", got, want)
	}
}

func TestDecodeEnvironment(t *testing.T) {
	content, err := runtime.DefaultUnstructuredConverter.ToUnstructured(fixtureEnvironment())
	if err != nil {
		t.Fatalf("ToUnstructured: %v", err)
	}
	env, err := decodeEnvironment(&unstructured.Unstructured{Object: content})
	if err != nil {
		t.Fatalf("decodeEnvironment: %v", err)
	}
	if env.Name != "checkout-it" || len(env.Status.Services) != 4 || *env.Status.Services[2].LastExitCode != 137 {
		t.Errorf("decoded %+v", env)
	}

	content["kind"] = "Secret"
	if _, err := decodeEnvironment(&unstructured.Unstructured{Object: content}); err == nil {
		t.Error("decodeEnvironment accepted a kind berth does not register")
	}
}
