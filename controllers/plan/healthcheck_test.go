package plan

import (
	"reflect"
	"strings"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"berth.dev/berth/apis/v1alpha1"
)

func TestBuildContainerConfigHealthcheck(t *testing.T) {
	for _, tc := range []struct {
		name string
		h    *v1alpha1.Healthcheck
		want *Healthcheck
	}{
		{"none", nil, nil},
		{"CMD with timings", &v1alpha1.Healthcheck{Test: []string{"CMD", "pg_isready", "-U", "postgres"}, IntervalSeconds: 2, TimeoutSeconds: 1, Retries: 5, StartPeriodSeconds: 10},
			&Healthcheck{Test: []string{"CMD", "pg_isready", "-U", "postgres"}, Interval: 2 * time.Second, Timeout: time.Second, Retries: 5, StartPeriod: 10 * time.Second}},
		{"CMD-SHELL", &v1alpha1.Healthcheck{Test: []string{"CMD-SHELL", "redis-cli ping"}},
			&Healthcheck{Test: []string{"CMD-SHELL", "redis-cli ping"}}},
		{"timings only keep the image's test", &v1alpha1.Healthcheck{IntervalSeconds: 1},
			&Healthcheck{Interval: time.Second}},
		{"disable", &v1alpha1.Healthcheck{Disable: true, IntervalSeconds: 3}, &Healthcheck{Test: []string{"NONE"}}},
		{"NONE", &v1alpha1.Healthcheck{Test: []string{"NONE"}, Retries: 2}, &Healthcheck{Test: []string{"NONE"}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			env := demoEnv()
			service(env, "api").Healthcheck = tc.h
			if got := mustConfig(t, env, "api").Healthcheck; !reflect.DeepEqual(got, tc.want) {
				t.Errorf("healthcheck %+v, want %+v", got, tc.want)
			}
		})
	}
}

// TestSpecHashHealthcheck: a healthcheck recreates only its service, no
// healthcheck keeps the hash containers had before the field existed, and
// both spellings of "off" are the same container.
func TestSpecHashHealthcheck(t *testing.T) {
	hash := func(env *v1alpha1.Environment, name string) string {
		return mustConfig(t, env, name).Labels[v1alpha1.LabelSpecHash]
	}
	base := demoEnv()
	env := demoEnv()
	service(env, "api").Healthcheck = &v1alpha1.Healthcheck{Test: []string{"CMD", "/testapp", "check"}}
	if hash(env, "api") == hash(base, "api") {
		t.Error("a healthcheck left api's hash unchanged: the container would keep the image's check")
	}
	for _, s := range []string{"db", "migrate"} {
		if hash(env, s) != hash(base, s) {
			t.Errorf("%s's hash changed with api's healthcheck", s)
		}
	}
	other := demoEnv()
	service(other, "api").Healthcheck = &v1alpha1.Healthcheck{Test: []string{"CMD", "/testapp", "check"}, Retries: 2}
	if hash(other, "api") == hash(env, "api") {
		t.Error("retries did not change the hash")
	}
	a, b := demoEnv(), demoEnv()
	service(a, "api").Healthcheck = &v1alpha1.Healthcheck{Disable: true}
	service(b, "api").Healthcheck = &v1alpha1.Healthcheck{Test: []string{"NONE"}}
	if hash(a, "api") != hash(b, "api") {
		t.Error("disable and [NONE] hash differently")
	}
	// The golden hashes of containers without the field must not move:
	// the view omits it, so the hash equals one computed without it.
	cfg := mustConfig(t, base, "api")
	if cfg.Healthcheck != nil {
		t.Fatalf("healthcheck %+v without a spec one", cfg.Healthcheck)
	}
}

// healthEnv is a one-service Environment whose web service has no
// readinessProbe, and whatever health Docker reports for its container.
func healthEnv(t *testing.T, health string, unknown, wasHealthy bool) (*v1alpha1.Environment, Observed) {
	t.Helper()
	env := simpleEnv("web")
	c := container(t, env, "web", "c-web", StateRunning)
	c.Health, c.HealthUnknown, c.HasBeenHealthy = health, unknown, wasHealthy
	obs := Observed{
		Network:    ownedNetwork(env),
		Volumes:    ownedVolumes(env),
		Containers: []ObservedContainer{c},
		Images:     map[string]ObservedImage{testImage: {Present: true}},
		Probes:     map[string]ProbeResult{},
		Memory:     map[string]ServiceMemory{},
	}
	return env, obs
}

func TestHealthcheckReadiness(t *testing.T) {
	for _, tc := range []struct {
		name       string
		health     string
		unknown    bool
		wasHealthy bool
		ready      bool
		degraded   bool
		message    string
	}{
		{"no healthcheck: running is Ready, as before", "", false, false, true, false, ""},
		{"Docker's none", "none", false, false, true, false, ""},
		{"just started, not inspected yet", "", true, false, false, false, "whether the container has a healthcheck"},
		{"starting", HealthStarting, false, false, false, false, "waiting for the container's healthcheck"},
		{"healthy", HealthHealthy, false, false, true, false, ""},
		{"unhealthy during start-up", HealthUnhealthy, false, false, false, false, "unhealthy"},
		{"unhealthy after healthy", HealthUnhealthy, false, true, false, true, "unhealthy"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			env, obs := healthEnv(t, tc.health, tc.unknown, tc.wasHealthy)
			st := status(t, env, obs, t0)
			web := svcStatus(st, "web")
			if web.Ready != tc.ready {
				t.Errorf("ready %v, want %v (message %q)", web.Ready, tc.ready, web.Message)
			}
			if tc.message != "" && !strings.Contains(web.Message, tc.message) {
				t.Errorf("message %q, want it to say %q", web.Message, tc.message)
			}
			wantReady := metav1.ConditionFalse
			if tc.ready {
				wantReady = metav1.ConditionTrue
			}
			if c := cond(t, st, v1alpha1.ConditionReady); c.Status != wantReady {
				t.Errorf("Ready condition %s, want %s", c.Status, wantReady)
			}
			wantDegraded := metav1.ConditionFalse
			if tc.degraded {
				wantDegraded = metav1.ConditionTrue
			}
			if c := cond(t, st, v1alpha1.ConditionDegraded); c.Status != wantDegraded {
				t.Errorf("Degraded %s (%s), want %s", c.Status, c.Message, wantDegraded)
			}
			// berth never restarts or recreates an unhealthy container
			// itself: nothing but waiting is planned.
			p := Compute(env, obs, testOptions(), t0)
			for _, op := range p.Ops {
				if op.Service == "web" {
					t.Errorf("planned %s for web; an unhealthy container is reported, not replaced", op.Kind)
				}
			}
		})
	}
}

// TestHealthcheckGatesDependents: dependsOn Ready on a service with a
// healthcheck waits for Docker's healthy.
func TestHealthcheckGatesDependents(t *testing.T) {
	env := demoEnv()
	db := service(env, "db")
	db.ReadinessProbe = nil
	db.Healthcheck = &v1alpha1.Healthcheck{Test: []string{"CMD", "/testapp", "check", "tcp://127.0.0.1:5432"}}
	obs := withoutService(converged(t, env), "api")
	for i := range obs.Containers {
		if obs.Containers[i].ID == "c-db" {
			obs.Containers[i].Health = HealthStarting
		}
	}
	p := Compute(env, obs, testOptions(), t0)
	if _, i := findOp(p, OpCreateContainer, "api"); i >= 0 {
		t.Fatal("api created while db's healthcheck is still starting")
	}
	if w, ok := p.Waiting["api"]; !ok || w.Dependency != "db" {
		t.Errorf("api waiting %+v, want it waiting for db", p.Waiting["api"])
	}
	for i := range obs.Containers {
		if obs.Containers[i].ID == "c-db" {
			obs.Containers[i].Health = HealthHealthy
		}
	}
	p = Compute(env, obs, testOptions(), t0)
	if _, i := findOp(p, OpCreateContainer, "api"); i < 0 {
		t.Errorf("api not created once db is healthy: %+v, waiting %+v", p.Ops, p.Waiting)
	}
}
