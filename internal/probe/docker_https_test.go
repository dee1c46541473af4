package probe

import (
	"context"
	"strings"
	"testing"

	"github.com/go-logr/logr/testr"
	"k8s.io/apimachinery/pkg/util/intstr"

	v1 "berth.dev/berth/apis/v1alpha1"
)

// TestHTTPSAgainstDocker probes testapp's --https-port, whose certificate
// is self-signed at start: nothing trusts it, so a verifying probe must
// fail naming the certificate problem, and only insecureSkipVerify makes
// the container ready. The manager runs the probes, as for a service.
func TestHTTPSAgainstDocker(t *testing.T) {
	tc := startTestContainer(t)
	ctx := context.Background()
	eventually(t, "testapp to serve", func() bool {
		return Run(ctx, httpProbe("/healthz", intstr.FromString("http")), tc.target()).Success
	})
	httpsProbe := func(skip bool) *v1.Probe {
		p := httpProbe("/healthz", intstr.FromString("https"))
		p.HTTPGet.Scheme = v1.URISchemeHTTPS
		p.HTTPGet.InsecureSkipVerify = skip
		p.PeriodSeconds, p.FailureThreshold = 1, 2
		return p
	}
	tg := tc.target()
	tg.Execer = nil

	m, err := NewManager(ctx, Options{Logger: testr.New(t), OnChange: (&changes{}).on})
	if err != nil {
		t.Fatal(err)
	}
	defer noWorkersLeft(t)
	defer m.Stop()
	result := func() Status { st, _ := m.Result(tc.c.ID); return st }

	t.Run("verifying probe fails on the certificate", func(t *testing.T) {
		m.Sync("probetest", []Spec{{Service: "app", Probe: httpsProbe(false), Target: tg, StartedAt: tc.c.StartedAt}})
		// Ready is sticky until failureThreshold failures, so a success
		// anywhere in these three probes would show as Ready in a poll.
		eventually(t, "three failed probes", func() bool {
			st := result()
			if st.Ready || st.ConsecutiveSuccesses > 0 {
				t.Fatalf("a verifying HTTPS probe made the container ready: %+v", st)
			}
			return st.ConsecutiveFailures >= 3
		})
		st := result()
		if !strings.Contains(st.Message, "x509") || !strings.Contains(st.Message, "unknown authority") {
			t.Errorf("message %q, want the x509 unknown authority error", st.Message)
		}
		if !strings.Contains(st.Message, tc.c.IPAddress+":8443") {
			t.Errorf("message %q does not name the address probed (%s:8443)", st.Message, tc.c.IPAddress)
		}
	})
	t.Run("insecureSkipVerify becomes ready", func(t *testing.T) {
		m.Sync("probetest", []Spec{{Service: "app", Probe: httpsProbe(true), Target: tg, StartedAt: tc.c.StartedAt}})
		eventually(t, "ready", func() bool { return result().Ready })
		// The endpoint behind TLS is testapp's real /healthz.
		tc.setHealth(t, false)
		defer tc.setHealth(t, true)
		eventually(t, "not ready over HTTPS", func() bool { return !result().Ready })
		if st := result(); st.Message != "HTTP probe failed with status 503" {
			t.Errorf("unhealthy over HTTPS: %+v", st)
		}
	})
	t.Run("http to the https port fails", func(t *testing.T) {
		p := httpProbe("/healthz", intstr.FromString("https"))
		r := Run(ctx, p, tg)
		// Go's TLS server answers a plain HTTP request with a 400.
		if r.Success || !strings.Contains(r.Message, "400") {
			t.Errorf("plain HTTP to the TLS port: %+v, want a failure with status 400", r)
		}
		m.Sync("probetest", []Spec{{Service: "app", Probe: p, Target: tg, StartedAt: tc.c.StartedAt}})
		eventually(t, "two failed probes", func() bool {
			st := result()
			if st.Ready {
				t.Fatalf("plain HTTP to the TLS port made the container ready: %+v", st)
			}
			return st.ConsecutiveFailures >= 2
		})
	})
}
